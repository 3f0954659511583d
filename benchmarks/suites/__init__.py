"""The live benchmark suites, declared as data in one module per task family.

``SUITES`` maps each short name to its :class:`Suite`; ``FAMILIES`` keeps them by family for
the results index. Retired suites are not declared: their results sit in
``benchmarks/results/archive/`` under their old names.
"""

from __future__ import annotations

from benchmarks.suites import demo_sources, fetch, stacking, wam
from benchmarks.suites.labels import parse_flags, suite_config, suite_label
from benchmarks.suites.record import CACHED_DEMO_EPISODES, Suite

FAMILIES: dict[str, dict[str, Suite]] = {
    "Fetch basics": fetch.SUITES,
    "Block stacking": stacking.SUITES,
    "WAM arm": wam.SUITES,
    "Demo sources": demo_sources.SUITES,
}
SUITES: dict[str, Suite] = {
    name: suite for family in FAMILIES.values() for name, suite in family.items()
}
REFERENCES = fetch.REFERENCES
"""Reported points drawn on a comparison's figure, by group."""

__all__ = [
    "CACHED_DEMO_EPISODES",
    "FAMILIES",
    "REFERENCES",
    "SUITES",
    "Suite",
    "parse_flags",
    "suite_config",
    "suite_label",
]
