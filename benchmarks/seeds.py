"""One held-out number for a suite trained with several seeds, from its per-seed evaluations.

python -m benchmarks.seeds push     # reads push/eval-seed<N>.json, writes push/eval-seeds.json

``python -m benchmarks.evaluate SUITE --seed N`` chooses each seed's policy on selection episodes
and runs it on fresh ones. This gathers those fresh-episode results into the suite's headline:
the mean of the seeds' success rates with a 95% Student-t interval over seeds (the spread
between training runs), and the pooled rate of all fresh episodes with its Wilson interval (the
spread between episodes only).
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

import click

from benchmarks.intervals import wilson_interval
from benchmarks.report import RESULTS
from herdemos.util import HerdemosError, atomic_write_text

OUTPUT = "eval-seeds.json"
SEED_FILE = re.compile(r"eval-seed(\d+)\.json")

T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
"""Two-sided 95% quantiles of Student's t by degrees of freedom (standard tables); with more
than 10 seeds the normal quantile 1.96 is close enough."""


def seed_results(folder: Path) -> dict[int, dict]:
    """Each seed's fresh-episode result from ``folder/eval-seed<N>.json``, by seed.

    Raises:
        HerdemosError: a file is not an evaluation (one line naming it).
    """
    results = {}
    for path in sorted(folder.glob("eval-seed*.json")):
        match = SEED_FILE.fullmatch(path.name)
        if not match:
            continue
        try:
            data = json.loads(path.read_text())
            report, chosen = data["report"], data["chosen"]
            results[int(match.group(1))] = {
                "epoch": chosen.get("epoch"),
                "successes": int(report["successes"]),
                "episodes": int(report["episodes"]),
            }
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise HerdemosError(
                f"{path}: not an evaluation file ({type(e).__name__}: {e})"
            ) from None
    return results


def summary(results: dict[int, dict]) -> dict:
    """The seed mean with its t interval, and the pooled rate with its Wilson interval."""
    rates = [r["successes"] / r["episodes"] for r in results.values()]
    mean = statistics.fmean(rates)
    if len(rates) > 1:
        half = T_975.get(len(rates) - 1, 1.96) * statistics.stdev(rates) / len(rates) ** 0.5
        seed_ci = [max(0.0, mean - half), min(1.0, mean + half)]
    else:
        seed_ci = None
    successes = sum(r["successes"] for r in results.values())
    episodes = sum(r["episodes"] for r in results.values())
    return {
        "seeds": {
            str(seed): {**r, "success_rate": r["successes"] / r["episodes"]}
            for seed, r in sorted(results.items())
        },
        "seed_mean": mean,
        "seed_mean_ci95": seed_ci,
        "pooled": {
            "successes": successes,
            "episodes": episodes,
            "success_rate": successes / episodes,
            "ci95": list(wilson_interval(successes, episodes)),
        },
    }


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("suite")
def main(suite: str) -> None:
    """Write SUITE/eval-seeds.json from SUITE/eval-seed<N>.json (one per training seed)."""
    folder = RESULTS / suite
    try:
        results = seed_results(folder)
        if not results:
            raise HerdemosError(
                f"{folder}: no eval-seed<N>.json; run python -m benchmarks.evaluate {suite} "
                "--seed N for each seed first"
            )
        data = {"suite": suite, **summary(results)}
        out = folder / OUTPUT
        atomic_write_text(out, json.dumps(data, indent=2) + "\n")
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    ci = data["seed_mean_ci95"]
    spread = f" (95% CI over seeds {ci[0]:.2f}-{ci[1]:.2f})" if ci else ""
    pooled = data["pooled"]
    click.echo(
        f"{suite}: mean of {len(results)} seeds {data['seed_mean']:.2f}{spread}; pooled "
        f"{pooled['successes']}/{pooled['episodes']} ({pooled['ci95'][0]:.2f}-"
        f"{pooled['ci95'][1]:.2f}); wrote {out}"
    )


if __name__ == "__main__":
    main()
