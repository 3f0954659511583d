"""herdemos: DDPG + HER with demonstrations, behaviour cloning and a Q-filter (Nair et al. 2018).

Importing the package is cheap (NumPy only); TensorFlow loads with the learner.

    from herdemos import load_policy
    policy = load_policy("runs/.../policy_best.pkl")
    action = policy.act(obs)

    result = herdemos.train(config, env="FetchReach-v4")  # the training API (loads TF)
    herdemos.evaluate(result.policy, episodes=100).success_rate
"""

import os

# TensorFlow's C++ start-up chatter (oneDNN notices, absl warnings) is noise for users; this
# must be set before TF is first imported, which may happen through any herdemos module.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import herdemos.envs  # noqa: E402, F401  (registers Fetch, stacking and WAM ids lazily: no MuJoCo import)
from herdemos.policy import Policy, load_policy  # noqa: E402

__all__ = ["EvaluationResult", "Policy", "TrainResult", "evaluate", "load_policy", "train"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """``herdemos.train``, ``herdemos.evaluate`` and their results, imported on first use so that
    ``import herdemos`` stays cheap (PEP 562)."""
    if name in ("train", "TrainResult", "evaluate", "EvaluationResult"):
        from herdemos.experiment import api

        return getattr(api, name)
    raise AttributeError(f"module 'herdemos' has no attribute {name!r}")
