"""How each demonstrator fares under the learner's own exploration.

A policy that clones a demonstrator is trained on rollouts made with exploration noise, and its
deterministic actions differ a little from the demonstrator's. Both matter only as much as the
demonstrated behaviour is sensitive to small action errors. This measures that sensitivity
directly: each scripted demonstrator of the demo-source benchmark runs with the learner's default
Gaussian noise (``noise_eps``) and then with its random actions too (``random_eps``), and the
success of each is compared with the clean demonstrator's.

python -m benchmarks.demo_robustness        # writes benchmarks/results/demo-sources/robustness.json
"""

from __future__ import annotations

from typing import Any

import click
from tqdm import tqdm

from benchmarks.report import RESULTS
from benchmarks.suites.demo_sources import TASKS
from herdemos.config import TrainConfig
from herdemos.data_generation.controllers import STYLES
from herdemos.data_generation.scripted_demos import generate_demos
from herdemos.provenance import provenance
from herdemos.util import atomic_write_json

OUT = RESULTS / "demo-sources" / "robustness.json"
DEFAULTS = TrainConfig()
CONDITIONS: dict[str, tuple[float, float]] = {
    "clean": (0.0, 0.0),
    "learner noise": (DEFAULTS.noise_eps, 0.0),
    "learner exploration": (DEFAULTS.noise_eps, DEFAULTS.random_eps),
}
"""(Gaussian std as a fraction of max_u, probability of a random action): the learner's
defaults, read from the config so that the measurement follows them."""


def measure(episodes: int, seed: int) -> list[dict[str, Any]]:
    """Success of every (task, style) demonstrator under each condition."""
    jobs = [(t, s, c) for t in TASKS for s in STYLES for c in CONDITIONS]
    rows = []
    for task, style, condition in tqdm(jobs, desc="demonstrators", unit="run"):
        noise, random_prob = CONDITIONS[condition]
        data = generate_demos(
            TASKS[task].env, episodes, seed, noise=noise, style=style, random_prob=random_prob
        )
        rows.append(
            {
                "task": task,
                "style": style,
                "condition": condition,
                "noise": noise,
                "random_prob": random_prob,
                "success": round(float(data.success_rate), 3),
            }
        )
    return rows


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--episodes", default=100, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0))
def main(episodes: int, seed: int) -> None:
    """Each demonstrator's success when it acts with the learner's exploration noise."""
    rows = measure(episodes, seed)
    command = ["python", "-m", "benchmarks.demo_robustness", "--episodes", f"{episodes}"]
    atomic_write_json(
        OUT,
        {
            **provenance([*command, "--seed", f"{seed}"]),
            "what": (
                "success of each scripted demonstrator (fetch_data_generation.py --style) over "
                f"{episodes} episodes (env seeds {seed}..{seed + episodes - 1}), clean, with the "
                "learner's Gaussian exploration noise, and with its random actions as well"
            ),
            "results": rows,
        },
    )
    for row in rows:
        click.echo(
            f"{row['task']:<10} {row['style']:<9} {row['condition']:<20} {row['success']:.2f}"
        )
    click.echo(f"wrote {OUT}")


if __name__ == "__main__":
    main()
