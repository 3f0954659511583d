"""Reading ``.npz`` archives and JSON from files that may be hostile, in bounded time and memory.

``np.load`` trusts an archive: it lists every member however many there are (an archive of
tens of thousands of members takes minutes), unpacks whatever size a member claims (a small file
can unpack to gigabytes), and hands back raw bytes for a member that is not a ``.npy`` array.
``json.loads`` recurses once per nesting level and fails deep in the interpreter. Here each is
bounded first, by the limits below (stated in docs/reliability.md), and every refusal is a
:class:`Refused` whose message the caller prefixes with the file's name:

- an archive's directory, read from its end record before anything else, may list at most
  ``MAX_NPZ_MEMBERS`` members in at most ``MAX_NPZ_DIRECTORY`` bytes;
- the members' declared sizes may add up to at most :func:`unpack_budget` bytes, and each
  member is read in blocks that stop as soon as it passes its declared size;
- members must be ``.npy`` arrays of plain numbers or text, whose data fills exactly the shape
  their header declares (no pickled objects, no structured types);
- JSON may nest at most ``MAX_JSON_DEPTH`` levels and hold at most ``MAX_JSON_CHARS`` characters.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import struct
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np

MAX_NPZ_MEMBERS = 256  # a checkpoint's state file holds about 25, a demo file at most 7
MAX_NPZ_DIRECTORY = 1 << 20  # bytes of the archive's central directory
UNPACK_FLOOR = 128 << 20  # any archive may unpack to this many bytes ...
UNPACK_RATIO = 16  # ... and a larger one to this many times its size on disk
MAX_JSON_DEPTH = 64  # a config nests 2 levels, a checkpoint's metadata 4
MAX_JSON_CHARS = 16 << 20
MAX_NPY_DIMS = 32
NPY_KINDS = frozenset("biufU")  # booleans, integers, floats, text (a file's metadata)
BLOCK = 1 << 20

_END = b"PK\x05\x06"  # zip end-of-central-directory record
_END64_LOCATOR, _END64 = b"PK\x06\x07", b"PK\x06\x06"
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


class Refused(ValueError):
    """A file exceeds a limit or is malformed; the message says how, not which file."""


def unpack_budget(file_size: int) -> int:
    """The most bytes an archive of ``file_size`` bytes may unpack to: a stored (uncompressed)
    checkpoint as large as it is, a compressed demo file up to ``UNPACK_RATIO`` times its size,
    but never a small file into gigabytes."""
    return max(UNPACK_FLOOR, UNPACK_RATIO * file_size)


def _directory_extent(f: IO[bytes], file_size: int) -> tuple[int, int]:
    """``(members, directory bytes)`` as the archive's end record declares them (zip64 too)."""
    tail_size = min(file_size, 22 + 0xFFFF)
    f.seek(file_size - tail_size)
    tail = f.read(tail_size)
    at = tail.rfind(_END)
    if at < 0 or len(tail) - at < 22:
        raise Refused("not a zip archive (no end record)")
    _, _, _, _, members, directory, _, _ = struct.unpack("<4s4H2LH", tail[at : at + 22])
    if members == 0xFFFF or directory == 0xFFFFFFFF:  # sizes are in the zip64 record
        locator = tail[at - 20 : at] if at >= 20 else b""
        if len(locator) != 20 or not locator.startswith(_END64_LOCATOR):
            raise Refused("damaged zip64 end record")
        offset = struct.unpack("<4sLQL", locator)[2]
        if offset > file_size - 56:
            raise Refused("damaged zip64 end record")
        f.seek(offset)
        record = f.read(56)
        if not record.startswith(_END64):
            raise Refused("damaged zip64 end record")
        members, directory = struct.unpack("<4sQ2H2L4Q", record)[7:9]
    return members, directory


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytearray:
    """The member's bytes, read in blocks; refused as soon as it passes its declared size."""
    data = bytearray()
    with archive.open(info) as member:
        while block := member.read(BLOCK):
            data += block
            if len(data) > info.file_size:
                raise Refused(f"member {info.filename!r} unpacks past its declared size")
    return data


