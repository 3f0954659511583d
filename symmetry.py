"""Mirror images of demonstrations: more demo episodes from a task's reflection symmetries.

Plain behaviour cloning from 100 FetchStack3 demos succeeds on under a fifth of episodes, and on
about 0.9 with 1,000: the policy has seen too few scenes. The stacking envs are symmetric under
reflection in the vertical planes through the gripper's start normal to x and to y (blocks and
tower bases are drawn uniformly in a square around it, the mocap-driven gripper moves the same
way in every direction, and its fingers mirror onto each other). Reflecting a demo episode
therefore gives another episode the demonstrator could have recorded, with the same rewards and
success. The diagonal plane is a symmetry too, approximately: the gripper is not symmetric in
it, but a cube turned by 90 degrees is the same cube, and the arm follows its target a little
differently along x and y (a scripted episode and its image drift up to 2.5 cm apart, and both
stack). The three planes together give eight images of every demo, for free.

A reflection acts on every key of an episode as ``x -> offset + sign * x[..., perm]``
(:class:`AffineMap`): positions are mirrored about the plane (``2 c - x``), relative positions,
velocities and action components across the plane change sign, and finger joints swap. Which
index is which is the env's business (``FetchStackEnv.reflections``, by plane name); this module
is NumPy only and knows no env.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from herdemos.ragged import clear_padding

REFLECTED_KEYS = ("o", "ag", "g", "u")
"""The episode keys a reflection changes; the others (``info_is_success``) stay as they are."""


@dataclass(frozen=True)
class AffineMap:
    """``x -> offset + sign * x[..., perm]`` on the last axis of an array."""

    perm: np.ndarray  # (d,) int: output i takes input perm[i]
    sign: np.ndarray  # (d,) +1 or -1
    offset: np.ndarray  # (d,) float

    @classmethod
    def identity(cls, dim: int) -> AffineMap:
        return cls(np.arange(dim), np.ones(dim), np.zeros(dim))

    def __post_init__(self) -> None:
        dim = len(self.perm)
        if sorted(np.asarray(self.perm).tolist()) != list(range(dim)):
            raise ValueError(f"perm must be a permutation of 0..{dim - 1}")
        if np.shape(self.sign) != (dim,) or np.shape(self.offset) != (dim,):
            raise ValueError(f"sign and offset must have shape ({dim},)")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if x.shape[-1] != len(self.perm):
            raise ValueError(f"expected last dimension {len(self.perm)}, got {x.shape[-1]}")
        return (self.offset + self.sign * x[..., self.perm]).astype(x.dtype)

    def then(self, other: AffineMap) -> AffineMap:
        """The map that applies this one, then ``other``: ``other(self(x))``."""
        return AffineMap(
            self.perm[other.perm],
            other.sign * self.sign[other.perm],
            other.offset + other.sign * self.offset[other.perm],
        )

    def mirror(self, index: int, centre: float) -> AffineMap:
        """This map, then coordinate ``index`` (a position) mirrored about ``centre``."""
        step = AffineMap.identity(len(self.perm))
        step.sign[index], step.offset[index] = -1.0, 2.0 * centre
        return self.then(step)

    def negate(self, *indices: int) -> AffineMap:
        """This map, then the given coordinates (directions, velocities) negated."""
        step = AffineMap.identity(len(self.perm))
        step.sign[list(indices)] = -1.0
        return self.then(step)

    def swap(self, i: int, j: int, shift: float = 0.0) -> AffineMap:
        """This map, then coordinates ``i`` and ``j`` exchanged (two fingers), ``shift`` added
        to the new ``i`` and taken from the new ``j``: ``shift = c_i - c_j`` mirrors a point in
        the diagonal line through ``(c_i, c_j)``."""
        step = AffineMap.identity(len(self.perm))
        step.perm[[i, j]] = j, i
        step.offset[[i, j]] = shift, -shift
        return self.then(step)


Reflection = Mapping[str, AffineMap]
"""One reflection: an :class:`AffineMap` for each of :data:`REFLECTED_KEYS`."""


def reflect(episodes: Mapping[str, np.ndarray], reflection: Reflection) -> dict[str, np.ndarray]:
    """The mirror image of a batch of episodes (buffer layout); other keys (``length`` too) are
    copied. Padding rows of shorter episodes stay zeros (a reflection's offset would move
    them), so an image is padded like its original."""
    image = {
        key: reflection[key](value) if key in REFLECTED_KEYS else value.copy()
        for key, value in episodes.items()
    }
    clear_padding(image)
    return image


def with_reflections(
    episodes: Mapping[str, np.ndarray], reflections: Sequence[Reflection]
) -> dict[str, np.ndarray]:
    """The episodes followed by their images under every product of a subset of
    ``reflections``, applied in their order (``2 ** len(reflections)`` copies in all, the
    originals first, so their indices stay put). For the stacking envs' x, y and diagonal
    planes these are the eight symmetries of the square."""
    images = [dict(episodes)]
    for reflection in reflections:
        images += [reflect(image, reflection) for image in images]
    return {key: np.concatenate([image[key] for image in images]) for key in episodes}
