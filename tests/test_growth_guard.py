"""A run whose parameters or losses explode without reaching NaN gets a warning line."""

import math

import numpy as np

from herdemos.config import Config, with_overrides
from herdemos.growth_guard import growth_warnings, norm
from herdemos.logger import ProgressLog
from herdemos.trainer import Trainer

from point_env import register

SMALL = {"n_cycles": 3, "n_batches": 5, "batch_size": 32, "hidden": 16, "n_test_rollouts": 2}


def test_norm_is_the_l2_norm_of_all_entries():
    assert norm([np.full((2, 2), 3.0), np.array([4.0, 0.0, 0.0, 0.0])]) == 7.211102550927978
    assert norm([np.array([3.0]), np.array([4.0])]) == 5.0


def test_a_quantity_grown_a_thousand_times_is_warned_about_once_per_thousandfold():
    reference: dict[str, float] = {}
    assert growth_warnings(reference, {"loss": 2.0, "norm": -5.0}, 1) == []
    assert reference == {"loss": 2.0, "norm": 5.0}
    assert growth_warnings(reference, {"loss": 1999.0, "norm": math.nan}, 2) == []
    (line,) = growth_warnings(reference, {"loss": -2001.0}, 3)
    assert line.startswith("warning: epoch 3: loss is 2e+03, 1,000 times its first measured 2;")
    assert growth_warnings(reference, {"loss": 5000.0}, 4) == []  # warned already
    assert len(growth_warnings(reference, {"loss": 2.1e6}, 5)) == 1  # another thousandfold


def test_a_near_zero_first_value_is_compared_from_a_floor():
    reference: dict[str, float] = {}
    growth_warnings(reference, {"critic_loss": 1e-6}, 1)
    assert growth_warnings(reference, {"critic_loss": 5.0}, 2) == []  # 5e6 times, but tiny
    assert len(growth_warnings(reference, {"critic_loss": 11.0}, 3)) == 1


def test_a_huge_actor_learning_rate_is_flagged_and_a_normal_run_is_not(tmp_path):
    for pi_lr, expected in ((1e6, 1), (1e-3, 0)):
        lines: list[str] = []
        config = with_overrides(
            Config(), {"env": register(), **SMALL, "n_epochs": 2, "pi_lr": pi_lr}
        )
        trainer = Trainer.from_config(config, tmp_path / str(pi_lr), None, log=lines.append)
        trainer.train(ProgressLog(tmp_path / str(pi_lr), tensorboard=False), show_bar=False)
        warnings = [line for line in lines if line.startswith("warning:")]
        assert len(warnings) == expected, lines
        if expected:
            assert "epoch 1: the actor's parameter norm is" in warnings[0]
            # the reference is checkpointed, so a resumed run keeps comparing with it
            assert "the actor's parameter norm" in trainer.state.growth_reference
