"""Episode replay buffers: a FIFO ring over whole episodes, sampled through the HER sampler.

The same class serves the agent's buffer R and the demonstration buffer R_D (which is filled
once and never wraps). Storing whole episodes, not transitions, is what makes 'future' goal
relabelling possible at sampling time.
"""

from __future__ import annotations

import numpy as np

from herdemos.her import Episodes, Sampler, Transitions
from herdemos.ragged import LENGTH


class EpisodeBuffer:
    """Holds up to ``capacity`` episodes as ``{key: array(capacity, T or T+1, dim)}``.

    Args:
        shapes: per-key shape of one episode, e.g. ``{"o": (T + 1, 25), "u": (T, 4), ...}``.
        capacity: number of episodes kept; when full, the oldest episode is overwritten.
        sampler: the HER sampler from :func:`herdemos.her.make_sample_her_transitions`.
        lengths: also store each episode's ``length`` (demos of different lengths, see
            :mod:`herdemos.ragged`); the sampler then draws valid steps only. The agent's own
            episodes all have T steps and are stored without.
    """

    def __init__(
        self,
        shapes: dict[str, tuple[int, ...]],
        capacity: int,
        sampler: Sampler,
        lengths: bool = False,
    ) -> None:
        if capacity < 1:
            raise ValueError("an episode buffer needs room for at least one episode")
        self.capacity = capacity
        self.sampler = sampler
        self.storage = {k: np.zeros((capacity, *s), np.float32) for k, s in shapes.items()}
        if lengths:
            self.storage[LENGTH] = np.zeros(capacity, np.int64)
        self.size = 0  # episodes currently held
        self.next_index = 0  # where the next episode goes
        self.n_transitions_stored = 0  # all-time count (steps), also past overwritten ones

    @property
    def horizon(self) -> int:
        return self.storage["u"].shape[1]

    def store_episodes(self, episodes: Episodes) -> None:
        """Appends a batch of episodes (leading axis = episodes), wrapping around when full.

        Worked example: capacity 5, next_index 4, a batch of 3 goes to slots 4, 0, 1.
        """
        missing = set(self.storage) - set(episodes)
        if missing:
            raise KeyError(f"episode batch lacks keys {sorted(missing)}")
        n = episodes["u"].shape[0]
        slots = (self.next_index + np.arange(n)) % self.capacity
        if n > self.capacity:  # only the newest `capacity` episodes can survive
            slots, first = slots[-self.capacity :], n - self.capacity
        else:
            first = 0
        for key, array in self.storage.items():
            array[slots] = episodes[key][first:]
        self.next_index = int((self.next_index + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)
        if LENGTH in self.storage:
            self.n_transitions_stored += int(np.sum(episodes[LENGTH]))
        else:
            self.n_transitions_stored += n * self.horizon

    def filled(self) -> Episodes:
        """Views of the stored episodes (not copies)."""
        return {key: array[: self.size] for key, array in self.storage.items()}

    def sample(self, batch_size: int, rng: np.random.Generator) -> Transitions:
        """Draws HER-relabelled transitions uniformly over stored episodes and time steps."""
        if self.size == 0:
            raise RuntimeError("cannot sample from an empty episode buffer")
        return self.sampler(self.filled(), batch_size, rng)

    def state_dict(self) -> dict[str, np.ndarray]:
        """The filled part plus the ring bookkeeping, for checkpoints."""
        state = {f"storage/{k}": v[: self.size].copy() for k, v in self.storage.items()}
        state["meta"] = np.array([self.size, self.next_index, self.n_transitions_stored], np.int64)
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restores :meth:`state_dict` output into a buffer built with the same shapes.

        A checkpoint without lengths (written before they existed) restores into a buffer with
        lengths as full episodes, which is how that run sampled them.
        """
        size, next_index, n_stored = (int(x) for x in state["meta"])
        if size > self.capacity:
            raise ValueError(
                f"checkpoint holds {size} episodes, buffer capacity is {self.capacity}"
            )
        saved_length = f"storage/{LENGTH}"
        if saved_length in state and LENGTH not in self.storage:
            raise ValueError("the checkpoint's episodes have lengths, this run's demos have none")
        for key, array in self.storage.items():
            if key == LENGTH and saved_length not in state:
                array[:size] = self.horizon
            else:
                array[:size] = state[f"storage/{key}"]
        self.size, self.next_index, self.n_transitions_stored = size, next_index, n_stored
