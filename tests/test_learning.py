"""Learning: FetchReach-v4 must really be solved (a real threshold, not a smoke test)."""

import numpy as np
import pytest

from herdemos.config import Config, with_overrides
from herdemos.logger import ProgressLog
from herdemos.rollout import PolicyActions, RolloutWorker
from herdemos.trainer import Trainer


@pytest.mark.slow
def test_fetch_reach_reaches_090_test_success(tmp_path):
    config = with_overrides(
        Config(),
        {"env": "FetchReach-v4", "n_epochs": 5, "batch_size": 256, "n_batches": 20, "seed": 1},
    )
    trainer = Trainer.from_config(config, tmp_path, demos=None, log=lambda line: None)
    progress = ProgressLog(tmp_path, tensorboard=False)
    trainer.train(progress, show_bar=False)
    # Judge on 50 fresh episodes, not on the 10 the last epoch logged.
    evaluator = RolloutWorker(
        trainer.eval_envs, trainer.info, seed=12345, rng=np.random.default_rng(0)
    )
    policy = trainer.policy()
    results = [
        evaluator.generate_rollouts(PolicyActions(policy, True, 0.0, 0.0, trainer.rng)).success_rate
        for _ in range(5)
    ]
    assert np.mean(results) >= 0.9, f"FetchReach success {np.mean(results):.2f} after 5 epochs"
