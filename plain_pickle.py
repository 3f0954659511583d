"""Reading pickles that may hold only builtin containers and NumPy arrays (policy files).

``pickle.loads`` runs whatever code a file names, so a policy file from elsewhere must not reach
it. Refusing every global except NumPy's array builders is not enough either: NumPy's own
``ndarray.__setstate__`` and ``dtype.__setstate__`` trust their input, and a corrupted state (a
flipped flag bit, a byte string of the wrong length) ends in internal errors raised while the
half-built object is freed, printed as "Exception ignored in ..." instead of reaching the caller.
So NumPy never sees a state from the file: stand-ins take the arrays' and dtypes' states, check
them, and the arrays are built from checked plain values with ``np.frombuffer``. Before any of
that, the opcodes are read without running them (``pickletools.genops``) and any that build
objects outside the stand-ins, or protocol 5's out-of-band buffers (where CPython's C unpickler
itself misbehaves on corrupted input), refuse the file.
"""

from __future__ import annotations

import io
import pickle
import pickletools
from typing import Any

import numpy as np

# The dtypes a policy file holds (weights and normaliser statistics, metadata scalars).
PLAIN_DTYPES = frozenset({"f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"})
BYTE_ORDERS = frozenset({"<", ">", "|", "="})
MAX_DIMS = 32  # NumPy's own limit is 64; a policy file needs 2
# Bounds on work and memory (docs/reliability.md): a policy file holds a few thousand opcodes,
# memoises a few hundred objects and nests 4 levels deep. Memo references let a small file
# describe an exponentially large tree ("billion laughs"), so the objects are counted as the
# tree is walked, each time they are reached.
MAX_OPCODES = 200_000
MAX_MEMO = 100_000
MAX_DEPTH = 64
MAX_OBJECTS = 200_000
MEMO_OPCODES = frozenset({"PUT", "BINPUT", "LONG_BINPUT", "GET", "BINGET", "LONG_BINGET"})
# Opcodes that make objects without a checked global (NEWOBJ, INST, ...), name external objects
# (PERSID, EXT*) or use out-of-band buffers (BYTEARRAY8, NEXT_BUFFER, READONLY_BUFFER).
REFUSED_OPCODES = frozenset(
    {
        "INST",
        "OBJ",
        "NEWOBJ",
        "NEWOBJ_EX",
        "PERSID",
        "BINPERSID",
        "EXT1",
        "EXT2",
        "EXT4",
        "BYTEARRAY8",
        "NEXT_BUFFER",
        "READONLY_BUFFER",
    }
)


class _Global:
    """What a global the file may name resolves to: a call to ``build`` (or, for the bare
    ``numpy.ndarray`` marker, no call at all). Never a class or function of this module, so the
    file can neither instantiate one unchecked (NEWOBJ) nor set attributes on it (BUILD)."""

    __slots__ = ("build",)

    def __init__(self, build: Any) -> None:
        self.build = build

    def __call__(self, *args: Any) -> Any:
        if self.build is None:
            raise pickle.UnpicklingError("numpy.ndarray is not called in a plain-data pickle")
        return self.build(*args)

    def __setstate__(self, state: Any) -> None:
        raise pickle.UnpicklingError("malformed pickle: a state for a global")


NDARRAY = _Global(None)


class _PendingDtype:
    """Stands in for ``numpy.dtype(name, align, copy)`` and takes its pickled state."""

    def __init__(self, name: Any, align: Any = False, copy: Any = True) -> None:
        if not isinstance(name, str) or name not in PLAIN_DTYPES:
            raise pickle.UnpicklingError(f"refusing dtype {name!r}: not a plain number type")
        self.name, self.order = name, "="

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) < 2 or state[1] not in BYTE_ORDERS:
            raise pickle.UnpicklingError("malformed dtype state")
        if any(field is not None for field in state[2:5]):  # sub-arrays, names, fields
            raise pickle.UnpicklingError("refusing a structured dtype: not plain data")
        self.order = state[1]

    def dtype(self) -> np.dtype:
        plain = np.dtype(self.name)
        return plain if self.order in "|=" else plain.newbyteorder(self.order)


