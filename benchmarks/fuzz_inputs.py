"""Hostile inputs for herdemos' five file kinds, each drawn from a seed, and how a loader did.

The kinds are the files herdemos reads from disk: a demo ``.npz``, a policy ``.pkl``, a run's
``params.json``, a checkpoint's state (its ``state-rank0.npz``, sometimes its TF files) and a
run's ``progress.csv``. Each input starts from a valid file of its kind and is either mangled as
bytes (random bytes, truncation, bit flips, overwritten, deleted or repeated chunks) or rebuilt
with one hostile part: a value of the wrong type or range, NaN, Inf, integers past any float,
arrays of odd shapes and types, deep nesting, archives of many members or a zip bomb, memo
"billion laughs" and million-deep pickles. ``tests/test_fuzz_files.py`` runs a few hundred of
them in the suite; ``benchmarks/fuzz.py`` runs ten thousand with a timeout and memory count.
"""

from __future__ import annotations

import copy
import io
import json
import pickle
import struct
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

KINDS = ("demo", "policy", "params", "checkpoint", "progress")
HOSTILE_JSON = [
    "NaN", "Infinity", "-Infinity", "0", "-1", "1e999", "1" * 400, "9" * 5000, "true", "null",
    '"x"', '""', "[]", "{}", '{"a": 1}', "[" * 100 + "]" * 100, "[" * 100_000 + "]" * 100_000,
    '{"a":' * 5000 + "1" + "}" * 5000, '"' + "\\u0000" * 10 + '"', "1.5", "-0.0", "4294967296",
]  # fmt: skip
HOSTILE_VALUES: list[Any] = [
    float("nan"), float("inf"), -float("inf"), 0, 0.0, -1, -1e-300, 1e308, 10**400, True, None,
    "x", "", [], {}, (), b"bytes", [1, "a"], {"a": {"b": None}}, 2**63, -(2**63),
]  # fmt: skip
DTYPES = ["f4", "f8", "f2", "i4", "i8", "u1", "b1", "c8", "U5", "S3", "V4", "O", ">f4"]


