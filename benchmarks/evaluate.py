"""Held-out evaluation of a benchmark run's saved policies, for numbers worth quoting.

python -m benchmarks.evaluate stack2v1-tuned-noisy0.1

Training logs 10 deterministic test episodes per epoch: too few to tell 0.8 from 0.95, and the
best of hundreds of such epochs is mostly luck. This script instead

1. runs every saved ``policy_<epoch>.pkl`` of the suite's runs (``runs/benchmarks/SUITE/seed*``)
   on the same ``--episodes`` *selection* episodes (seeds 100000, 100001, ...), which picks the
   best checkpoint fairly (every candidate sees the same start states); with
   ``--average_last N`` each seed's mean of its last N checkpoints (``experiment/average.py``)
   competes too;
2. runs that checkpoint again on ``--report_episodes`` fresh *report* episodes (seeds 200000,
   ...), none of which played a part in choosing it, so the reported rate is unbiased.

It writes ``benchmarks/results/<suite>/eval.json`` and a figure ``eval.png``: the
selection rate of each checkpoint with 95% Wilson intervals over the training curve.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np

from benchmarks.report import RESULTS, moving_average, provenance, save_figure
from benchmarks.suites import SUITES
from herdemos.environment import EnvInfo, make_env
from herdemos.logger import read_progress_checked
from herdemos.policy import Policy, average_policies, load_policy
from herdemos.util import HerdemosError, atomic_write_json, check_output_file, os_error_line

RUNS = Path(__file__).resolve().parents[1] / "runs" / "benchmarks"
SELECTION_SEED = 100_000  # far from the seeds training and its test episodes use (0, 1, ...)
REPORT_SEED = 200_000
CHECKPOINT_NAME = re.compile(r"policy_(\d+)\.pkl$")


@dataclass(frozen=True)
class Checkpoint:
    """One saved policy of one training seed."""

    seed_dir: Path
    epoch: int
    env_steps: int

    @property
    def path(self) -> Path:
        return self.seed_dir / f"policy_{self.epoch}.pkl"


@dataclass(frozen=True)
class Candidate:
    """What the selection pass compares: one checkpoint, or the mean of a seed's last few."""

    members: tuple[Checkpoint, ...]

    @property
    def last(self) -> Checkpoint:
        return self.members[-1]

    @property
    def is_average(self) -> bool:
        return len(self.members) > 1

    @property
    def path(self) -> Path:
        """Where the candidate's policy file is (averages are written there when chosen)."""
        if not self.is_average:
            return self.last.path
        return self.last.seed_dir / f"policy_mean_{self.members[0].epoch}-{self.last.epoch}.pkl"

    def policy(self) -> Policy:
        if not self.is_average:
            return load_policy(self.last.path)
        paths = [c.path for c in self.members]
        return average_policies([load_policy(p) for p in paths], [str(p) for p in paths])

    def entry(self) -> dict:
        c = self.last
        extra = {"averaged_epochs": [m.epoch for m in self.members]} if self.is_average else {}
        return {"seed_dir": c.seed_dir.name, "epoch": c.epoch, "env_steps": c.env_steps, **extra}


def env_steps_by_epoch(progress: Path) -> dict[int, int]:
    """Env steps trained by each epoch, from a run's ``progress.csv`` (none without one).

    A damaged log is a one-line error naming it rather than a traceback: its numbers place the
    checkpoints on the figure's env-step axis, so they cannot be guessed.

    Raises:
        HerdemosError: the file cannot be read or holds no numeric epoch / env-step columns.
    """
    rows = read_progress_checked(progress, ("epoch", "total_env_steps"))
    return {int(r["epoch"]): int(r["total_env_steps"]) for r in rows}


