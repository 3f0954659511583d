"""Train DDPG + HER, optionally with demonstrations, BC loss and Q-filter.

python experiment/train.py --bc_loss 1 --q_filter 1 --num_demo 100
python experiment/train.py --resume runs/FetchPickAndPlace-v4-20260101-120000
"""

from __future__ import annotations

import re
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from herdemos.config import Config
from herdemos.experiment.flags import TrainFlags, flag_options
from herdemos.experiment.resolve import resolve_config, resume_config
from herdemos.experiment.stopping import (
    GracefulStop,
    relaunched_rank,
    run_mpi_job,
    stopped_marker,
)
from herdemos.logger import read_run_progress
from herdemos.provenance import record_session
from herdemos.run_folder import clean_interrupted_writes, set_aside_unchecked_session
from herdemos.run_lock import acquire_run_lock, release_run_lock
from herdemos.util import HerdemosError, atomic_write_text, check_output_folder, os_error_line

if TYPE_CHECKING:  # heavy modules, imported at run time only after the flags are checked
    from herdemos.demos import DemoData
    from herdemos.environment import EnvMaker
    from herdemos.parallel import Ranks


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@flag_options
def main(**options: Any) -> None:
    """Train DDPG + HER with demonstrations (Nair et al. 2018) on a goal-conditioned env.

    \b
    Examples:
      python experiment/train.py --bc_loss 1 --q_filter 1 --num_demo 100
      python experiment/train.py --env FetchReach-v4
      python experiment/train.py --num_demo 0 --set n_cycles=20
      python experiment/train.py --resume runs/FetchPickAndPlace-v4-20260101-120000 --n_epochs 200
    """
    flags = TrainFlags.from_options(options)
    stop_file = options["stop_file"]
    try:
        code = run(
            options["logdir"],
            options["resume"],
            options["set_items"],
            options["quiet"],
            flags,
            Path(stop_file) if stop_file else None,
        )
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    except OSError as e:
        raise click.ClickException(os_error_line(e)) from None
    except MemoryError:  # past check_memory's estimates, e.g. other programs hold the memory
        raise click.ClickException(
            "out of memory: lower buffer_size, hidden or batch_size (--set), or free memory"
        ) from None
    sys.exit(code)


def run(
    logdir: str | None,
    resume: str | None,
    set_items: tuple[str, ...],
    quiet: bool,
    flags: TrainFlags,
    stop_file: Path | None = None,
) -> int:
    """Checks the flags, then trains here, or re-launches this command under ``mpirun`` for
    ``--num_cpu`` > 1; returns the exit code."""
    from herdemos.parallel import connect

    ranks = connect()
    echo = click.echo if ranks.is_main else (lambda *args, **kwargs: None)
    if resume and logdir:
        raise HerdemosError("--resume and --logdir: give one (a resumed run keeps its folder)")
    if stop_file is not None and not relaunched_rank() and stop_file.exists():
        # (ranks that --num_cpu started skip this: their launcher may have made it, on a Ctrl-C)
        raise HerdemosError(
            f"--stop_file {stop_file}: exists already, so training would stop at once; remove it"
        )
    if ranks.size > 1 and flags.get("num_cpu") is None and not resume:
        flags = flags.with_given(num_cpu=ranks.size)  # launched as `mpirun -np N train.py`
    if resume:
        path = Path(resume)
        config = resume_config(path, flags, set_items)
        logged: list[dict[str, float]] | None = read_run_progress(path)  # damaged: stop now
    else:
        config = resolve_config(flags, set_items)
        logged = None  # a new run
        path = new_run_folder(logdir, config, ranks)
    return start(path, config, logged, ranks, echo, quiet=quiet, stop_file=stop_file)


