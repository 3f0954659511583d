"""The plain-data unpickler behind policy files: arrays come back exactly, NumPy never sees a
state from the file, and malformed or foreign content is refused with UnpicklingError."""

import contextlib
import pickle
import random
import sys

import numpy as np
import pytest

from herdemos.plain_pickle import NDARRAY, STAND_INS, loads_plain_data


def test_arrays_scalars_and_containers_round_trip_exactly():
    rng = np.random.default_rng(0)
    data = {
        "w": [rng.normal(size=(3, 4)).astype(np.float32), np.zeros(4, np.float32)],
        "fortran": np.asfortranarray(rng.normal(size=(2, 5))),
        "big_endian": np.arange(6, dtype=">i4").reshape(2, 3),
        "flags": np.array([True, False]),
        "empty": np.zeros((0, 3), np.float64),
        "scalar": np.float64(2.5),
        "meta": {"env_id": "FetchReach-v4", "epochs": (1, 2), "ok": None},
    }
    for protocol in (3, 4):  # 5 spells arrays with _frombuffer, refused
        back = loads_plain_data(pickle.dumps(data, protocol=protocol))
        assert back.keys() == data.keys()
        for key in ("fortran", "big_endian", "flags", "empty"):
            assert back[key].dtype == data[key].dtype and back[key].shape == data[key].shape
            np.testing.assert_array_equal(back[key], data[key])
        for got, want in zip(back["w"], data["w"], strict=True):
            np.testing.assert_array_equal(got, want)
            assert got.dtype == np.float32 and got.flags.writeable
        assert back["scalar"] == 2.5 and isinstance(back["scalar"], np.float64)
        assert back["meta"] == data["meta"]


@pytest.mark.parametrize(
    "value, message",
    [
        (np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]), "dtype"),  # structured
        (np.array(["text"]), "dtype"),  # unicode array
        (np.array([object()], dtype=object), "not plain data"),
        (np.ma.masked_array([1.0, 2.0]), "not plain data"),  # an ndarray subclass
        (np.complex128(1j), "dtype"),
    ],
)
def test_anything_but_plain_number_arrays_is_refused(value, message):
    with pytest.raises(pickle.UnpicklingError, match=message):
        loads_plain_data(pickle.dumps(value, protocol=4))


def test_array_data_of_the_wrong_length_is_refused():
    raw = pickle.dumps(np.zeros(4, np.float32), protocol=3)  # no frames to fix up
    data = raw.replace(b"C\x10" + bytes(16), b"C\x0c" + bytes(12))  # SHORT_BINBYTES, 16 -> 12
    assert data != raw
    with pytest.raises(pickle.UnpicklingError, match="does not match its shape"):
        loads_plain_data(data)


def test_the_file_cannot_set_attributes_on_the_stand_ins():
    # GLOBAL numpy ndarray, then BUILD with a (None, slot-state) pair: setattr on the marker.
    data = b"\x80\x04cnumpy\nndarray\nN}\x8c\x05build\x94K\x01s\x86b."
    with pytest.raises(pickle.UnpicklingError, match="a state for a global"):
        loads_plain_data(data)
    assert NDARRAY.build is None
    with pytest.raises(pickle.UnpicklingError, match="not called"):
        loads_plain_data(b"\x80\x04cnumpy\nndarray\n)R.")
    assert set(STAND_INS) >= {("numpy", "dtype"), ("numpy._core.multiarray", "_reconstruct")}


def test_bit_flips_never_leave_errors_behind(monkeypatch, capfd):
    """Corrupted files fail in the loader, never later while a half-built object is freed: NumPy's
    ``dtype.__setstate__`` did that with flipped flag bits, and CPython's C unpickler printed
    "SystemError: deallocated bytearray object has exported buffers" for flipped opcodes."""
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    valid = pickle.dumps({"w": [np.ones((4, 8), np.float32), np.zeros(8, np.float32)]}, 4)
    rng = random.Random(0)
    for _ in range(3000):
        data = bytearray(valid)
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        with contextlib.suppress(Exception):  # load_policy turns any failure into one line
            loads_plain_data(bytes(data))
    assert unraisable == []
    assert capfd.readouterr().err == ""


def test_out_of_band_buffer_opcodes_are_refused_before_loading():
    data = pickle.dumps(bytearray(b"abc"), protocol=5)  # BYTEARRAY8
    with pytest.raises(pickle.UnpicklingError, match="BYTEARRAY8"):
        loads_plain_data(data)