def find_checkpoints(suite_dir: Path, seed: int | None = None) -> list[Checkpoint]:
    """Every ``policy_<epoch>.pkl`` under ``suite_dir/seed*/`` (only ``seed<seed>/`` if given),
    in (seed, epoch) order, with the env steps trained at that epoch from the run's
    progress.csv."""
    found = []
    pattern = "seed*" if seed is None else f"seed{seed}"
    for seed_dir in sorted(d for d in suite_dir.glob(pattern) if d.is_dir()):
        steps = env_steps_by_epoch(seed_dir / "progress.csv")
        epochs = sorted(
            int(m.group(1)) for p in seed_dir.iterdir() if (m := CHECKPOINT_NAME.match(p.name))
        )
        found += [Checkpoint(seed_dir, e, steps.get(e, 0)) for e in epochs]
    return found


def check_average_last(average_last: int) -> None:
    """``--average_last`` is 0 (off) or at least 2: the "mean" of one checkpoint is that
    checkpoint, so 1 would be accepted and silently do nothing.

    Raises:
        HerdemosError: naming the flag.
    """
    if average_last == 1:
        raise HerdemosError(
            "--average_last 1: a mean needs at least 2 checkpoints; give 0 (off) or 2 or more"
        )


def candidates(checkpoints: list[Checkpoint], average_last: int) -> list[Candidate]:
    """Each checkpoint alone, then per seed the mean of its last ``average_last`` checkpoints
    (none when ``average_last`` < 2 or a seed has fewer)."""
    singles = [Candidate((c,)) for c in checkpoints]
    if average_last < 2:
        return singles
    averages = []
    for seed_dir in sorted({c.seed_dir for c in checkpoints}):
        own = [c for c in checkpoints if c.seed_dir == seed_dir]
        if len(own) >= average_last:
            averages.append(Candidate(tuple(own[-average_last:])))
    return singles + averages


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a binomial rate: unlike the normal approximation it stays
    inside [0, 1] and is honest near 0 and 1, where these success rates live."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def episode_successes(policy: Policy, env_id: str, first_seed: int, episodes: int) -> list[bool]:
    """Success at the last step of each deterministic episode, seeded first_seed, +1, ..."""
    env = make_env(env_id)
    horizon = EnvInfo.of(env, env_id).horizon
    out = []
    try:
        for i in range(episodes):
            obs, _ = env.reset(seed=first_seed + i)
            info: dict = {}
            for _ in range(horizon):
                obs, _, _, _, info = env.step(policy.act(obs))
            out.append(bool(info.get("is_success", False)))
    finally:
        env.close()
    return out


def rate_entry(successes: list[bool]) -> dict:
    k, n = int(sum(successes)), len(successes)
    low, high = wilson_interval(k, n)
    return {"successes": k, "episodes": n, "success_rate": k / n, "ci95": [low, high]}


