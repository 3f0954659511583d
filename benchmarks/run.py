"""Run a named benchmark suite and write JSON + PNG into benchmarks/results/.

python -m benchmarks.run pickplace-demos          # 3 seeds, BC + Q-filter, 100 demos
python -m benchmarks.run throughput
python -m benchmarks.run --list
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click

from benchmarks.report import (
    ORIGINAL_REPORTED,
    RESULTS,
    load_all_results,
    plot_training_results,
    provenance,
    summarize,
    summary_table,
    write_results,
)
from herdemos.logger import read_progress
from herdemos.run_lock import refuse_if_locked
from herdemos.util import HerdemosError, atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "runs" / "benchmarks"


@dataclass(frozen=True)
class TrainingSuite:
    """A training benchmark: one configuration, several seeds, a fixed epoch budget."""

    label: str
    env: str
    flags: tuple[str, ...]
    epochs: int
    seeds: tuple[int, ...] = (0, 1, 2)
    demo_noise: float = 0.0  # > 0: imperfect scripted demos, generated with this action noise


DEMOS = ("--num_demo", "100")
SUITES: dict[str, TrainingSuite] = {
    "pickplace-demos": TrainingSuite(
        "demos + BC + Q-filter",
        "FetchPickAndPlace-v4",
        (*DEMOS, "--bc_loss", "1", "--q_filter", "1"),
        30,
    ),
    "pickplace-demos-resets": TrainingSuite(
        "demos + BC + Q-filter + demo resets (0.1)",
        "FetchPickAndPlace-v4",
        (*DEMOS, "--bc_loss", "1", "--q_filter", "1", "--demo_reset_prob", "0.1"),
        30,
    ),
    "pickplace-original": TrainingSuite(
        "original hyper-parameters (--preset original)",
        "FetchPickAndPlace-v4",
        (*DEMOS, "--bc_loss", "1", "--q_filter", "1", "--preset", "original"),
        30,
        seeds=(0,),
    ),
    # Imperfect demonstrations (action noise 0.5: the scripted controller then succeeds in about
    # 57% of episodes), where the Q-filter is meant to matter.
    "pickplace-noisy-qfilter": TrainingSuite(
        "noisy demos + BC + Q-filter",
        "FetchPickAndPlace-v4",
        (*DEMOS, "--bc_loss", "1", "--q_filter", "1"),
        20,
        seeds=(0,),
        demo_noise=0.5,
    ),
    "pickplace-noisy-bc-loss": TrainingSuite(
        "noisy demos + BC, no Q-filter",
        "FetchPickAndPlace-v4",
        (*DEMOS, "--bc_loss", "1"),
        20,
        seeds=(0,),
        demo_noise=0.5,
    ),
    "pickplace-noisy-bc-only": TrainingSuite(
        "noisy demos, BC only",
        "FetchPickAndPlace-v4",
        (*DEMOS, "--set", "bc_only=1"),
        20,
        seeds=(0,),
        demo_noise=0.5,
    ),
    "reach-her": TrainingSuite("HER only", "FetchReach-v4", ("--num_demo", "0"), 10),
    "pickplace-her": TrainingSuite("HER only", "FetchPickAndPlace-v4", ("--num_demo", "0"), 60),
    "pickplace-bc": TrainingSuite(
        "BC only", "FetchPickAndPlace-v4", (*DEMOS, "--set", "bc_only=1"), 30
    ),
}
# Block stacking (issue #7): one seed each, for the 2-core budget. Epoch = 20 episodes of 50 steps
# per block. HER only and BC only are the paper's baselines.
PAPER_METHOD = (*DEMOS, "--bc_loss", "1", "--q_filter", "1")
RESETS = ("--demo_reset_prob", "0.1")
SUITES.update(
    {
        "stack2-demos": TrainingSuite(
            "demos + BC + Q-filter", "FetchStack2-v0", PAPER_METHOD, 300, seeds=(0,)
        ),
        "stack2-demos-resets": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1)",
            "FetchStack2-v0",
            (*PAPER_METHOD, *RESETS),
            300,
            seeds=(0,),
        ),
        # Exploration check: with random_eps 0.1 almost every 100-step training episode gets a
        # random action (half of them open the gripper) while a block is carried.
        "stack2-demos-resets-eps0.02": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), random_eps 0.02",
            "FetchStack2-v0",
            (*PAPER_METHOD, *RESETS, "--set", "random_eps=0.02"),
            300,
            seeds=(0,),
        ),
        # Sample efficiency: the original project's preset (twice the updates per env step,
        # polyak 0.8), and the same update FLOPs as the default spent on twice as many
        # half-size batches.
        "stack2-original-resets": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), --preset original",
            "FetchStack2-v0",
            (*PAPER_METHOD, *RESETS, "--preset", "original"),
            300,
            seeds=(0,),
        ),
        # Value propagation: the targets move once per cycle, so polyak sets how fast a value
        # learnt near the tower reaches the start of a 100-step episode.
        "stack2-original-resets-polyak0.6": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), --preset original, polyak 0.6",
            "FetchStack2-v0",
            (*PAPER_METHOD, *RESETS, "--preset", "original", "--set", "polyak=0.6"),
            300,
            seeds=(0,),
        ),
        # The paper's step reward (minus the blocks not yet placed), which credits each block.
        "stack2-step-original-resets": TrainingSuite(
            "step reward, demos + BC + Q-filter + demo resets (0.1), --preset original",
            "FetchStack2-Step-v0",
            (*PAPER_METHOD, *RESETS, "--preset", "original"),
            300,
            seeds=(0,),
        ),
        # FetchStack2-v1: the tower spot starts clear of both blocks.
        "stack2v1-original-resets-polyak0.6": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), --preset original, polyak 0.6",
            "FetchStack2-v1",
            (*PAPER_METHOD, *RESETS, "--preset", "original", "--set", "polyak=0.6"),
            300,
            seeds=(0,),
        ),
        # Exploration: with random_eps 0.2 a uniform random action (a 5 cm jump, half of them
        # opening the gripper) comes every 5 steps, so noisy training episodes almost never
        # finish a tower and the critic never sees the actor's own successes. Gaussian noise
        # only (noise_eps 0.1) keeps them close to the deterministic policy.
        "stack2v1-original-resets-polyak0.6-eps0": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), --preset original, polyak 0.6, "
            "random_eps 0",
            "FetchStack2-v1",
            (*PAPER_METHOD, *RESETS, "--preset", "original")
            + ("--set", "polyak=0.6", "--set", "random_eps=0"),
            300,
            seeds=(0,),
        ),
        "stack2-resets-b512": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), 80 updates of 512 per cycle",
            "FetchStack2-v0",
            (*PAPER_METHOD, *RESETS, "--set", "batch_size=512", "--set", "demo_batch_size=64")
            + ("--set", "n_batches=80"),
            300,
            seeds=(0,),
        ),
        "stack2-her": TrainingSuite(
            "HER only", "FetchStack2-v0", ("--num_demo", "0"), 60, seeds=(0,)
        ),
        "stack2-bc": TrainingSuite(
            "BC only", "FetchStack2-v0", (*DEMOS, "--set", "bc_only=1"), 40, seeds=(0,)
        ),
        "stack3-demos-resets": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1)",
            "FetchStack3-v0",
            (*PAPER_METHOD, *RESETS),
            400,
            seeds=(0,),
        ),
        "stack3-original-resets": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), --preset original",
            "FetchStack3-v0",
            (*PAPER_METHOD, *RESETS, "--preset", "original"),
            400,
            seeds=(0,),
        ),
        "stack3-demos": TrainingSuite(
            "demos + BC + Q-filter", "FetchStack3-v0", PAPER_METHOD, 400, seeds=(0,)
        ),
        "stack3-her": TrainingSuite(
            "HER only", "FetchStack3-v0", ("--num_demo", "0"), 40, seeds=(0,)
        ),
        "stack3-bc": TrainingSuite(
            "BC only", "FetchStack3-v0", (*DEMOS, "--set", "bc_only=1"), 40, seeds=(0,)
        ),
    }
)
# The v1 stacking envs with the exploration that lets noisy training episodes finish towers
# (Gaussian noise only) and faster-moving targets (polyak 0.6 per cycle of 40 updates).
STACK_TUNED = (
    *PAPER_METHOD,
    *RESETS,
    "--preset",
    "original",
    "--set",
    "polyak=0.6",
    "--set",
    "random_eps=0",
)
SUITES.update(
    {
        "stack3v1-tuned": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), --preset original, polyak 0.6, "
            "random_eps 0",
            "FetchStack3-v1",
            STACK_TUNED,
            400,
            seeds=(0,),
        ),
        # More starts from demo states (half the training episodes), so the later stages (the
        # second block, leaving a finished tower alone) get more practice.
        "stack2v1-tuned-resets0.5": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.5), --preset original, polyak 0.6, "
            "random_eps 0",
            "FetchStack2-v1",
            (*STACK_TUNED, "--demo_reset_prob", "0.5"),
            300,
            seeds=(0,),
        ),
        # Demos recorded with action noise 0.1: they include slightly off-centre grasps and the
        # controller's recovery from them (it servoes the carried *block* onto the tower), which
        # clean demos never show; a policy that grasps off-centre otherwise topples the tower.
        "stack2v1-tuned-noisy0.1": TrainingSuite(
            "demos (noise 0.1) + BC + Q-filter + demo resets (0.1), --preset original, "
            "polyak 0.6, random_eps 0",
            "FetchStack2-v1",
            STACK_TUNED,
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        "stack2v1-tuned-noisy0.1-resets0.5": TrainingSuite(
            "demos (noise 0.1) + BC + Q-filter + demo resets (0.5), --preset original, "
            "polyak 0.6, random_eps 0",
            "FetchStack2-v1",
            (*STACK_TUNED, "--demo_reset_prob", "0.5"),
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        "stack3v1-tuned-resets0.5": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.5), --preset original, polyak 0.6, "
            "random_eps 0",
            "FetchStack3-v1",
            (*STACK_TUNED, "--demo_reset_prob", "0.5"),
            400,
            seeds=(0,),
        ),
        # The paper's step reward (minus the number of blocks not in place) on the same
        # settings: the critic is told when the bottom block is placed, not only the tower.
        "stack2v1-step-tuned-noisy0.1": TrainingSuite(
            "step reward, demos (noise 0.1) + BC + Q-filter + demo resets (0.1), "
            "--preset original, polyak 0.6, random_eps 0",
            "FetchStack2-Step-v1",
            STACK_TUNED,
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # Training rewards count a block as placed within 3 cm (tests still use 5 cm): failed
        # test episodes often end with a tower 4-6 cm from its target, an imprecision that the
        # 5 cm sparse reward does not penalise until it crosses the line.
        "stack2v1-tuned-noisy0.1-threshold0.03": TrainingSuite(
            "demos (noise 0.1) + BC + Q-filter + demo resets (0.1), --preset original, "
            "polyak 0.6, random_eps 0, training reward threshold 3 cm",
            "FetchStack2-v1",
            (*STACK_TUNED, "--set", "reward_threshold=0.03"),
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # Stack3 with both helps measured on Stack2-v1: noisy demos and half the episodes
        # starting from demo states (the third block gets practice before the first two work).
        "stack3v1-tuned-noisy0.1-resets0.5": TrainingSuite(
            "demos (noise 0.1) + BC + Q-filter + demo resets (0.5), --preset original, "
            "polyak 0.6, random_eps 0",
            "FetchStack3-v1",
            (*STACK_TUNED, "--demo_reset_prob", "0.5"),
            400,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # Both Stack2 helps that each lifted held-out success: the step reward (the critic hears
        # when the bottom block is placed) and the 3 cm training threshold (towers built near,
        # not on, the target are not rewarded).
        "stack2v1-step-tuned-noisy0.1-threshold0.03": TrainingSuite(
            "step reward, demos (noise 0.1) + BC + Q-filter + demo resets (0.1), "
            "--preset original, polyak 0.6, random_eps 0, training reward threshold 3 cm",
            "FetchStack2-Step-v1",
            (*STACK_TUNED, "--set", "reward_threshold=0.03"),
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # The WAM tower with the noisy demos that lifted Fetch Stack2-v1 (the WAM tasks are
        # sparse-reward only, as issue #8 asks).
        "wam-stack2v1-tuned-noisy0.1": TrainingSuite(
            "demos (noise 0.1) + BC + Q-filter + demo resets (0.1), --preset original, "
            "polyak 0.6, random_eps 0",
            "WAMStack2-v1",
            STACK_TUNED,
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # The paper's step reward, which gave the best Fetch Stack2 result, on the WAM tower.
        "wam-stack2v1-step-tuned-noisy0.1": TrainingSuite(
            "step reward, demos (noise 0.1) + BC + Q-filter + demo resets (0.1), "
            "--preset original, polyak 0.6, random_eps 0",
            "WAMStack2-Step-v1",
            STACK_TUNED,
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # The four-block WAM tower (issue #8: "as far as time allows"), with everything that
        # helped the two-block one and half the episodes starting from demo states.
        "wam-stack4v1-step-tuned-noisy0.1-resets0.5": TrainingSuite(
            "step reward, demos (noise 0.1) + BC + Q-filter + demo resets (0.5), "
            "--preset original, polyak 0.6, random_eps 0",
            "WAMStack4-Step-v1",
            (*STACK_TUNED, "--demo_reset_prob", "0.5"),
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # Stack3 with the step reward on top of noisy demos and resets 0.5: with three blocks
        # the sparse reward says nothing until the whole tower stands.
        "stack3v1-step-tuned-noisy0.1-resets0.5": TrainingSuite(
            "step reward, demos (noise 0.1) + BC + Q-filter + demo resets (0.5), "
            "--preset original, polyak 0.6, random_eps 0",
            "FetchStack3-Step-v1",
            (*STACK_TUNED, "--demo_reset_prob", "0.5"),
            400,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # Noisier demos (action noise 0.2: the controller succeeds in 90% of Stack2 and 86% of
        # WAMStack2 episodes): its re-planning after a missed grasp or a dropped block shows up in
        # about a third of the episodes instead of a fifth, and a missed second grasp that is never
        # retried is the trained policies' main failure.
        "stack2v1-step-tuned-noisy0.2": TrainingSuite(
            "step reward, demos (noise 0.2) + BC + Q-filter + demo resets (0.1), "
            "--preset original, polyak 0.6, random_eps 0",
            "FetchStack2-Step-v1",
            STACK_TUNED,
            300,
            seeds=(0,),
            demo_noise=0.2,
        ),
        "wam-stack2v1-tuned-noisy0.2": TrainingSuite(
            "demos (noise 0.2) + BC + Q-filter + demo resets (0.1), --preset original, "
            "polyak 0.6, random_eps 0",
            "WAMStack2-v1",
            STACK_TUNED,
            300,
            seeds=(0,),
            demo_noise=0.2,
        ),
        "wam-stack2v1-tuned": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), --preset original, polyak 0.6, "
            "random_eps 0",
            "WAMStack2-v1",
            STACK_TUNED,
            300,
            seeds=(0,),
        ),
    }
)
# The WAM arm (issue #8): the paper's method with 100 scripted demos, one seed each.
SUITES.update(
    {
        "wam-reach": TrainingSuite(
            "demos + BC + Q-filter", "WAMReach-v0", PAPER_METHOD, 10, seeds=(0,)
        ),
        "wam-pickplace": TrainingSuite(
            "demos + BC + Q-filter", "WAMPickAndPlace-v0", PAPER_METHOD, 30, seeds=(0,)
        ),
        "wam-stack2": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1)",
            "WAMStack2-v0",
            (*PAPER_METHOD, *RESETS),
            300,
            seeds=(0,),
        ),
        "wam-stack2-original": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), --preset original",
            "WAMStack2-v0",
            (*PAPER_METHOD, *RESETS, "--preset", "original"),
            300,
            seeds=(0,),
        ),
    }
)
OTHER_SUITES = ("throughput", "mpi-throughput")


def run_seed(name: str, suite: TrainingSuite, seed: int, epochs: int) -> Path:
    """Trains one seed (resuming an interrupted benchmark run) and returns its logdir."""
    logdir = RUNS / name / f"seed{seed}"
    base = [sys.executable, str(ROOT / "experiment/train.py")]
    done = read_progress(logdir / "progress.csv") if (logdir / "progress.csv").exists() else []
    if done and int(done[-1]["epoch"]) >= epochs:
        return logdir
    refuse_if_locked(logdir)  # a live run without checkpoints would be deleted below
    if list(logdir.glob("checkpoint-*")):
        command = [*base, "--resume", str(logdir), "--n_epochs", str(epochs), "--quiet"]
    else:
        shutil.rmtree(logdir, ignore_errors=True)
        demo_flags = noisy_demo_flags(suite) if suite.demo_noise > 0 else []
        command = [
            *base,
            "--env",
            suite.env,
            *suite.flags,
            "--seed",
            str(seed),
            *demo_flags,
            "--n_epochs",
            str(epochs),
            "--logdir",
            str(logdir),
            # Every 10th epoch's policy is kept for 100-episode evaluations
            # (benchmarks.evaluate): one epoch's 10 test episodes are too few to pick a policy.
            "--policy_save_interval",
            "10",
            # Long stacking runs reach buffers of several hundred MB: checkpoint less often.
            "--set",
            "checkpoint_interval=5",
            "--quiet",
        ]
    click.echo(f"[{name} seed {seed}] {' '.join(command[1:])}")
    run_child(command, f"{name} seed {seed}", logdir)
    return logdir


def run_child(command: list[str], label: str, logdir: Path) -> None:
    """Runs one train.py command; failures and Ctrl-C become one-line errors.

    On Ctrl-C, train.py gets the same SIGINT, finishes its cycle and writes a checkpoint. We wait
    for that (``subprocess.run`` would kill it after 0.25 s); a second Ctrl-C aborts both.
    """
    process = subprocess.Popen(command, cwd=ROOT)
    try:
        returncode = process.wait()
    except KeyboardInterrupt:
        try:
            process.wait()
        except KeyboardInterrupt:
            process.kill()
        raise click.ClickException(f"{label} interrupted; rerun to resume") from None
    if returncode in (130, -signal.SIGINT):  # train.py was interrupted on its own
        raise click.ClickException(f"{label} interrupted; rerun to resume from {logdir}")
    if returncode != 0:
        raise click.ClickException(
            f"{label}: train.py exited with code {returncode} (its error is printed above); "
            f"rerun to resume from {logdir}"
        )


def noisy_demo_flags(suite: TrainingSuite) -> list[str]:
    """Generates (once) the suite's imperfect demos and returns the ``--demo_file`` flags."""
    path = RUNS / "demos" / f"{suite.env}_noise{suite.demo_noise:g}.npz"
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "data_generation/fetch_data_generation.py"),
                "--env",
                suite.env,
                "--noise",
                str(suite.demo_noise),
                "--out",
                str(path),
                "--quiet",
            ],
            cwd=ROOT,
            check=True,
        )
    return ["--demo_file", str(path)]


