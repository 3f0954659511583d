"""Seeded fuzzing of all five file kinds a user can hand herdemos: demo files, policies,
params.json, checkpoint state and progress.csv. Every input is refused in one line or loads
(a loaded policy acts with finite numbers, a loaded checkpoint trains a cycle); none may raise
anything else. The inputs come from :mod:`benchmarks.fuzz_inputs`, which ``benchmarks/fuzz.py``
runs ten thousand of, with timeouts and memory counts."""

import time
from collections import Counter

import pytest

from benchmarks.fuzz import draw, outcome, valid_examples
from benchmarks.fuzz_inputs import KINDS

from point_env import register

PER_KIND = 200
SEED = 20261203


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return valid_examples(tmp_path_factory.mktemp("valid"), register(), "checkpoint", 256)


@pytest.mark.parametrize("kind", KINDS)
def test_fuzzed_files_are_refused_in_one_line_or_load(ctx, tmp_path, kind):
    valid = {"checkpoint": {}}.get(kind, ctx[kind].get("bytes"))
    assert outcome(kind, valid, ctx, tmp_path / "valid") == "accepted"
    seen: Counter = Counter()
    for index in range(PER_KIND):
        data = draw(kind, ctx, SEED, index)
        start = time.perf_counter()
        try:
            seen[outcome(kind, data, ctx, tmp_path / "in")] += 1
        except Exception as e:
            raise AssertionError(f"{kind} input {index} (seed {SEED}): {e!r}") from e
        assert time.perf_counter() - start < 10, f"{kind} input {index} took too long"
    assert seen["refused"] > 0 and sum(seen.values()) == PER_KIND, seen
    print(kind, dict(seen))
