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
from herdemos.util import HerdemosError


def read_legacy_demos(path: str | os.PathLike) -> DemoData:
    """Unpickles a legacy file (only call this for files you trust) into the herdemos format."""
    try:
        with np.load(path, allow_pickle=True) as npz:  # trusted by the caller's explicit flag
            raw = {k: npz[k] for k in npz.files}
    except Exception as e:
        raise HerdemosError(f"{path}: cannot read as a legacy .npz ({type(e).__name__})") from None
    missing = [k for k in ("acs", "obs", "info") if k not in raw]
    if missing:
        raise HerdemosError(f"{path}: missing legacy keys {missing}; found {sorted(raw)}")
    try:
        o, ag, g, u, success = [], [], [], [], []
        for ep_obs, ep_acs, ep_info in zip(raw["obs"], raw["acs"], raw["info"], strict=True):
            horizon = len(ep_acs)
            if len(ep_obs) != horizon + 1 or len(ep_info) != horizon:
                raise ValueError(
                    f"episode lengths obs={len(ep_obs)}, acs={horizon}, info={len(ep_info)}"
                )
            o.append([np.asarray(x["observation"], np.float32) for x in ep_obs])
            ag.append([np.asarray(x["achieved_goal"], np.float32) for x in ep_obs])
            g.append([np.asarray(x["desired_goal"], np.float32) for x in ep_obs[:horizon]])
            u.append([np.asarray(a, np.float32) for a in ep_acs])
            success.append([[float(i.get("is_success", 0.0))] for i in ep_info])
        episodes = {
            "o": np.asarray(o, np.float32),
            "ag": np.asarray(ag, np.float32),
            "g": np.asarray(g, np.float32),
            "u": np.asarray(u, np.float32),
            "info_is_success": np.asarray(success, np.float32),
        }
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise HerdemosError(f"{path}: not in the legacy layout ({e})") from None
    return DemoData(episodes, None, {"generator": "converted from the original format"})
