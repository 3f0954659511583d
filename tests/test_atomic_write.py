"""Atomic writes: all or nothing, ordinary permissions, and output paths checked up front."""

import os
import stat
from pathlib import Path

import pytest

from herdemos.util import (
    HerdemosError,
    atomic_write,
    atomic_write_text,
    check_output_file,
    check_output_folder,
)


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "results.json"
    target.write_text("old")

    def fail_halfway(f):
        f.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, fail_halfway)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_written_files_get_the_umask_permissions_not_0600(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "params.json", "{}")
        assert os.umask(umask) == umask  # reading the umask left it as it was
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "params.json").stat().st_mode) == mode


def test_new_folders_are_made(tmp_path):
    atomic_write_text(tmp_path / "a" / "b" / "c.txt", "x")
    assert (tmp_path / "a" / "b" / "c.txt").read_text() == "x"


@pytest.mark.parametrize(
    ("make_path", "message"),
    [
        (lambda d: d / "notes.txt" / "out.json", "notes.txt is a file, not a folder"),
        (lambda d: d / "notes.txt" / "deeper" / "out.json", "notes.txt is a file, not a folder"),
        (lambda d: d, "is a folder, not a file"),
        (lambda d: "", "is a folder, not a file"),
    ],
)
def test_impossible_outputs_are_one_line_errors_naming_the_flag(tmp_path, make_path, message):
    (tmp_path / "notes.txt").write_text("keep me")
    path = make_path(tmp_path)
    with pytest.raises(HerdemosError, match=f"--out .*{message}"):
        check_output_file(path, "--out")
    with pytest.raises(HerdemosError, match=message):
        atomic_write_text(path, "x")
    assert (tmp_path / "notes.txt").read_text() == "keep me"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_a_folder_that_refuses_new_files_is_caught_up_front_even_for_root():
    """os.access says yes to root everywhere; /proc still cannot hold a new file."""
    with pytest.raises(HerdemosError, match="--out /proc/x.npz: cannot create files in /proc"):
        check_output_file("/proc/x.npz", "--out")
    with pytest.raises(HerdemosError, match="--logdir /proc/run: cannot create files in /proc"):
        check_output_folder("/proc/run", "--logdir")
    with pytest.raises(HerdemosError, match="/proc/x.npz: cannot create files in /proc"):
        atomic_write_text("/proc/x.npz", "x")  # named after the file, not its temporary


def test_an_output_folder_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(HerdemosError, match="notes.txt: is a file, not a folder"):
        check_output_folder(tmp_path / "notes.txt", "--logdir")
    assert check_output_folder(tmp_path / "new" / "run", "--logdir") == tmp_path / "new" / "run"
    assert (tmp_path / "notes.txt").read_text() == "keep me"
