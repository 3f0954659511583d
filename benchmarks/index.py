"""The results index, ``benchmarks/results/README.md``, and the comparison figures, generated
from the suite declarations and the files in each suite's folder.

python -m benchmarks.index              # the index only
python -m benchmarks.index --figures    # the comparison figures too

The runner calls the same functions after every suite, so the index never needs editing by hand
and nothing outside ``benchmarks/results/`` is ever written.
"""

from __future__ import annotations

from pathlib import Path

import click

from benchmarks.report import (
    EVALUATION,
    FIGURE,
    RESULTS,
    RUNS,
    TRAINING,
    load_training_results,
    plot_training_results,
    read_json,
    run_summary,
    seed_mean_curve,
    window_means,
)
from benchmarks.seeds import OUTPUT as SEEDS_OUTPUT
from benchmarks.suites import FAMILIES, REFERENCES, Suite
from herdemos.util import HerdemosError, atomic_write_text

INDEX = "README.md"
"""The index's file name in the results folder."""
OTHER_FOLDERS = {
    "throughput": "learner, rollout and MPI throughput (`python -m benchmarks.run throughput`)",
    "test-suite": "the README's test command timed from a fresh clone",
    "install": "what pip resolves on each platform (`python -m benchmarks.install_check`)",
    "fuzz": "10,000 hostile files for the loaders (`python -m benchmarks.fuzz`)",
    "demo-sources": "every demo method on every demonstrator: the table and figure "
    "(`python -m benchmarks.demo_sources`), the demonstrators' measured success, and their "
    "success under the learner's exploration (`python -m benchmarks.demo_robustness`)",
    "archive": "retired suites and figures, under their old names",
    "analysis": "analyses of policies no suite trained (created when needed)",
}


Families = dict[str, dict[str, Suite]]
"""Suites by task family, as ``benchmarks.suites.FAMILIES`` declares them."""


def all_suites(families: Families) -> dict[str, Suite]:
    """Every suite of ``families`` by name."""
    return {name: suite for suites in families.values() for name, suite in suites.items()}


def groups(suites: dict[str, Suite]) -> dict[str, list[str]]:
    """``{group: [suite, ...]}`` in declaration order."""
    out: dict[str, list[str]] = {}
    for name, suite in suites.items():
        out.setdefault(suite.group, []).append(name)
    return out


def draw_figures(folder: Path, families: Families, only: set[str] | None = None) -> list[Path]:
    """Draws each comparison's training curves (those of ``only``, default all) into
    ``<group>/training.png`` under ``folder``; groups without results yet are skipped.
    Returns the files."""
    suites = all_suites(families)
    written = []
    for group, names in groups(suites).items():
        results = load_training_results(folder, names)
        if (only is not None and group not in only) or not results:
            continue
        envs = " / ".join(sorted({suites[name].env for name in results}))
        out = folder / group / FIGURE
        labels = {name: suites[name].label for name in results}
        plot_training_results(results, out, f"{group}: {envs}", REFERENCES.get(group, ()), labels)
        written.append(out)
    return written


def train_command(suite: Suite) -> str:
    """The train.py command line the runner gives each seed ``S`` of the suite."""
    demo = f" --demo_file {(RUNS / 'demos' / suite.demo_file_name).relative_to(RUNS.parents[1])}"
    return (
        f"python experiment/train.py --env {suite.env} {' '.join(suite.flags)}"
        + (demo if suite.own_demos else "")
        + f" --n_epochs {suite.epochs} --seed S"
    )


def headline(folder: Path) -> tuple[str, str]:
    """``(held-out or training headline, minutes)`` for the suite's table row.

    Raises:
        HerdemosError: a results file in the suite's folder is damaged.
    """
    training = read_json(folder / TRAINING)
    evaluation = read_json(folder / EVALUATION)
    over_seeds = read_json(folder / SEEDS_OUTPUT)
    minutes = "–"
    if training is not None:
        summary = run_summary(training)
        minutes = f"{summary['minutes']:.0f}"
    if over_seeds is not None:
        n, pooled = len(over_seeds["seeds"]), over_seeds["pooled"]
        # One seed has no spread over seeds: its interval is then the episodes' (Wilson).
        over = "over seeds" if over_seeds["seed_mean_ci95"] else "over episodes"
        low, high = over_seeds["seed_mean_ci95"] or pooled["ci95"]
        return (
            f"**{over_seeds['seed_mean']:.2f}** ({low:.2f}–{high:.2f} {over}) held-out, "
            f"mean of {n} seeds × {pooled['episodes'] // n} episodes",
            minutes,
        )
    if evaluation is not None:
        report, chosen = evaluation["report"], evaluation["chosen"]
        low, high = report["ci95"]
        epochs = chosen.get("averaged_epochs")
        policy = (
            f"mean of epochs {epochs[0]}-{epochs[-1]}" if epochs else f"epoch {chosen['epoch']}"
        )
        return (
            f"**{report['success_rate']:.2f}** ({low:.2f}–{high:.2f}) held-out, "
            f"{report['episodes']} episodes, {policy}",
            minutes,
        )
    if training is not None:
        best, last = window_means(seed_mean_curve(list(training["runs"].values())))
        return f"{best:.2f} best / {last:.2f} last 10-epoch mean (training tests)", minutes
    return "not run yet", minutes