def run_training(name: str, seeds: tuple[int, ...], epochs: int | None) -> dict:
    suite = SUITES[name]
    epochs = epochs or suite.epochs
    seeds = seeds or suite.seeds
    runs = {}
    for seed in seeds:
        rows = read_progress(run_seed(name, suite, seed, epochs) / "progress.csv")[:epochs]
        runs[f"seed{seed}"] = {
            "epoch": [int(r["epoch"]) for r in rows],
            "env_steps": [int(r["total_env_steps"]) for r in rows],
            "minutes": [r["wall_time"] / 60 for r in rows],
            "success": [r["test/success_rate"] for r in rows],
            "mean_q": [r["test/mean_Q"] for r in rows],
            "time_split_s": {
                k: sum(r[f"time/{k}"] for r in rows)
                for k in ("rollout", "sample", "update", "eval")
            },
        }
    summary = summarize(list(runs.values()))
    return {
        "suite": name,
        "label": suite.label,
        "env": suite.env,
        "train_flags": list(suite.flags),
        "demo_noise": suite.demo_noise,
        "seeds": list(seeds),
        "epochs": epochs,
        "summary": {name: summary},
        "per_seed_summary": {s: summarize([r]) for s, r in runs.items()},
        "runs": runs,
    }


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("suites", nargs=-1)
@click.option(
    "--seeds",
    type=click.IntRange(min=0),
    multiple=True,
    help="Seeds (repeatable).  [default: each suite's own, see --list]",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help="Epoch budget per seed.  [default: per suite]",
)
@click.option("--list", "list_only", is_flag=True, help="List the suites and exit.")
def main(
    suites: tuple[str, ...], seeds: tuple[int, ...], epochs: int | None, list_only: bool
) -> None:
    """Run benchmark SUITES; each writes benchmarks/results/<suite>.json and .png."""
    if list_only or not suites:
        for name, suite in SUITES.items():
            seeds_text = " ".join(str(s) for s in suite.seeds)
            click.echo(
                f"{name:24s} {suite.label}: {suite.env}, {suite.epochs} epochs x seeds {seeds_text}"
            )
        for name in OTHER_SUITES:
            click.echo(f"{name:24s} see benchmarks/throughput.py")
        return
    unknown = [s for s in suites if s not in SUITES and s not in OTHER_SUITES]
    if unknown:
        raise click.BadParameter(f"unknown suite(s) {unknown}; see --list", param_hint="SUITES")
    try:
        for name in suites:
            run_suite(name, seeds, epochs)
        write_summary_and_figures()
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None


