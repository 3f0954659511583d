"""Atomic writes: all or nothing, ordinary permissions, and output paths checked up front."""

import os
import stat

import pytest

from herdemos.util import HerdemosError, atomic_write, atomic_write_text, check_output_file


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
