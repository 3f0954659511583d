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
from benchmarks.suites import CACHED_DEMO_EPISODES, SUITES, TrainingSuite
from herdemos.logger import read_progress
from herdemos.run_lock import refuse_if_locked
from herdemos.util import HerdemosError, atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "runs" / "benchmarks"


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


def noisy_demo_flags(suite: TrainingSuite) -> list[str]:
    """Generates (once) the suite's own demos (imperfect ones, or more than train.py's cached
    100) and returns the ``--demo_file`` flags."""
    miss = f"_miss{suite.demo_miss_prob:g}" if suite.demo_miss_prob > 0 else ""
    # 100 episodes keep the original file names, so earlier suites reuse their demos.
    count = f"_{suite.demo_episodes}ep" if suite.demo_episodes != CACHED_DEMO_EPISODES else ""
    path = RUNS / "demos" / f"{suite.env}_noise{suite.demo_noise:g}{miss}{count}.npz"
    if not path.exists():
        generation = subprocess.run(
            [
                sys.executable,
                str(ROOT / "data_generation/fetch_data_generation.py"),
                "--env",
                suite.env,
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

    # Each variant beside the run it changes one thing of, where the figures above are crowded.
    for name, base in sorted(variant_pairs(set(results)).items()):
        out = RESULTS / "variants" / f"{name}.png"
        out.parent.mkdir(exist_ok=True)
        title = f"{results[name]['env']}: {name} against {base}"
        plot_training_results({base: results[base], name: results[name]}, out, title, ())
        click.echo(f"wrote {out}")


def variant_pairs(names: set[str]) -> dict[str, str]:
    """``{variant: base}`` for every suite whose name is another suite's name plus ``-suffix``
    (the longest such base), e.g. ``stack2v1-step-tuned-noisy0.1-td3`` of
    ``stack2v1-step-tuned-noisy0.1``."""
    pairs = {}
    for name in names:
        parts = name.split("-")
        for cut in range(len(parts) - 1, 0, -1):
            base = "-".join(parts[:cut])
            if base in names:
                pairs[name] = base
                break
    return pairs


if __name__ == "__main__":
    main()