def reproducing_command(name: str, seeds: tuple[int, ...], epochs: int | None) -> list[str]:
    """The command that reruns suite ``name`` alone as it was run here, for its provenance: the
    other suites of the same invocation and the flags a suite ignores (throughput takes neither
    seeds nor epochs) are left out."""
    command = ["python", "-m", "benchmarks.run", name]
    if name in SUITES:
        command += [arg for seed in seeds for arg in ("--seeds", str(seed))]
        command += ["--epochs", str(epochs)] if epochs else []
    return command


def run_suite(name: str, seeds: tuple[int, ...], epochs: int | None) -> None:
    """Runs one suite and writes its results JSON, with provenance and the minutes it took."""
    start = time.time()
    if name in SUITES:
        payload = run_training(name, seeds, epochs)
    else:
        from benchmarks import throughput

        payload = throughput.SUITES[name]()
    payload = {**provenance(reproducing_command(name, seeds, epochs)), **payload}
    payload["benchmark_minutes"] = (time.time() - start) / 60
    path = write_results(name, payload)
    click.echo(f"wrote {path}: {payload['summary']}")


def replace_between_markers(text: str, name: str, content: str) -> str:
    """``text`` with the lines between ``<!-- name -->`` and ``<!-- /name -->`` replaced by
    ``content``; unchanged if either marker is missing."""
    start, end = f"<!-- {name} -->\n", f"<!-- /{name} -->"
    head, found, rest = text.partition(start)
    if not found or end not in rest:
        return text
    return head + start + content + rest[rest.index(end) :]


