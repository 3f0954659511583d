"""Signal handling for training: stop cleanly at a cycle boundary, or leave it to MPI ranks."""

from __future__ import annotations

import signal

import click


class IgnoreInterrupts:
    """While the MPI ranks run, the launching process leaves SIGINT/SIGTERM to them."""

    def __enter__(self) -> None:
        signals = (signal.SIGINT, signal.SIGTERM)
        self._previous = {s: signal.signal(s, signal.SIG_IGN) for s in signals}

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class GracefulStop:
    """SIGINT/SIGTERM ask the loop to stop after the current cycle (and checkpoint); a second
    Ctrl-C stops at once."""

    def __init__(self, echo=click.echo) -> None:
        self.signal: int | None = None
        self._echo = echo

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
        return self.signal is not None