def new_run_folder(logdir: str | Path | None, config: Config, ranks: Ranks) -> Path:
    """The folder of a new run: ``logdir``, else ``runs/<env>-<timestamp>``; checked to hold no
    run yet (nothing is created)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    env_name = re.sub(r"[^\w.-]", "_", config.train.env)  # module:Name, a factory's <lambda>
    default = str(Path("runs") / f"{env_name}-{stamp}")
    path = check_output_folder(
        str(logdir) if logdir else ranks.broadcast_object(default), "--logdir"
    )
    if (path / "progress.csv").exists() or (path / "params.json").exists():
        raise HerdemosError(
            f"--logdir {path}: already holds a run; continue it with "
            f"`python experiment/train.py --resume {path}`, or choose another folder"
        )
    ranks.barrier()  # every rank has checked before rank 0 writes anything
    return path


def start(
    path: Path,
    config: Config,
    logged: list[dict[str, float]] | None,
    ranks: Ranks,
    echo: Callable[..., None],
    quiet: bool = False,
    stop_file: Path | None = None,
    make: EnvMaker | None = None,
) -> int:
    """Checks the run against its env, loads its demos and trains it in ``path``: here, or by
    re-launching this command under ``mpirun`` for ``num_cpu`` > 1. train.py and
    :func:`herdemos.train` both start every run here; returns the exit code.

    Args:
        path: the run folder (new, or the resumed run's).
        config: the resolved config.
        logged: a resumed run's ``progress.csv`` rows (None: a new run).
        ranks: this job's MPI ranks.
        echo: where lines for the user go (a no-op on ranks other than 0).
        quiet: no progress bar.
        stop_file: stop at the next cycle once this file exists.
        make: makes the envs (default: ``train.env`` with ``train.env_kwargs``).
    """
    launch = config.train.num_cpu > 1 and ranks.size == 1  # re-launched under mpirun below
    if not launch and config.train.num_cpu != ranks.size:
        raise HerdemosError(
            f"--num_cpu {config.train.num_cpu} but this job has {ranks.size} MPI ranks"
            + (
                "; a run resumes with the number of ranks it started with"
                if logged is not None
                else ""
            )
        )
    # Heavy imports only after the flags are known to be good: --help and typos stay fast.
    from herdemos.environment import EnvMaker
    from herdemos.parallel import mpirun_command
    from herdemos.rendering import check_forced_backend

    check_forced_backend()  # before MuJoCo loads: a missing GL library is one line, not a trace
    from herdemos.data_generation.scripted_demos import cached_default_demos
    from herdemos.demos import load_demo_source, load_run_demos
    from herdemos.env_checks import check_against_env
    from herdemos.env_info import EnvInfo
    from herdemos.memory_check import check_memory

    make = make or EnvMaker.of(config.train)
    # What does not fit the env is one line here, before any rank starts or folder is made.
    probe = make()
    try:
        info = EnvInfo.of(probe, config.train.env, make.name)
        check_memory(config, info)  # sizes that cannot fit, before any allocation
        check_against_env(config, probe, name=make.name)  # before demos are generated
        demos = None
        if launch:
            if config.demo.num_demo > 0 and config.demo.demo_file is not None:
                # A bad file is one line here, not N ranks' errors and an MPI abort report.
                demo_file = load_demo_source(config.demo.demo_file, info, config.demo.num_demo)
                check_against_env(config, probe, demo_file, make.name)
        else:
            if not ranks.is_main:
                ranks.barrier()  # rank 0 generates (and caches) the default demos first
            demos = load_run_demos(config, info, echo, default_demos=cached_default_demos)
            check_against_env(config, probe, demos, make.name)
    finally:
        probe.close()
    if launch:
        # Re-launch this very command under mpirun with N ranks, as baselines did.
        command = mpirun_command(config.train.num_cpu, ["-m", "mpi4py", *sys.argv])
        echo(f"launching {config.train.num_cpu} MPI ranks: {' '.join(command)}")
        if stop_file is not None:  # the user's own stop file is in the command already
            return run_mpi_job(command, stop_file, echo)
        with tempfile.TemporaryDirectory(prefix="herdemos-") as scratch:
            stop = Path(scratch) / "stop"
            return run_mpi_job([*command, "--stop_file", str(stop)], stop, echo)
    lock_error = ""
    if ranks.is_main:
        path.mkdir(parents=True, exist_ok=True)
        try:
            acquire_run_lock(path)
            for line in clean_interrupted_writes(path):
                echo(f"{path}: {line} (left by an interrupted session)")
        except HerdemosError as e:
            lock_error = str(e)
        ranks.barrier()
    lock_error = ranks.broadcast_object(lock_error)
    if lock_error:
        raise HerdemosError(lock_error)
    try:
        return train_in(path, config, demos, logged, quiet, ranks, echo, stop_file, make)
    finally:
        if ranks.is_main:
            release_run_lock(path)


def train_in(
    path: Path,
    config: Config,
    demos: DemoData | None,
    logged: list[dict[str, float]] | None,
    quiet: bool,
    ranks: Ranks,
    echo: Callable[..., None],
    stop_file: Path | None = None,
    make: EnvMaker | None = None,
) -> int:
    """Trains the run in ``path``, which this process has locked; returns the exit code.

    ``logged`` holds the rows of a resumed run's ``progress.csv`` (None: a new run); those past
    the restored checkpoint are dropped, as that training is redone.
    """
    from herdemos.assembly import assemble
    from herdemos.checkpoint import list_checkpoints
    from herdemos.environment import EnvMaker
    from herdemos.logger import ProgressLog
    from herdemos.trainer import Trainer
    from herdemos.video import EpochVideos

    make = make or EnvMaker.of(config.train)
    parts = assemble(config, demos, ranks, log=click.echo, make=make)
    t = config.train
    videos = EpochVideos(make, parts.info, path, t.video_interval, t.seed, echo)
    trainer = Trainer(parts, path, log=click.echo, ranks=ranks, videos=videos)
    rows: list[dict[str, float]] = []
    resume = logged is not None
    restored = restore_latest(trainer, list_checkpoints(path)) if resume else None
    if resume and restored is None:  # killed before its first checkpoint: start again
        aside = set_aside_unchecked_session(path) if ranks.is_main else None
        ranks.barrier()
        echo(
            f"{path}: no checkpoint yet, so the run restarts from epoch 0 with its params.json"
            + (f"; the earlier session's log and policies are in {aside}" if aside else "")
        )
        resume = False
    if restored is not None:
        if config.train.n_epochs < trainer.state.epoch:  # params.json would forget epochs run
            raise HerdemosError(
                f"--n_epochs {config.train.n_epochs}: {path} has trained "
                f"{trainer.state.epoch} epochs already; give at least that many"
            )
        echo(f"resuming {path} from {restored.name}")
        rows = [r for r in logged or [] if r["epoch"] <= trainer.state.epoch]
    if ranks.is_main:
        atomic_write_text(path / "params.json", config.to_json() + "\n")
        record_session(path, [Path(sys.executable).name, *sys.argv], config.demo.demo_file)
        echo(f"logging to {path}")
    progress = ProgressLog(
        path,
        tensorboard=ranks.is_main,
        purge_step=trainer.state.total_env_steps + 1 if resume else None,
    )
    progress.restore(rows)
    try:
        with GracefulStop(echo, stop_file) as stop:
            finished = trainer.train(
                progress, show_bar=not quiet and ranks.is_main, stop_requested=stop
            )
    finally:
        progress.close()
    if not finished:
        if stop_file is not None and ranks.is_main:
            stopped_marker(stop_file).touch()
        cpu = f" --num_cpu {ranks.size}" if ranks.size > 1 else ""
        echo(
            f"stopped at epoch {trainer.state.epoch} cycle {trainer.epoch_progress.cycle}; "
            f"resume with: python experiment/train.py --resume {path}{cpu}",
            err=True,
        )
        # Under MPI a non-zero exit would make mpi4py abort the job mid-shutdown; the stop was
        # asked for and the checkpoint is complete, so the ranks exit cleanly.
        return 0 if ranks.size > 1 else 128 + (stop.signal or signal.SIGINT)
    echo(
        f"done: {trainer.state.epoch} epochs, {trainer.state.total_env_steps:,} env steps, "
        f"best test success {trainer.state.best_success:.2f}; policies in {path}"
    )
    return 0


def restore_latest(trainer: Any, checkpoints: list[Path]) -> Path | None:
    """Restores the newest checkpoint that loads, falling back to older ones with a warning;
    returns it, or None when the run has no checkpoint at all.

    Under MPI the choice is collective: if any rank cannot load a checkpoint, every rank moves
    on to the next older one, so all ranks resume from the same point.
    """
    if not checkpoints:
        return None
    error = ""
    for folder in checkpoints:
        try:
            trainer.restore_checkpoint(folder)
            failed = False
        except HerdemosError as e:
            error, failed = str(e), True
        if not trainer.ranks.any(failed):
            return folder
        if trainer.ranks.is_main:
            click.echo(
                f"warning: {error or 'another rank failed'}; trying an older checkpoint", err=True
            )
    raise HerdemosError(
        f"--resume: no checkpoint could be loaded ({error or 'on another rank'}); to start the "
        f"run again from epoch 0, move the checkpoint-* folders out of {trainer.logdir} and "
        "--resume again"
    )


if __name__ == "__main__":
    main()
