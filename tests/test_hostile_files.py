"""Hostile files: each case the outside fuzzer found is a one-line error in bounded time."""

import io
import json
import pickle
import struct
import time
import zipfile

import numpy as np
import pytest

from herdemos import load_policy
from herdemos.bounded_files import MAX_NPZ_MEMBERS, Refused, json_depth, loads_json, read_npz
from herdemos.demos import load_demos
from herdemos.policy import Policy
from herdemos.util import HerdemosError


def policy_dict() -> dict:
    rng = np.random.default_rng(0)

    def layer(n_in, n_out):
        return [rng.normal(size=(n_in, n_out)).astype(np.float32), np.zeros(n_out, np.float32)]

    zeros, ones = np.zeros(2, np.float32), np.ones(2, np.float32)
    actor, critic = layer(4, 8) + layer(8, 2), layer(6, 8) + layer(8, 1)
    return Policy(actor, critic, zeros, ones, zeros, ones, 200.0, 5.0, 1.0, {}).to_dict()


def assert_one_line_refusal(load, path, *fragments) -> None:
    """``load(path)`` raises a one-line error naming ``path`` and ``fragments``, within 5 s."""
    start = time.perf_counter()
    with pytest.raises(HerdemosError) as error:
        load(path)
    assert time.perf_counter() - start < 5
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    assert all(f in message for f in fragments), message


def refused(tmp_path, payload, *fragments) -> None:
    path = tmp_path / "policy.pkl"
    path.write_bytes(payload if isinstance(payload, bytes) else pickle.dumps(payload, protocol=4))
    assert_one_line_refusal(load_policy, path, *fragments)


def test_a_valid_policy_still_loads(tmp_path):
    path = tmp_path / "policy.pkl"
    path.write_bytes(pickle.dumps(policy_dict(), protocol=4))
    policy = load_policy(path)
    assert np.isfinite(policy.deterministic(np.full(2, 1e30), np.zeros(2))).all()


def test_a_zero_width_layer_is_refused(tmp_path):
    d = policy_dict()
    d["actor_weights"][0], d["actor_weights"][1] = np.zeros((4, 0), np.float32), np.zeros(0)
    d["actor_weights"][2] = np.zeros((0, 2), np.float32)
    refused(tmp_path, d, "zero width")


@pytest.mark.parametrize("key", ["o_std", "g_std"])
def test_normaliser_statistics_of_the_wrong_length_are_refused(tmp_path, key):
    d = policy_dict()
    d[key] = np.ones(3, np.float32)
    refused(tmp_path, d, "must have one equal, non-zero length")


def test_a_zero_std_is_refused(tmp_path):
    d = policy_dict()
    d["o_std"] = np.zeros(2, np.float32)
    refused(tmp_path, d, "o_std must be > 0")


@pytest.mark.parametrize("key", ["max_u", "clip_obs", "norm_clip"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 0.0, -1.0, 1e300])
def test_action_bound_and_clipping_must_be_finite_and_positive(tmp_path, key, value):
    d = policy_dict()
    d[key] = value
    refused(tmp_path, d, key)


def test_a_scalar_too_large_for_a_float_is_refused(tmp_path):
    d = policy_dict()
    d["max_u"] = 10**400
    refused(tmp_path, d, "max_u is too large for a float")


def test_weights_that_could_overflow_float32_are_refused(tmp_path):
    d = policy_dict()
    d["actor_weights"][2] = np.full((8, 2), 3e37, np.float32)
    refused(tmp_path, d, "overflow float32")


def test_metadata_of_the_wrong_types_is_refused(tmp_path):
    d = policy_dict()
    d["metadata"] = {"epoch": [1, 2]}  # averaging hashes it
    refused(tmp_path, d, "metadata 'epoch' has the wrong type")
    d["metadata"] = {"config": {"ddpg": 3}}
    refused(tmp_path, d, "metadata 'config'")


def test_deep_nesting_in_a_policy_is_refused(tmp_path):
    deep: list = []
    for _ in range(200):
        deep = [deep]
    d = policy_dict()
    d["metadata"] = {"notes": deep}
    refused(tmp_path, d, "nested deeper than 64")


def test_a_million_deep_list_is_refused_quickly(tmp_path):
    n = 1_000_000  # EMPTY_LIST n times, then APPEND n - 1 times
    refused(tmp_path, b"\x80\x04" + b"]" * n + b"a" * (n - 1) + b".", "pickle opcodes")


def test_billion_laughs_through_memo_references_is_refused_quickly(tmp_path):
    parts = [b"\x80\x04", b"]", b"\x94"]  # [] memoised as entry 0
    for i in range(40):  # entry i + 1 = [entry i, entry i]: 2**40 leaves once walked
        parts += [b"(", b"h" + bytes([i]), b"h" + bytes([i]), b"l", b"\x94"]
    refused(tmp_path, b"".join([*parts, b"."]), "more than 200,000 values")


