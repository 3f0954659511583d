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

This module is the command line; the work is in ``checkpoints`` (finding them), ``candidates``
(checkpoints and their means), ``held_out`` (the selection and report passes), ``intervals``
(the statistics) and ``evaluation_figure`` (the figure).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from benchmarks.evaluation_figure import chosen_name, plot_evaluation
from benchmarks.held_out import evaluate_suite
from benchmarks.report import RESULTS, read_json
from benchmarks.suites import SUITES
from herdemos.provenance import provenance
from herdemos.rendering import check_forced_backend
from herdemos.util import HerdemosError, atomic_write_json, check_output_file, os_error_line

RUNS = Path(__file__).resolve().parents[1] / "runs" / "benchmarks"


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


def read_evaluation(path: Path) -> dict:
    """An evaluation written earlier by this script (``<suite>/eval*.json``), for ``--redraw``;
    whether it holds what the figure reads shows when the figure is drawn.

    Raises:
        HerdemosError: the file is missing, or holds no JSON object.
    """
    data = read_json(path)
    if data is None:
        raise HerdemosError(f"{path}: no evaluation to redraw; run it without --redraw first")
    return data


def seed_runs(training: dict | None, seed: int | None) -> dict | None:
    """The training log to draw behind the checkpoints: every seed's, or with ``--seed`` only
    that seed's (None when the log lacks it)."""
    if training is None or seed is None:
        return training
    run = training["runs"].get(f"seed{seed}")
    return None if run is None else {**training, "runs": {f"seed{seed}": run}}


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
@click.option(
    "--redraw",
    is_flag=True,
    help="Run no episode: draw the figure again from the evaluation JSON already written "
    "(and SUITE/training.json); needs no run folder, and only --seed applies.",
)
def main(
    suite: str,
    episodes: int,
    report_episodes: int,
    min_epoch: int,
    average_last: int,
    seed: int | None,
    redraw: bool,
) -> None:
    """Evaluate SUITE's saved policies; write benchmarks/results/SUITE/eval.json and .png.

    SUITE is a training suite of benchmarks.run (python -m benchmarks.run --list)."""
    stem = "eval" if seed is None else f"eval-seed{seed}"
    try:
        check_forced_backend()
        known_suite(suite)
        json_path = check_output_file(RESULTS / suite / f"{stem}.json", "output")
        png_path = check_output_file(RESULTS / suite / f"{stem}.png", "output")
        training = seed_runs(read_training_results(RESULTS / suite / "training.json"), seed)
        if redraw:
            try:
                plot_evaluation(read_evaluation(json_path), training, png_path)
            except (KeyError, TypeError, IndexError, ValueError) as e:
                raise HerdemosError(
                    f"{json_path}: not an evaluation with checkpoints, chosen and report "
                    f"({type(e).__name__}: {e})"
                ) from None
            click.echo(f"redrew {png_path}")
            return
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