def pick(rng: np.random.Generator, items: list[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


# ----- bytes -----
def byte_mutation(valid: bytes, rng: np.random.Generator) -> bytes:
    """Random bytes, a truncation, bit flips, or an overwritten, deleted or repeated chunk."""
    n, op = max(len(valid), 1), int(rng.integers(5))
    if op == 0:
        return rng.bytes(int(rng.integers(0, 4096)))
    if op == 1:
        return valid[: int(rng.integers(0, n))]
    data = bytearray(valid)
    if op == 2:
        for _ in range(int(rng.integers(1, 17))):
            data[int(rng.integers(0, n))] ^= 1 << int(rng.integers(8))
        return bytes(data)
    at, size = int(rng.integers(0, n)), int(rng.integers(1, 65))
    if op == 3:
        data[at : at + size] = rng.bytes(size)
    elif op == 4 and rng.random() < 0.5:
        del data[at : at + size]
    else:
        data[at:at] = data[at : at + size] * int(rng.integers(1, 50))
    return bytes(data)


def zip_archive(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip written by hand, so that its declared sizes can lie: ``(name, data, declared
    size, method)`` per member (method 0 stored, 8 deflated). Only a stored member that is
    its declared size gets its CRC; the others, never read to their end, keep 0."""
    out, directory = bytearray(), bytearray()
    for name, data, size, method in members:
        raw = name.encode()
        crc = zlib.crc32(data) if method == 0 and size == len(data) else 0
        sizes = (crc, len(data), size, len(raw))
        header = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, *sizes, 0)
        entry = (20, 20, 0, method, 0, 0, *sizes, 0, 0, 0, 0, 0, len(out))
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", *entry) + raw
        out += header + raw + data
    count = min(len(members), 0xFFFF)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), len(out), 0)
    return bytes(out + directory + end)


def deflated_zeros(mebibytes: int) -> bytes:
    """A raw deflate stream of ``mebibytes`` MiB of zeros, a few KB per MiB (a zip bomb's core):
    each MiB is compressed after a full flush, so every block is the same bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressor.compress(bytes(1 << 20))
    compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block * mebibytes + compressor.flush()


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


def npz_bytes(arrays: dict[str, Any]) -> bytes:
    """``np.savez`` of the arrays; values that are ``bytes`` become members as they are."""
    members = [
        (f"{k}.npy", v if isinstance(v, bytes) else npy_bytes(np.asarray(v)), 0, 0)
        for k, v in arrays.items()
    ]
    return zip_archive([(name, data, len(data), 0) for name, data, _, _ in members])


def odd_array(rng: np.random.Generator) -> np.ndarray:
    """An array of a random shape (zero-width axes included) and type, sometimes NaN/Inf/huge."""
    shape = tuple(int(s) for s in rng.integers(0, 7, int(rng.integers(0, 5))))
    dtype = pick(rng, DTYPES)
    if dtype == "O":
        return np.array([None, 1], dtype=object)
    array = np.zeros(shape, dtype)
    if array.dtype.kind == "f" and array.size:
        array.flat[0] = [np.nan, np.inf, 3e38, -1.0][int(rng.integers(4))]
    return array


def hostile_json_text(valid: Any, rng: np.random.Generator) -> str:
    """``valid`` as JSON with one value (at a random path) replaced by hostile JSON text."""
    doc = copy.deepcopy(valid)
    node, key = doc, None
    for depth in range(int(rng.integers(1, 5))):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = pick(rng, keys)
        child = node[key]
        if not isinstance(child, dict | list) or not child or rng.random() < 0.3 or depth == 3:
            break
        node, key = child, None
    if key is None:
        return pick(rng, HOSTILE_JSON)
    if rng.random() < 0.15:
        del node[key]
        return json.dumps(doc)
    node[key] = "\0HOSTILE\0"
    raw = pick(rng, HOSTILE_JSON)
    return json.dumps(doc).replace('"\\u0000HOSTILE\\u0000"', raw)


# ----- one generator per kind: (valid example, rng) -> the input's bytes -----
def demo_input(valid: dict[str, Any], rng: np.random.Generator) -> bytes:
    arrays = dict(valid["arrays"])
    op = int(rng.integers(8))
    if op == 0:
        return byte_mutation(valid["bytes"], rng)
    if op == 1:
        arrays[pick(rng, list(arrays))] = odd_array(rng)
    elif op == 2:
        del arrays[pick(rng, list(arrays))]
    elif op == 3:
        meta = hostile_json_text(json.loads(str(valid["arrays"]["metadata"])), rng)
        arrays["metadata"] = np.array(meta) if rng.random() < 0.8 else odd_array(rng)
    elif op == 4:
        extra = [1, 10, 300, 20_000][int(rng.integers(4))]
        members = [(f"x{i}.npy", b"", 0, 0) for i in range(extra)]
        return zip_archive(members + [(k + ".npy", npy_bytes(v), len(npy_bytes(v)), 0)
                                      for k, v in arrays.items()])  # fmt: skip
    elif op == 5:
        arrays[pick(rng, list(arrays))] = rng.bytes(int(rng.integers(0, 200)))
    elif op == 6:  # a member whose deflated data unpacks far past the file's size
        bomb, mebibytes = valid["bomb"]
        declared = [mebibytes << 20, 100, 2**32 - 1][int(rng.integers(3))]
        header = npy_bytes(np.zeros(0, np.float32))[:128]
        return zip_archive([("o.npy", bomb, declared, 8), ("meta.npy", header, 128, 0)])
    else:
        arrays[pick(rng, list(arrays)) + "2"] = odd_array(rng)
    return npz_bytes(arrays)


def raw_pickle(rng: np.random.Generator) -> bytes:
    """Pickles built opcode by opcode: a deep list, memo laughs, a huge memo index, a global."""
    op = int(rng.integers(4))
    if op == 0:
        n = int(10 ** rng.uniform(2, 6))
        return b"\x80\x04" + b"]" * n + b"a" * (n - 1) + b"."
    if op == 1:
        parts = [b"\x80\x04", b"]", b"\x94"]
        for i in range(int(rng.integers(10, 60)) % 250):
            parts += [b"(", b"h" + bytes([i]), b"h" + bytes([i]), b"l", b"\x94"]
        return b"".join([*parts, b"."])
    if op == 2:
        return b"\x80\x04]r" + struct.pack("<I", int(rng.integers(2**16, 2**32))) + b"."
    return b"\x80\x04cos\nsystem\n\x8c\x04true\x85R."  # must be refused, never run


def policy_input(valid: dict[str, Any], rng: np.random.Generator) -> bytes:
    op = int(rng.integers(7))
    if op == 0:
        return byte_mutation(valid["bytes"], rng)
    if op == 1:
        return raw_pickle(rng)
    d = copy.deepcopy(valid["dict"])
    if op == 2:
        d[pick(rng, list(d))] = pick(rng, HOSTILE_VALUES)
    elif op == 3:
        weights = d["actor_weights" if rng.random() < 0.5 else "critic_weights"]
        weights[int(rng.integers(len(weights)))] = odd_array(rng)
    elif op == 4:
        key = ["o_mean", "o_std", "g_mean", "g_std"][int(rng.integers(4))]
        d[key] = odd_array(rng) if rng.random() < 0.5 else np.zeros(int(rng.integers(9)), "f4")
    elif op == 5:
        deep: Any = pick(rng, HOSTILE_VALUES)
        for _ in range(int(rng.integers(1, 300))):
            deep = [deep]
        d["metadata"] = {"config": deep} if rng.random() < 0.5 else deep
    else:
        del d[pick(rng, list(d))]
    try:
        return pickle.dumps(d, protocol=int(rng.integers(2, 6)))
    except (RecursionError, pickle.PicklingError, TypeError):
        return b""


def params_input(valid: dict[str, Any], rng: np.random.Generator) -> bytes:
    if rng.random() < 0.3:
        return byte_mutation(valid["bytes"], rng)
    return hostile_json_text(valid["dict"], rng).encode()


def progress_input(valid: dict[str, Any], rng: np.random.Generator) -> bytes:
    if rng.random() < 0.4:
        return byte_mutation(valid["bytes"], rng)
    lines = valid["bytes"].decode().splitlines()
    row = int(rng.integers(len(lines)))
    cells = lines[row].split(",")
    cell = int(rng.integers(len(cells)))
    hostile = ["nan", "inf", "-inf", "1e999", "", "abc", "\0", "x" * 200_000, '"', "1,2",
               "1" * 5000, "-0", "0x10", " 1", "\ufeff"]  # fmt: skip
    cells[cell] = pick(rng, hostile)
    if rng.random() < 0.2:
        cells = cells[: int(rng.integers(len(cells)))]
    lines[row] = ",".join(cells)
    return ("\n".join(lines) + "\n").encode()


def checkpoint_input(valid: dict[str, Any], rng: np.random.Generator) -> dict[str, bytes]:
    """``{file name: bytes}`` of the checkpoint files to replace."""
    op = int(rng.integers(6))
    learner = [n for n in valid["files"] if n.startswith("learner")]
    if op == 0 or (op == 1 and not learner):  # no TF files where only the state is restored
        return {"state-rank0.npz": byte_mutation(valid["bytes"], rng)}
    if op == 1:
        name = learner[int(rng.integers(2))]
        return {name: byte_mutation(valid["files"][name], rng)}
    arrays = dict(valid["arrays"])
    if op in (2, 3):
        arrays["meta"] = np.array(hostile_json_text(valid["meta"], rng))
    elif op == 4:
        arrays[pick(rng, list(arrays))] = odd_array(rng)
    else:
        del arrays[pick(rng, list(arrays))]
    return {"state-rank0.npz": npz_bytes(arrays)}


GENERATORS: dict[str, Callable[[dict[str, Any], np.random.Generator], Any]] = {
    "demo": demo_input,
    "policy": policy_input,
    "params": params_input,
    "checkpoint": checkpoint_input,
    "progress": progress_input,
}