def files_cell(folder: Path) -> str:
    """Links to every file in a suite's folder, relative to the index."""
    name = folder.name
    if not folder.is_dir():
        return "–"
    return ", ".join(f"[{p.name}]({name}/{p.name})" for p in sorted(folder.iterdir()))


def index_markdown(folder: Path, families: Families) -> str:
    """The index of the results under ``folder``: a table per family, the commands, the
    comparisons and the other folders."""
    suites = all_suites(families)
    lines = [
        "# Benchmark results",
        "",
        "Generated by `python -m benchmarks.index` (and by `python -m benchmarks.run` after "
        "each suite) from `benchmarks/suites/` and the files below; do not edit by hand.",
        "",
        "Each suite's folder holds `training.json` (every seed's test success per epoch), "
        "`eval.json` and `eval.png` where it was evaluated (`python -m benchmarks.evaluate "
        "SUITE`: the policy chosen on selection episodes, its success on fresh episodes with "
        "a 95% confidence interval), and analyses (`failures-*.json`, `actor-gap-*.json`). "
        "With `eval-seed<N>.json` per training seed, `python -m benchmarks.seeds SUITE` writes "
        "`eval-seeds.json`: the mean over seeds with a 95% t interval over seeds, which is then "
        "the headline. "
        "Otherwise the headline is the held-out success where an evaluation exists, else the test "
        "success during training (10 episodes per epoch). Minutes: seed-mean wall-clock time "
        "of the budget on 2 cores.",
        "",
    ]
    for family, members in families.items():
        lines += [
            f"## {family}",
            "",
            "| suite | env | method (from its flags) | seeds × epochs | headline | minutes "
            "| files |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, suite in members.items():
            result, minutes = headline(folder / name)
            seeds = " ".join(str(s) for s in suite.seeds)
            lines.append(
                f"| [`{name}`]({name}/) | {suite.env} | {suite.label} | {seeds} × "
                f"{suite.epochs} | {result} | {minutes} | {files_cell(folder / name)} |"
            )
        lines.append("")
    lines += [
        "## Commands",
        "",
        "Each command trains every seed S of its suite with the train.py line after it (plus "
        "the runner's `--logdir` and saving intervals). A `--demo_file` is generated first by "
        "`data_generation/fetch_data_generation.py` with the suite's demo noise and count.",
        "",
    ]
    for name, suite in suites.items():
        lines.append(f"- `python -m benchmarks.run {name}`: `{train_command(suite)}`")
    lines += ["", "## Comparisons", "", "Figures and analyses of several suites at once.", ""]
    for group, names in groups(suites).items():
        if len(names) > 1:
            members = ", ".join(f"`{n}`" for n in names)
            lines.append(f"- [`{group}`]({group}/): {members}; {files_cell(folder / group)}")
    lines += ["", "## Other folders", ""]
    lines += [
        f"- [{name}/]({name}/): {what}"
        for name, what in OTHER_FOLDERS.items()
        if (folder / name).is_dir()
    ]
    return "\n".join(lines) + "\n"


def write_index(folder: Path, families: Families) -> Path:
    """Rewrites the index of the results under ``folder`` and returns it."""
    path = folder / INDEX
    atomic_write_text(path, index_markdown(folder, families))
    return path


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--figures", is_flag=True, help="Also redraw every comparison's training figure.")
def main(figures: bool) -> None:
    """Regenerate benchmarks/results/README.md (and with --figures the comparison figures)."""
    try:
        for path in draw_figures(RESULTS, FAMILIES) if figures else []:
            click.echo(f"wrote {path}")
        click.echo(f"wrote {write_index(RESULTS, FAMILIES)}")
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None


if __name__ == "__main__":
    main()
