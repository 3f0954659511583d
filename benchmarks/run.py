"""Run named benchmark suites; each writes into its own folder, benchmarks/results/<suite>/.

python -m benchmarks.run pickplace          # 3 seeds, BC + Q-filter, 100 demos
python -m benchmarks.run throughput
python -m benchmarks.run --list

After the suites, the runner redraws their comparisons' figures and regenerates the index
(benchmarks/results/README.md). It writes nothing outside benchmarks/results/ and runs/.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from benchmarks.index import draw_figures, write_index
from benchmarks.report import RESULTS, RUNS, summarize, write_training_results
from benchmarks.suites import FAMILIES, SUITES, Suite
from herdemos.logger import read_progress
from herdemos.provenance import provenance
from herdemos.run_lock import refuse_if_locked
from herdemos.util import HerdemosError, atomic_write_json

ROOT = Path(__file__).resolve().parents[1]


OTHER_SUITES = ("throughput", "mpi-throughput")


def run_seed(name: str, suite: Suite, seed: int, epochs: int) -> Path:
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
        demo_flags = noisy_demo_flags(suite) if suite.own_demos else []
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
    A SIGINT sent to the runner alone (not by a terminal to the whole group) is passed on as
    SIGTERM, which train.py treats alike and ignores once it is stopping. ``kill RUNNER_PID``
    (SIGTERM) is passed on too: a runner started in the background (``nohup ... &``) ignores
    SIGINT, so SIGTERM is how to stop it. Either way no later seed or suite starts.
    """
    process = subprocess.Popen(command, cwd=ROOT)
    terminated: list[int] = []

    def pass_on(signum: int, frame: object) -> None:
        terminated.append(signum)
        process.send_signal(signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, pass_on)
    try:
        returncode = process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait()
        except KeyboardInterrupt:
            process.kill()
        raise click.ClickException(f"{label} interrupted; rerun to resume") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    stopped = {128 + s for s in stops} | {-s for s in stops}
    # A stop that came after train.py's last check (during its final epoch) still ends the run.
    if returncode in stopped or terminated:  # train.py was stopped, after a checkpoint
        raise click.ClickException(f"{label} stopped; rerun to resume from {logdir}")
    if returncode != 0:
        raise click.ClickException(
            f"{label}: train.py exited with code {returncode} (its error is printed above); "
            f"rerun to resume from {logdir}"
        )


def noisy_demo_flags(suite: Suite) -> list[str]:
    """Generates (once) the suite's own demos (imperfect ones, or more than train.py's cached
    100) and returns the ``--demo_file`` flags."""
    path = RUNS / "demos" / suite.demo_file_name
    if not path.exists():
        generation = subprocess.run(
            [
                sys.executable,
                str(ROOT / "data_generation/fetch_data_generation.py"),
                "--env",
                suite.env,
                "--style",
                suite.demo_style,
                "--noise",
                str(suite.demo_noise),
                "--miss_prob",
                str(suite.demo_miss_prob),
                "--num_episodes",
                str(suite.demo_episodes),
                "--out",
                str(path),
                "--quiet",
            ],
            cwd=ROOT,
        )
        if generation.returncode != 0:
            raise click.ClickException(
                f"generating {path.name} failed (exit code {generation.returncode}, its error is "
                "printed above); rerun to try again"
            )
    return ["--demo_file", str(path)]


def run_training(name: str, seeds: tuple[int, ...], epochs: int | None) -> dict:
    """Trains (or resumes) every seed of suite ``name`` and returns its results payload."""
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
        "demo_miss_prob": suite.demo_miss_prob,
        "demo_episodes": suite.demo_episodes,
        "demo_style": suite.demo_style,
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
    """Run benchmark SUITES; each writes benchmarks/results/<suite>/training.json."""
    unknown = [s for s in suites if s not in SUITES and s not in OTHER_SUITES]
    if unknown and not list_only:
        raise click.BadParameter(f"unknown suite(s) {unknown}; see --list", param_hint="SUITES")
    try:
        if list_only or not suites:
            list_suites()
            return
        for name in suites:
            run_suite(name, seeds, epochs)
        update_index({SUITES[name].group for name in suites if name in SUITES})
    except HerdemosError as e:  # also a suite whose declared flags train.py would refuse
        raise click.ClickException(str(e)) from None


def list_suites() -> None:
    """One line per suite: its env, budget, seeds and label."""
    for name, suite in SUITES.items():
        seeds_text = " ".join(str(s) for s in suite.seeds)
        click.echo(
            f"{name:28s} {suite.env}, {suite.epochs} epochs x seeds {seeds_text}: {suite.label}"
        )
    for name in OTHER_SUITES:
        click.echo(f"{name:24s} see benchmarks/throughput.py")


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
    if name in SUITES:
        path = write_training_results(RESULTS, name, payload)
    else:
        path = RESULTS / "throughput" / f"{name}.json"
        atomic_write_json(path, payload)
    click.echo(f"wrote {path}: {payload['summary']}")


def update_index(groups: set[str]) -> None:
    """Redraws the figures of the comparisons ``groups`` and regenerates the results index."""
    for path in draw_figures(RESULTS, FAMILIES, groups):
        click.echo(f"wrote {path}")
    click.echo(f"wrote {write_index(RESULTS, FAMILIES)}")


if __name__ == "__main__":
    main()
