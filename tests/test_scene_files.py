"""The scene MJCF files the stacking and WAM envs load from the temp dir: written whole, and
never taken from a folder another user controls."""

import os
import tempfile
from pathlib import Path

import pytest

from herdemos.envs.scene import scene_xml, write_scene


@pytest.fixture
def temp_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_a_scene_is_written_once_per_content_and_read_back_whole(temp_dir):
    xml = scene_xml(2)
    path = write_scene(xml, "stack2")
    assert Path(path).read_text() == xml
    assert write_scene(xml, "stack2") == path  # cached
    assert write_scene(scene_xml(3), "stack3") != path
    assert not [p for p in os.listdir(os.path.dirname(path)) if p.endswith(".tmp")]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs chown")
def test_a_cache_folder_created_by_another_user_is_not_trusted(temp_dir):
    """Another user could have put a model under the name the cache will look for."""
    planted = temp_dir / f"herdemos_scenes-{os.getuid()}"
    planted.mkdir()
    xml = scene_xml(2)
    first = write_scene(xml, "stack2")  # finds the file name the cache uses
    os.chown(planted, 12345, 12345)
    (planted / os.path.basename(first)).write_text("<mujoco/>")  # replaced by "someone else"
    path = write_scene(xml, "stack2")
    assert os.path.dirname(path) != str(planted)
    assert Path(path).read_text() == xml


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_an_own_cache_folder_that_others_can_write_is_made_private(temp_dir):
    folder = temp_dir / f"herdemos_scenes-{os.getuid()}"
    folder.mkdir()
    folder.chmod(0o777)
    path = write_scene(scene_xml(2), "stack2")
    assert os.path.dirname(path) == str(folder)
    assert folder.stat().st_mode & 0o022 == 0