def _npy_array(name: str, data: bytearray) -> np.ndarray:
    """The array in a ``.npy`` member, built only after its header is checked against its
    data; refused if it holds pickled objects or anything but plain numbers or text."""
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"format version {version}")
    except Exception as e:  # numpy raises several types for a damaged header
        raise Refused(f"member {name!r} is not a .npy array ({type(e).__name__})") from None
    if dtype.hasobject:
        raise Refused(f"member {name!r} holds pickled objects")
    if dtype.kind not in NPY_KINDS or dtype.names or dtype.subdtype or dtype.itemsize == 0:
        raise Refused(f"member {name!r} has type {dtype}, not plain numbers or text")
    if not isinstance(shape, tuple) or len(shape) > MAX_NPY_DIMS:
        raise Refused(f"member {name!r} has a malformed shape")
    offset = stream.tell()
    count = math.prod(shape)
    if count * dtype.itemsize != len(data) - offset:
        raise Refused(f"member {name!r} holds {len(data) - offset} bytes, not its shape's")
    array = np.frombuffer(data, dtype, count=count, offset=offset)
    return array.reshape(shape, order="F" if fortran else "C")


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` archive (keys without ``.npy``), within the limits above.

    Raises:
        Refused: a limit is exceeded, or a member is not a plain ``.npy`` array.
        OSError, zipfile.BadZipFile, zlib.error, EOFError, ...: a damaged archive.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        members, directory = _directory_extent(f, size)
        if members > MAX_NPZ_MEMBERS:
            raise Refused(f"{members} archive members, more than the limit of {MAX_NPZ_MEMBERS}")
        if directory > MAX_NPZ_DIRECTORY:
            raise Refused(f"an archive directory of {directory} bytes, past the limit")
        f.seek(0)
        with zipfile.ZipFile(f) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_NPZ_MEMBERS:
                raise Refused(f"more than {MAX_NPZ_MEMBERS} archive members")
            declared = sum(info.file_size for info in infos)
            if declared > unpack_budget(size):
                raise Refused(
                    f"unpacks to {declared:,} bytes, more than the limit of "
                    f"{unpack_budget(size):,} for a file of {size:,} bytes"
                )
            arrays: dict[str, np.ndarray] = {}
            for info in infos:
                name = info.filename
                if not name.endswith(".npy") or name[:-4] in arrays:
                    raise Refused(f"member {name!r} is not one .npy array")
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise Refused(f"member {name!r} uses an unsupported compression")
                arrays[name[:-4]] = _npy_array(name, _read_member(archive, info))
    return arrays


def json_depth(text: str) -> int:
    """How deeply ``text``'s arrays and objects nest (brackets inside strings do not count)."""
    codes = np.frombuffer(_STRING.sub("", text).encode("utf-8", "replace"), np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int64) - np.isin(
        codes, (ord("]"), ord("}"))
    )
    return int(np.cumsum(steps).max(initial=0))


def loads_json(text: str) -> Any:
    """``json.loads`` within ``MAX_JSON_CHARS`` characters and ``MAX_JSON_DEPTH`` levels.

    Raises:
        Refused: too long, too deep, or not JSON (the reason in the message).
    """
    if len(text) > MAX_JSON_CHARS:
        raise Refused(f"JSON of {len(text):,} characters, past the limit of {MAX_JSON_CHARS:,}")
    if json_depth(text) > MAX_JSON_DEPTH:
        raise Refused(f"JSON nested deeper than the limit of {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:  # ValueError: also integers of 4,300+ digits
        raise Refused(f"not valid JSON ({str(e).splitlines()[0][:100]})") from None


def read_json_file(path: str | os.PathLike) -> Any:
    """A JSON file's value within the limits of :func:`loads_json` (its size checked before it
    is read).

    Raises:
        Refused: see :func:`loads_json`; OSError, UnicodeDecodeError: unreadable.
    """
    with open(path, "rb") as f:
        raw = f.read(MAX_JSON_CHARS * 4 + 1)  # UTF-8 spends at most 4 bytes a character
    if len(raw) > MAX_JSON_CHARS * 4:
        raise Refused("a JSON file past the size limit")
    return loads_json(raw.decode("utf-8"))
