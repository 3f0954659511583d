"""Small helpers shared by every module: the user-error type and atomic file writes."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
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


def check_output_file(path: str | os.PathLike, flag: str) -> Path:
    """Checks, before any work is done, that ``path`` can become a file: it is not a folder and
    its folder exists or can be made. Returns it as a Path.

    Commands call this on their output flags up front, so that a typo in ``--out`` costs a
    one-line error instead of the results of a long evaluation.

    Raises:
        HerdemosError: naming ``flag`` and the problem.
    """
    path = Path(path)
    if str(path) in ("", ".") or path.is_dir():
        raise HerdemosError(f"{flag} {str(path)!r}: is a folder, not a file")
    _check_can_create_in(path.parent, flag, path)
    return path


def check_json_out(out: str, policy_file: str | os.PathLike) -> Path:
    """Checks an analysis command's ``--out`` before any episode runs: a writable ``.json``
    path, and not the policy file being read, which writing the results would destroy.

    Raises:
        HerdemosError: naming ``--out`` and the problem.
    """
    path = check_output_file(out, "--out")
    if path.resolve() == Path(policy_file).resolve():
        raise HerdemosError(f"--out {out}: is the policy file being read; choose another file")
    if path.suffix != ".json":
        raise HerdemosError(f"--out {out}: must end in .json (the results are written as JSON)")
    return path


def check_output_folder(path: str | os.PathLike, flag: str) -> Path:
    """Like :func:`check_output_file`, for a folder that files will be written into."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise HerdemosError(f"{flag} {path}: is a file, not a folder")
    _check_can_create_in(path, flag, path)
    return path


def _check_can_create_in(folder: Path, flag: str, shown: Path) -> None:
    """Raises unless files can be created in ``folder``, or in the nearest existing folder
    above it (where the missing ones will be made)."""
    for parent in (folder, *folder.parents):
        if parent.exists():
            if not parent.is_dir():
                raise HerdemosError(f"{flag} {shown}: {parent} is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise HerdemosError(f"{flag} {shown}: {parent} is not writable")
            try:  # root passes os.access everywhere; /proc or a read-only mount still refuse
                with tempfile.TemporaryFile(dir=parent):
                    pass
            except OSError as e:
                raise HerdemosError(
                    f"{flag} {shown}: cannot create files in {parent} ({e.strerror or e})"
                ) from None
            return


def _umask() -> int:
    """The process umask.

    Linux reports it in ``/proc/self/status``; elsewhere it can only be read by setting it,
    so it is set straight back (process-wide, for an instant).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> None:
    """Write a file so that readers see either the old content or the complete new content.

    The data goes to a temporary file in the same folder (same filesystem, so the final
    ``os.replace`` is atomic), is flushed and fsync'ed, and only then renamed over ``path``.
    A crash or a full disk mid-write leaves the previous file untouched. The file gets the
    permissions an ordinary ``open`` would give it (``mkstemp`` alone would leave it 0600).

    Args:
        path: destination file.
        write: callback that writes the content to the binary file object it is given.

    Raises:
        HerdemosError: the file cannot be written (a folder in its place, a file where its
            folder should be, no permission, a full disk), as one line naming the file.
    """

    def write_to(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            write(f)

    _write_then_rename(path, write_to, ".tmp")


def atomic_write_named(path: str | os.PathLike, write_to: Callable[[Path], Any]) -> None:
    """Like :func:`atomic_write`, for writers that take a file name rather than a file object
    (a video encoder). The temporary name ends in ``path``'s suffix, from which such writers
    choose their format.
    """
    _write_then_rename(path, write_to, f".tmp{Path(path).suffix}")


def _write_then_rename(
    path: str | os.PathLike, write_to: Callable[[Path], Any], suffix: str
) -> None:
    path = check_output_file(path, "output")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
        os.close(fd)
    except OSError as e:
        raise HerdemosError(f"{path}: cannot write ({e.strerror or e})") from None
    try:
        write_to(Path(tmp))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):  # named after the file asked for, not the temporary one
            raise HerdemosError(f"{path}: cannot write ({e.strerror or e})") from None
        raise


def atomic_create_folder(path: str | os.PathLike, write_into: Callable[[Path], Any]) -> None:
    """Create a folder of files so that it appears complete or not at all (a SavedModel).

    The files are written into a hidden sibling folder, which is then renamed to ``path``: an
    export that fails halfway leaves nothing behind. An existing ``path`` is never replaced.

    Raises:
        HerdemosError: ``path`` exists, or the folder cannot be made, as one line.
    """
    path = Path(path)
    if path.exists():
        raise HerdemosError(f"{path}: already exists; choose a new folder")
    check_output_file(path, "output")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    except OSError as e:
        raise HerdemosError(f"{path}: cannot create ({e.strerror or e})") from None
    try:
        write_into(tmp)
        tmp.chmod(0o777 & ~_umask())
        tmp.rename(path)
    except OSError as e:
        raise HerdemosError(f"{path}: cannot create ({e.strerror or e})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
