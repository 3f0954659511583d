"""provenance.json: one record per training session, never lost to a damaged file."""

import json

from herdemos.provenance import FILE_NAME, record_session


def test_each_session_is_appended_and_a_damaged_file_is_kept_aside(tmp_path):
    record_session(tmp_path, ["python", "train.py", "--seed", "1"], None)
    record_session(tmp_path, ["python", "train.py", "--resume", "x"], None)
    sessions = json.loads((tmp_path / FILE_NAME).read_text())["sessions"]
    assert [s["command"] for s in sessions] == [
        "python train.py --seed 1",
        "python train.py --resume x",
    ]
    assert "demo_file" not in sessions[0] and sessions[0]["machine"]["cores"] >= 1
    (tmp_path / FILE_NAME).write_text("{not json")
    record_session(tmp_path, ["python", "train.py"], None)
    assert (tmp_path / (FILE_NAME + ".bad")).read_text() == "{not json"
    assert len(json.loads((tmp_path / FILE_NAME).read_text())["sessions"]) == 1
