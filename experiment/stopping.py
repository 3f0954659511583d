"""Signal handling for training: stop cleanly at a cycle boundary, also across MPI ranks."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import click


def run_mpi_job(command: list[str], stop_file: Path, echo: Callable[..., None]) -> int:
    """Runs the ``mpirun`` command that re-launches training; returns the exit code to use.

    ``mpirun`` (Open MPI's prterun) puts each rank in a process group of its own and answers a
    Ctrl-C by aborting the job, so the ranks would never see the signal and would die without a
    checkpoint. The job therefore runs in a session of its own, and the first SIGINT/SIGTERM
    sent here creates ``stop_file``, which the ranks poll between cycles (they were given it as
    ``--stop_file``): they finish the cycle, write a checkpoint and exit. A second Ctrl-C ends
    the job at once, without one.
    """
    job = subprocess.Popen(command, start_new_session=True)
    requested: list[int] = []

    def handle(signum: int, frame: object) -> None:
        if requested and signum == signal.SIGINT:
            echo("\nsecond Ctrl-C: ending the MPI job without a checkpoint", err=True)
            os.killpg(job.pid, signal.SIGTERM)
            return
        if not requested:
            requested.append(signum)
            stop_file.touch()
            echo(
                f"\n{signal.Signals(signum).name}: the ranks finish their current cycle and "
                "write a checkpoint (Ctrl-C again to abort without one)",
                err=True,
            )

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = job.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if job.poll() is None:  # this process is being torn down: take the job with it
            os.killpg(job.pid, signal.SIGTERM)
            job.wait()
    if requested and code == 0:
        return 128 + requested[0]  # stopped as asked, as a single-process run reports it
    return code


class GracefulStop:
    """SIGINT/SIGTERM (or the launcher's stop file) ask the loop to stop after the current cycle
    (and checkpoint); a second Ctrl-C stops at once."""

    def __init__(self, echo=click.echo, stop_file: Path | None = None) -> None:
        """``stop_file``: a file whose appearance also asks for the stop (see
        :func:`run_mpi_job`)."""
        self.signal: int | None = None
        self._echo = echo
        self._stop_file = stop_file

    def __enter__(self) -> GracefulStop:
        self._previous = {
            s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)
        }
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: object) -> None:
        if self.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal = signum
        self._echo(
            f"\n{signal.Signals(signum).name}: finishing the current cycle and writing a "
            "checkpoint (Ctrl-C again to abort without one)",
            err=True,
        )

    def __call__(self) -> bool:
        return self.signal is not None or (self._stop_file is not None and self._stop_file.exists())
