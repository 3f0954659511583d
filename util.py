"""Small helpers shared by every module: the user-error type and atomic file writes."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any


class HerdemosError(Exception):
    """A user-facing problem (bad flag, bad file). Command lines print it as one line, no traceback.

    Messages name the flag or file and the problem, e.g. ``demos.npz: missing keys ['u']``.
    Embedded library messages can span lines; they are folded into one.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


def os_error_line(error: OSError) -> str:
    """A full disk, a missing folder or a permission problem as one line naming the file."""
    name = error.filename or "file system"
    return f"{name}: {error.strerror or error}"


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> None:
    """Write a file so that readers see either the old content or the complete new content.

    The data goes to a temporary file in the same folder (same filesystem, so the final
    ``os.replace`` is atomic), is flushed and fsync'ed, and only then renamed over ``path``.
    A crash or a full disk mid-write leaves the previous file untouched.

    Args:
        path: destination file.
        write: callback that writes the content to the binary file object it is given.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Atomically write a UTF-8 text file (see :func:`atomic_write`)."""
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Mutes what native libraries write to file descriptor 2 (not Python's ``sys.stderr``).

    TensorFlow's C++ runtime prints absl and oneDNN notices on import that no flag turns off;
    they are the first thing every command would show. Python exceptions are unaffected.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