def write_summary_and_figures() -> None:
    """Rewrites summary.md and one PNG per env from every committed results JSON."""
    results = load_all_results()
    table = summary_table(results)
    atomic_write_text(RESULTS / "summary.md", table)
    readme = ROOT / "README.md"
    text = readme.read_text()
    updated = replace_between_markers(text, "results-table", table)
    if updated != text:
        atomic_write_text(readme, updated)
        click.echo(f"updated the results table in {readme}")

    # One figure per env, and a separate one for runs on imperfect (noisy) demonstrations.
    def figure_key(data: dict) -> tuple[str, bool]:
        return data["env"], data.get("demo_noise", 0.0) > 0

    def family(env: str) -> str:
        return env.split("-v")[0].lower()

    # FetchStack2-v0 and FetchStack2-v1 are different tasks: their figures carry the version.
    envs = {data["env"] for data in results.values()}
    versioned = {family(e) for e in envs if sum(family(o) == family(e) for o in envs) > 1}

    for env, noisy in sorted({figure_key(data) for data in results.values()}):
        group = {name: d for name, d in results.items() if figure_key(d) == (env, noisy)}
        stem = family(env)
        if stem in versioned:
            stem += "-v" + env.rsplit("-v", 1)[1]
        stem += "-noisy-demos" if noisy else ""
        references = ORIGINAL_REPORTED if env == "FetchPickAndPlace-v4" and not noisy else ()
        noises = sorted({d.get("demo_noise", 0.0) for d in group.values()})
        noise_text = " / ".join(f"{n:g}" for n in noises)
        title = env + (f" with noisy demonstrations (action noise {noise_text})" if noisy else "")
        out = RESULTS / f"{stem}.png"
        plot_training_results(group, out, title, references)
        click.echo(f"wrote {out}")


if __name__ == "__main__":
    main()