def evaluate_suite(
    suite_dir: Path,
    episodes: int,
    report_episodes: int,
    min_epoch: int = 0,
    average_last: int = 0,
    *,
    env_id: str,
    seed: int | None = None,
) -> dict:
    """Selection pass over the checkpoints under ``suite_dir`` from epoch ``min_epoch`` on (and,
    with ``average_last`` >= 2, each seed's mean of its last ``average_last``), then the report
    pass on the chosen one. A chosen average is written next to its checkpoints. With ``seed``,
    only that training seed's checkpoints compete (a second seed's own result).

    Episodes run on ``env_id``, the suite's env, never on an id read from a policy file (an
    entry point there would choose a module to import); a policy for another env is refused.
    """
    check_average_last(average_last)
    suite = suite_dir.name
    checkpoints = [c for c in find_checkpoints(suite_dir, seed) if c.epoch >= min_epoch]
    if not checkpoints:
        where = suite_dir if seed is None else suite_dir / f"seed{seed}"
        raise HerdemosError(
            f"{where}: no policy_<epoch>.pkl files from epoch {min_epoch} on; "
            f"run python -m benchmarks.run {suite}"
        )
    pool = candidates(checkpoints, average_last)
    if average_last >= 2 and not any(c.is_average for c in pool):
        raise HerdemosError(
            f"--average_last {average_last}: no seed of {suite_dir} has that many checkpoints "
            f"from epoch {min_epoch} on"
        )
    selection = []
    with click.progressbar(pool, label=f"{suite}: {episodes} episodes each") as bar:
        for c in bar:
            policy = c.policy()
            if policy.env_id != env_id:
                raise HerdemosError(
                    f"{c.last.path}: a policy for {policy.env_id}, not the suite's {env_id}"
                )
            successes = episode_successes(policy, env_id, SELECTION_SEED, episodes)
            selection.append({**c.entry(), **rate_entry(successes)})
    # Ties go to the earlier checkpoint (less training for the same measured success), and at
    # the same epoch to the single checkpoint (the simpler policy).
    index = max(
        range(len(selection)),
        key=lambda i: (
            selection[i]["successes"],
            -selection[i]["env_steps"],
            not pool[i].is_average,
        ),
    )
    best, chosen = selection[index], pool[index]
    policy = chosen.policy()
    if chosen.is_average:
        policy.save(chosen.path)
    click.echo(f"best on selection episodes: {chosen.path} ({best['success_rate']:.2f})")
    report = episode_successes(policy, env_id, REPORT_SEED, report_episodes)
    return {
        "suite": suite,
        "env": env_id,
        "selection_first_seed": SELECTION_SEED,
        "report_first_seed": REPORT_SEED,
        "min_epoch": min_epoch,
        "average_last": average_last,
        "checkpoints": [s for s, c in zip(selection, pool, strict=True) if not c.is_average],
        "averages": [s for s, c in zip(selection, pool, strict=True) if c.is_average],
        "chosen": {**best, "policy": str(chosen.path)},
        "report": rate_entry(report),
    }


def chosen_name(chosen: dict) -> str:
    """'epoch 200' or 'mean of epochs 200-290' for the chosen candidate's entry."""
    if "averaged_epochs" in chosen:
        return f"mean of epochs {chosen['averaged_epochs'][0]}-{chosen['averaged_epochs'][-1]}"
    return f"epoch {chosen['epoch']}"