def test_a_huge_memo_index_is_refused_before_the_unpickler_allocates_it(tmp_path):
    payload = b"\x80\x04" + b"]" + b"r" + struct.pack("<I", 2**31) + b"."  # LONG_BINPUT
    refused(tmp_path, payload, "memo entries")


# ----- demo files (.npz) -----
def npz_bytes(members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def npy(array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def demo_members(metadata: str = '{"env_id": "x"}') -> dict[str, bytes]:
    n, t = 2, 3
    shapes = {"o": (n, t + 1, 2), "ag": (n, t + 1, 2), "g": (n, t, 2), "u": (n, t, 2)}
    members = {f"{k}.npy": npy(np.zeros(s, np.float32)) for k, s in shapes.items()}
    members["info_is_success.npy"] = npy(np.zeros((n, t, 1), np.float32))
    members["metadata.npy"] = npy(np.array(metadata))
    return members


def demo_refused(tmp_path, data: bytes, *fragments) -> None:
    path = tmp_path / "demos.npz"
    path.write_bytes(data)
    assert_one_line_refusal(load_demos, path, *fragments)


def test_a_demo_file_written_by_hand_with_valid_members_loads(tmp_path):
    path = tmp_path / "demos.npz"
    path.write_bytes(npz_bytes(demo_members(), zipfile.ZIP_DEFLATED))
    assert load_demos(path).n_episodes == 2


def test_a_member_that_is_not_a_npy_array_is_refused(tmp_path):
    members = demo_members()
    members["u.npy"] = b"just some bytes"
    demo_refused(tmp_path, npz_bytes(members), "member 'u.npy' is not a .npy array")
    members = demo_members()
    members["notes.txt"] = b"hello"
    demo_refused(tmp_path, npz_bytes(members), "member 'notes.txt' is not one .npy array")


def test_a_member_whose_data_does_not_fill_its_shape_is_refused(tmp_path):
    members = demo_members()
    members["u.npy"] = members["u.npy"][:-4]
    demo_refused(tmp_path, npz_bytes(members), "not its shape's")


def test_an_archive_of_many_members_is_refused_from_its_end_record(tmp_path):
    members = {f"m{i}.npy": b"" for i in range(MAX_NPZ_MEMBERS + 1)}
    demo_refused(tmp_path, npz_bytes(members), f"{MAX_NPZ_MEMBERS + 1} archive members")


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    path = tmp_path / "demos.npz"
    archive = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
    with archive, archive.open("o.npy", "w") as member:
        member.write(npy(np.zeros(0, np.float32))[:128])
        zeros = bytes(1 << 24)
        for _ in range(10):  # 160 MB of zeros, deflated to a few hundred KB
            member.write(zeros)
    assert path.stat().st_size < 1 << 20
    demo_refused(tmp_path, path.read_bytes(), "unpacks to 167,772,288 bytes, more than the limit")


def test_a_member_longer_than_its_declared_size_is_read_only_up_to_that_size(tmp_path):
    """The directory says the member is 10 bytes shorter (with a CRC of that much): reading
    stops there, and the array's header then no longer matches its data."""
    import zlib

    path = tmp_path / "demos.npz"
    member = npy(np.zeros(100, np.float32))
    path.write_bytes(npz_bytes({"o.npy": member}))
    data = bytearray(path.read_bytes())
    short = len(member) - 10
    for header, offset in ((b"PK\x03\x04", 14), (b"PK\x01\x02", 16)):  # local, central
        at = data.find(header)
        struct.pack_into("<LLL", data, at + offset, zlib.crc32(member[:short]), len(member), short)
    path.write_bytes(bytes(data))
    with pytest.raises(Refused, match="holds 390 bytes, not its shape's"):
        read_npz(path)


def test_deeply_nested_demo_metadata_is_refused(tmp_path):
    members = demo_members("[" * 100_000 + "]" * 100_000)
    demo_refused(tmp_path, npz_bytes(members), "'metadata'", "nested deeper than the limit of 64")


def test_json_depth_ignores_brackets_inside_strings():
    assert json_depth('{"a": [1, {"b": "[[[[{{{"}]}') == 3
    assert json_depth('"\\"[[["') == 0
    with pytest.raises(Refused, match="nested deeper"):
        loads_json("[" * 65 + "]" * 65)
    assert loads_json("[" * 64 + "]" * 64) is not None
    with pytest.raises(Refused, match="not valid JSON"):
        loads_json("1" * 5000)  # past Python's digit limit for int()


def test_deeply_nested_params_json_is_one_line(tmp_path):
    from herdemos.experiment.flags import TrainFlags
    from herdemos.experiment.resolve import resume_config

    (tmp_path / "params.json").write_text(json.dumps({"ddpg": {}}).replace("{}", "[" * 10**5))
    with pytest.raises(HerdemosError, match="params.json: unreadable .*nested deeper"):
        resume_config(tmp_path, TrainFlags.from_options({}), ())