class _PendingArray:
    """Stands in for ``numpy._core.multiarray._reconstruct(ndarray, ...)``; the array is built
    from its checked state by :func:`_finish`."""

    def __init__(self, subtype: Any, shape: Any = (0,), typecode: Any = b"b") -> None:
        if subtype is not NDARRAY:
            raise pickle.UnpicklingError("refusing an array subclass: not plain data")
        self.array: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) != 5:
            raise pickle.UnpicklingError("malformed array state")
        _, shape, dtype, fortran, raw = state
        if (
            not isinstance(shape, tuple)
            or len(shape) > MAX_DIMS
            or not all(isinstance(n, int) and n >= 0 for n in shape)
        ):
            raise pickle.UnpicklingError("malformed array shape")
        if not isinstance(dtype, _PendingDtype) or not isinstance(fortran, bool):
            raise pickle.UnpicklingError("malformed array state")
        if not isinstance(raw, bytes):
            raise pickle.UnpicklingError("array data is not a byte string")
        numpy_dtype = dtype.dtype()
        if len(raw) != int(np.prod(shape, dtype=object)) * numpy_dtype.itemsize:
            raise pickle.UnpicklingError("array data does not match its shape")
        flat = np.frombuffer(raw, numpy_dtype).copy()
        self.array = flat.reshape(shape, order="F" if fortran else "C")


def _scalar(dtype: Any, raw: Any) -> Any:
    """Stands in for ``numpy._core.multiarray.scalar`` (a NumPy scalar such as np.float64)."""
    if not isinstance(dtype, _PendingDtype) or not isinstance(raw, bytes):
        raise pickle.UnpicklingError("malformed NumPy scalar")
    numpy_dtype = dtype.dtype()
    if len(raw) != numpy_dtype.itemsize:
        raise pickle.UnpicklingError("NumPy scalar data has the wrong size")
    return np.frombuffer(raw, numpy_dtype)[0]


STAND_INS: dict[tuple[str, str], _Global] = {
    ("numpy.core.multiarray", "_reconstruct"): _Global(_PendingArray),
    ("numpy._core.multiarray", "_reconstruct"): _Global(_PendingArray),
    ("numpy.core.multiarray", "scalar"): _Global(_scalar),
    ("numpy._core.multiarray", "scalar"): _Global(_scalar),
    ("numpy", "ndarray"): NDARRAY,
    ("numpy", "dtype"): _Global(_PendingDtype),
}


class _PlainDataUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in STAND_INS:
            return STAND_INS[module, name]
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: not plain data")


class _Finisher:
    """Replaces the stand-ins in the loaded containers by the arrays (and dtypes) they hold,
    refusing containers nested deeper than ``MAX_DEPTH`` or more than ``MAX_OBJECTS`` values."""

    def __init__(self) -> None:
        self.seen = 0

    def __call__(self, value: Any, depth: int = 0) -> Any:
        self.seen += 1
        if self.seen > MAX_OBJECTS:
            raise pickle.UnpicklingError(f"more than {MAX_OBJECTS:,} values")
        if depth > MAX_DEPTH:
            raise pickle.UnpicklingError(f"containers nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, _PendingArray):
            if value.array is None:
                raise pickle.UnpicklingError("an array without its data")
            return value.array
        if isinstance(value, _PendingDtype):
            return value.dtype()
        if isinstance(value, dict):
            return {self(k, depth + 1): self(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v, depth + 1) for v in value]
        if isinstance(value, tuple):
            return tuple(self(v, depth + 1) for v in value)
        return value


def _check_opcodes(data: bytes) -> None:
    """Reads the opcodes without running them: refuses the ones that build objects outside the
    stand-ins, and files past the bounds on opcodes and memo entries (a memo index is an
    allocation: the unpickler sizes its memo to the largest index it is given)."""
    memoised = 0
    for count, (opcode, arg, _) in enumerate(pickletools.genops(data)):
        if count >= MAX_OPCODES:
            raise pickle.UnpicklingError(f"more than {MAX_OPCODES:,} pickle opcodes")
        if opcode.name in REFUSED_OPCODES:
            raise pickle.UnpicklingError(f"refusing pickle opcode {opcode.name}: not plain data")
        if opcode.name == "MEMOIZE":
            memoised += 1
        if memoised > MAX_MEMO or (opcode.name in MEMO_OPCODES and int(arg) >= MAX_MEMO):
            raise pickle.UnpicklingError(f"more than {MAX_MEMO:,} memo entries")


def loads_plain_data(data: bytes) -> Any:
    """``pickle.loads`` that can only build builtin containers, NumPy arrays and scalars, from
    pickle protocol 3 or later (policy files are written with protocol 4), within the bounds
    above.

    Raises:
        pickle.UnpicklingError: the file names anything else, holds a malformed array, or
            passes a bound;
        other exceptions for bytes that are not a pickle at all (truncated, garbage).
    """
    _check_opcodes(data)
    return _Finisher()(_PlainDataUnpickler(io.BytesIO(data)).load())