def rates_with_error_bars(entries: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Success rates of ``rate_entry`` dicts and their 95% intervals as matplotlib's ``yerr``
    (distances below and above each rate)."""
    rate = np.array([e["success_rate"] for e in entries])
    bounds = np.array([e["ci95"] for e in entries])
    return rate, np.stack([rate - bounds[:, 0], bounds[:, 1] - rate])


def plot_evaluation(payload: dict, training: dict | None, out: Path) -> None:
    """Selection success per checkpoint (95% intervals) against env steps, over the 10-epoch
    moving average of the training log's 10-episode test success, and the report result."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    if training:
        for seed, run in training["runs"].items():
            steps = np.array(run["env_steps"]) / 1000
            smooth = moving_average(np.array(run["success"]), 10)
            ax.plot(
                steps,
                smooth,
                color="grey",
                lw=1,
                label=f"training log {seed}: 10 ep/epoch, 10-epoch mean",
            )
    points = payload["checkpoints"]
    steps = np.array([p["env_steps"] for p in points]) / 1000
    n = points[0]["episodes"]
    ax.errorbar(
        steps,
        *rates_with_error_bars(points),
        fmt="o",
        ms=4,
        capsize=2,
        label=f"checkpoint, {n} selection episodes (95% CI)",
    )
    for average in payload.get("averages", []):
        first, last = average["averaged_epochs"][0], average["averaged_epochs"][-1]
        ax.errorbar(
            [average["env_steps"] / 1000],
            *rates_with_error_bars([average]),
            fmt="D",
            ms=7,
            capsize=2,
            color="tab:orange",
            label=f"mean of the checkpoints of epochs {first}-{last}, same episodes",
        )
    chosen, report = payload["chosen"], payload["report"]
    ax.errorbar(
        [chosen["env_steps"] / 1000],
        *rates_with_error_bars([report]),
        fmt="*",
        ms=14,
        color="black",
        capsize=3,
        label=f"chosen ({chosen_name(chosen)}), {report['episodes']} fresh episodes: "
        f"{report['success_rate']:.2f}",
    )
    ax.axhline(0.95, color="grey", lw=0.8, ls="--")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("env steps (thousands)")
    ax.set_ylabel("success rate")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(f"{payload['env']}: held-out evaluation of {payload['suite']}")
    fig.tight_layout()
    try:
        save_figure(fig, out)
    finally:
        plt.close(fig)


def known_suite(suite: str) -> str:
    """``suite`` if it names a training suite of benchmarks/run.py. SUITE becomes part of the
    paths read and written, so anything else (``/tmp/x/``, ``../x``) would read or write outside
    runs/benchmarks and benchmarks/results.

    Raises:
        HerdemosError: naming SUITE and where the list of suites is.
    """
    if suite not in SUITES:
        raise HerdemosError(
            f"SUITE {suite!r}: not a training suite; python -m benchmarks.run --list lists them"
        )
    return suite


def read_training_results(path: Path) -> dict | None:
    """The suite's training results (``<suite>/training.json``), whose curves the figure draws
    under the evaluation, or None when the suite has none yet. Read before the evaluation, so
    a damaged file costs a one-line error, not the minutes of episodes already run.

    Raises:
        HerdemosError: the file cannot be read or is not a training results JSON.
    """
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except OSError as e:
        raise HerdemosError(os_error_line(e)) from None
    except ValueError as e:  # bad JSON or bad UTF-8
        raise HerdemosError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("runs"), dict):
        raise HerdemosError(f'{path}: not a training results file (no "runs" object)')
    return data


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("suite")
@click.option(
    "--episodes",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Selection episodes per checkpoint.",
)
@click.option(
    "--report_episodes",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Fresh episodes for the chosen checkpoint.",
)
@click.option(
    "--min_epoch",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Skip checkpoints saved before this epoch (a long run's early ones).",
)
@click.option(
    "--average_last",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also try each seed's mean of its last N checkpoints (experiment/average.py): "
    "0 (off) or N >= 2.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Only this training seed's checkpoints; writes SUITE/eval-seed<N>.json and .png.  "
    "[default: all seeds compete]",
)
def main(
    suite: str,
    episodes: int,
    report_episodes: int,
    min_epoch: int,
    average_last: int,
    seed: int | None,
) -> None:
    """Evaluate SUITE's saved policies; write benchmarks/results/SUITE/eval.json and .png.

    SUITE is a training suite of benchmarks.run (python -m benchmarks.run --list)."""
    stem = "eval" if seed is None else f"eval-seed{seed}"
    try:
        known_suite(suite)
        json_path = check_output_file(RESULTS / suite / f"{stem}.json", "output")
        png_path = check_output_file(RESULTS / suite / f"{stem}.png", "output")
        training = read_training_results(RESULTS / suite / "training.json")
        payload = evaluate_suite(
            RUNS / suite,
            episodes,
            report_episodes,
            min_epoch,
            average_last,
            env_id=SUITES[suite].env,
            seed=seed,
        )
        command = [
            *("python", "-m", "benchmarks.evaluate", suite, "--episodes", str(episodes)),
            *("--report_episodes", str(report_episodes), "--min_epoch", str(min_epoch)),
            *("--average_last", str(average_last)),
            *(() if seed is None else ("--seed", str(seed))),
        ]
        payload = {**provenance(command), **payload}
        atomic_write_json(json_path, payload)
        plot_evaluation(payload, training, png_path)
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    r = payload["report"]
    click.echo(
        f"{payload['env']}: {chosen_name(payload['chosen'])} succeeds on {r['successes']}/"
        f"{r['episodes']} fresh episodes ({r['success_rate']:.2f}, 95% CI "
        f"{r['ci95'][0]:.2f}-{r['ci95'][1]:.2f}); wrote {json_path}"
    )


if __name__ == "__main__":
    main()
