"""Demonstrations herdemos did not make: every method on demos from several demonstrators.

One suite per (task, demo source, method), named ``sources-<task>-<source>-<method>``; the
suites of one task and source form a group, so each figure compares the methods on one source.
``python -m benchmarks.demo_sources`` gathers whatever has run into one table and figure.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.suites.record import Suite


@dataclass(frozen=True)
class Source:
    """A demonstrator: a ``fetch_data_generation.py --style`` and its action noise per task
    (none where a task is not named)."""

    style: str
    noise: tuple[tuple[str, float], ...] = ()

    def noise_for(self, task: str) -> float:
        return dict(self.noise).get(task, 0.0)


@dataclass(frozen=True)
class Task:
    """A task of the benchmark and its epoch budget (1,000 env steps an epoch)."""

    env: str
    epochs: int


TASKS: dict[str, Task] = {
    # The targets: 0.95 within 50k env steps on PickAndPlace and 100k on Push.
    "pickplace": Task("FetchPickAndPlace-v4", 50),
    "push": Task("FetchPush-v4", 100),
}

SOURCES: dict[str, Source] = {
    "herdemos": Source("herdemos"),
    "original": Source("original"),
    "cautious": Source("cautious"),
    "human": Source("human"),
    # Imperfect demonstrators: the noise at which each style's demonstrator succeeds about 40-60%
    # of the time on each task, as calibrated in benchmarks/results/demo-sources/demonstrators.json.
    # The original style's tiny gripper commands flip sign under far less noise than herdemos'.
    "herdemos-noisy": Source("herdemos", (("pickplace", 0.5), ("push", 0.5))),
    "original-noisy": Source("original", (("pickplace", 0.006), ("push", 0.1))),
}

METHODS: dict[str, tuple[str, ...]] = {
    "demo-replay": ("--method", "demo-replay"),
    "bc": ("--method", "bc"),
    "bc-rl": ("--method", "bc-rl"),
    "bc-qfilter": ("--method", "bc-qfilter"),
    "bc-qfilter-resets": ("--method", "bc-qfilter", "--demo_reset_prob", "0.1"),
    "bc-qfilter-slack": ("--method", "bc-qfilter", "--set", "q_filter_slack=td_error"),
    # The RL term divided by max(1, the batch's mean |Q|), after TD3+BC.
    "bc-qfilter-scaled": ("--method", "bc-qfilter", "--set", "rl_scale=mean_abs_q"),
}
"""Every method that uses demos; HER alone does not depend on the source and has its own
suites (``pickplace-her``)."""

DEMOS = ("--num_demo", "100")


def suite_name(task: str, source: str, method: str) -> str:
    return f"sources-{task}-{source}-{method}"


def group_name(task: str, source: str) -> str:
    return f"sources-{task}-{source}"


RUN_SHORT: dict[str, tuple[int, tuple[int, ...]]] = {
    # Cells whose committed results were run with a smaller budget or fewer seeds than the
    # task's: (epochs, seeds) as run. Drop a cell from here when it is rerun in full
    # (``python -m benchmarks.run SUITE`` resumes its seeds to the task's budget).
    "sources-pickplace-herdemos-bc-qfilter-slack": (10, (0, 1, 2)),
    "sources-pickplace-herdemos-noisy-bc-qfilter-slack": (20, (0, 1, 2)),
    "sources-pickplace-original-bc-qfilter": (50, (0,)),
    "sources-pickplace-original-bc-qfilter-slack": (50, (0,)),
    "sources-push-herdemos-bc-qfilter-slack": (40, (0,)),
}


def _suite(task_name: str, source_name: str, method: str) -> Suite:
    task, source = TASKS[task_name], SOURCES[source_name]
    name = suite_name(task_name, source_name, method)
    epochs, seeds = RUN_SHORT.get(name, (task.epochs, (0, 1, 2)))
    return Suite(
        task.env,
        (*METHODS[method], *DEMOS),
        epochs,
        group_name(task_name, source_name),
        seeds,
        demo_noise=source.noise_for(task_name),
        demo_style=source.style,
    )


SUITES: dict[str, Suite] = {
    suite_name(t, s, m): _suite(t, s, m) for t in TASKS for s in SOURCES for m in METHODS
}
