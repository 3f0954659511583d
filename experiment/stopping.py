"""Signal handling for training: stop cleanly at a cycle boundary, also across MPI ranks."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import click

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Signals that ask training to stop after the current cycle: Ctrl-C, ``kill``, and a closed
terminal or ssh session."""


def install_stop_handlers(handler: Callable[[int, object], None]) -> dict[int, object]:
    """Sets ``handler`` for the stop signals and returns the handlers it replaced.

    A SIGHUP that is already ignored stays ignored: ``nohup`` asked for training to outlive the
    terminal. (An ignored SIGINT, which every background job of a shell inherits, is still
    taken over, so ``kill -INT PID`` stops a background run.)

    Python delivers signals to the main thread only and allows handlers nowhere else: in another
    thread (the Python API from a notebook's or a GUI's worker) nothing is taken over, and a
    stop file is the only way to ask for a stop.
    """
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {
        s: signal.signal(s, handler)
        for s in STOP_SIGNALS
        if not (s == signal.SIGHUP and signal.getsignal(s) == signal.SIG_IGN)
    }


RELAUNCHED_VARIABLE = "HERDEMOS_RELAUNCHED"
"""Set to 1 in the environment of the ranks that :func:`run_mpi_job` starts. Their stop file may
already exist (a Ctrl-C before they started); a rank without it was started by hand (``mpirun -np
N python experiment/train.py``), so an existing stop file is stale and is refused."""


def relaunched_rank() -> bool:
    """Whether this process is a rank started by ``train.py --num_cpu N`` itself."""
    return os.environ.get(RELAUNCHED_VARIABLE) == "1"


def stopped_marker(stop_file: Path) -> Path:
    """The file rank 0 writes next to ``stop_file`` when training stopped before its last epoch
    (so a stop asked for just as the run finished is not reported as an interruption)."""
    return stop_file.with_name(stop_file.name + ".stopped")


def run_mpi_job(command: list[str], stop_file: Path, echo: Callable[..., None]) -> int:
    """Runs the ``mpirun`` command that re-launches training; returns the exit code to use.

    ``mpirun`` (Open MPI's prterun) puts each rank in a process group of its own and answers a
    Ctrl-C by aborting the job, so the ranks would never see the signal and would die without a
    checkpoint. The job therefore runs in a session of its own, and the first SIGINT, SIGTERM or
    SIGHUP sent here creates ``stop_file``, which the ranks poll between cycles (it is in their
    command as ``--stop_file``): they finish the cycle, write a checkpoint and exit. A second
    Ctrl-C ends the job at once, without one. If this process dies outright (SIGKILL), Linux
    sends ``mpirun`` SIGTERM, so no job trains on unseen.
    """
    requested: list[int] = []
    running: list[subprocess.Popen] = []

    def handle(signum: int, frame: object) -> None:
        if requested and signum == signal.SIGINT and running:
            echo("\nsecond Ctrl-C: ending the MPI job without a checkpoint", err=True)
            os.killpg(running[0].pid, signal.SIGTERM)
            return
        if not requested:  # the ranks read the file once they start, if they have not yet
            requested.append(signum)
            stop_file.touch()
            echo(
                f"\n{signal.Signals(signum).name}: the ranks finish their current cycle and "
                "write a checkpoint (Ctrl-C again to abort without one)",
                err=True,
            )

    previous = install_stop_handlers(handle)
    try:
        running.append(
            subprocess.Popen(
                command,
                env={**os.environ, RELAUNCHED_VARIABLE: "1"},
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        )
        code = running[0].wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if running and running[0].poll() is None:  # torn down by an error: take the job along
            os.killpg(running[0].pid, signal.SIGTERM)
            running[0].wait()
    stopped_early = stopped_marker(stop_file).exists()
    if requested:  # this process made the stop file; a rerun must not find it
        stop_file.unlink(missing_ok=True)
        stopped_marker(stop_file).unlink(missing_ok=True)
    if requested and code == 0 and stopped_early:
        return 128 + requested[0]  # stopped as asked, as a single-process run reports it
    return code


def _die_with_parent() -> None:
    """Runs in the ``mpirun`` child before exec: on Linux, ask for SIGTERM when the launcher
    dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class GracefulStop:
    """SIGINT, SIGTERM or SIGHUP (or a stop file appearing) ask the loop to stop after the
    current cycle (and checkpoint); a second Ctrl-C stops at once."""

    def __init__(self, echo=click.echo, stop_file: Path | None = None) -> None:
        """``stop_file``: a file whose appearance also asks for the stop (``--stop_file``; see
        :func:`run_mpi_job`)."""
        self.signal: int | None = None
        self._echo = echo
        self._stop_file = stop_file

    def __enter__(self) -> GracefulStop:
        self._previous = install_stop_handlers(self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: object) -> None:
        if self.signal is not None:  # already stopping: only a second Ctrl-C changes that
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            return
        self.signal = signum
        self._echo(
            f"\n{signal.Signals(signum).name}: finishing the current cycle and writing a "
            "checkpoint (Ctrl-C again to abort without one)",
            err=True,
        )

    def __call__(self) -> bool:
        return self.signal is not None or (self._stop_file is not None and self._stop_file.exists())
