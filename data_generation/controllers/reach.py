"""FetchReach controller: the simplest task, a straight proportional move to the goal."""

from __future__ import annotations

import numpy as np

from herdemos.data_generation.controllers.common import (
    GAIN,
    jittered,
    make_action,
    move_toward,
    parse_obs,
)


class ReachController:
    """FetchReach: move the gripper straight to the goal and stay there."""

    def __init__(self, rng: np.random.Generator | None = None) -> None:
        """Creates the controller; ``rng`` only jitters the speed gain per episode."""
        self._rng = rng
        self._gain = GAIN

    def reset(self, obs: dict[str, np.ndarray]) -> None:
        """Starts an episode (Reach is stateless apart from the jittered gain)."""
        del obs
        self._gain = jittered(GAIN, self._rng)

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Returns the P-control action toward the goal (the gripper is blocked in Reach)."""
        state = parse_obs(obs)
        return make_action(move_toward(state.grip_pos, state.goal, self._gain), 0.0)
