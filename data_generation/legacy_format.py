"""Reading demo files in the original project's format (pickled dicts), for explicit conversion.

The original ``fetch_data_generation.py`` saved ``np.savez_compressed(f, acs=..., obs=...,
info=...)`` where ``obs[episode][t]`` is an observation dict (T+1 per episode), ``info[episode][t]``
an info dict (T per episode) and ``acs[episode][t]`` an action. Reading it needs unpickling, which
can run arbitrary code, so this module is only reached through the converter's ``--trust`` flag.
"""

from __future__ import annotations

import os

import numpy as np

from herdemos.demos import DemoData
from herdemos.ragged import LENGTH, pad_episodes
from herdemos.util import HerdemosError


def read_legacy_demos(path: str | os.PathLike, horizon: int | None = None) -> DemoData:
    """Unpickles a legacy file (only call this for files you trust) into the herdemos format.

    Episodes of different lengths (object arrays of per-episode lists) are padded to
    ``horizon`` (the env's T; default: the longest episode) with a ``length`` array. Episodes
    all of one length convert as before, without padding: if that length is not the env's T
    they were likely recorded with another horizon, and loading refuses them by name.
    """
    try:
        with np.load(path, allow_pickle=True) as npz:  # trusted by the caller's explicit flag
            raw = {k: npz[k] for k in npz.files}
    except Exception as e:
        raise HerdemosError(f"{path}: cannot read as a legacy .npz ({type(e).__name__})") from None
    missing = [k for k in ("acs", "obs", "info") if k not in raw]
    if missing:
        raise HerdemosError(f"{path}: missing legacy keys {missing}; found {sorted(raw)}")
    try:
        episodes = []
        for ep_obs, ep_acs, ep_info in zip(raw["obs"], raw["acs"], raw["info"], strict=True):
            steps = len(ep_acs)
            if len(ep_obs) != steps + 1 or len(ep_info) != steps:
                raise ValueError(
                    f"episode lengths obs={len(ep_obs)}, acs={steps}, info={len(ep_info)}"
                )
            episodes.append(
                {
                    "o": np.asarray([x["observation"] for x in ep_obs], np.float32),
                    "ag": np.asarray([x["achieved_goal"] for x in ep_obs], np.float32),
                    "g": np.asarray([x["desired_goal"] for x in ep_obs[:steps]], np.float32),
                    "u": np.asarray(ep_acs, np.float32).reshape(steps, -1),
                    "info_is_success": np.asarray(
                        [[float(i.get("is_success", 0.0))] for i in ep_info], np.float32
                    ).reshape(steps, 1),
                }
            )
        one_length = len({len(ep["u"]) for ep in episodes}) == 1
        longest = max((len(ep["u"]) for ep in episodes), default=0)
        if not one_length and horizon is not None and longest > horizon:
            raise HerdemosError(
                f"{path}: an episode has {longest} steps, more than the env's T={horizon}"
            )
        padded = pad_episodes(episodes, longest if one_length or horizon is None else horizon)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise HerdemosError(f"{path}: not in the legacy layout ({e})") from None
    if one_length:
        del padded[LENGTH]  # full episodes: the plain format, as every herdemos file without it
    return DemoData(padded, None, {"generator": "converted from the original format"})
