"""Episodes of different lengths in the HER sampler and the episode buffer: only valid steps are
drawn, uniformly over all of them, future goals never come from past an episode's end, and the
buffer's lengths survive a checkpoint."""

import numpy as np
import pytest

from herdemos.assembly import episode_shapes
from herdemos.env_info import EnvInfo
from herdemos.her import her_probability, make_sample_her_transitions
from herdemos.ragged import clear_padding, pad_episodes, sample_valid_steps
from herdemos.replay_buffer import EpisodeBuffer

from point_env import PointGoalEnv, make_episodes

HORIZON = 6
LENGTHS = np.array([1, 6, 3, 2, 5])
PAD = -999.0  # written into padding rows: any sampled value equal to it is a padding row


def ragged_episodes(lengths=LENGTHS, horizon=HORIZON, rng=None) -> dict[str, np.ndarray]:
    """Point-env episodes (``ag[t] = (t, 100 * episode)``) with every padding row set to PAD,
    which the layout forbids, so that a sampler reading padding shows it."""
    rng = rng or np.random.default_rng(0)
    episodes = make_episodes(len(lengths), horizon, rng)
    episodes["info_is_success"] = rng.uniform(0, 1, episodes["info_is_success"].shape)
    for i, length in enumerate(lengths):
        for array in episodes.values():
            first_padding = length + 1 if array.shape[1] == horizon + 1 else length
            array[i, first_padding:] = PAD
    episodes["length"] = np.array(lengths, np.int64)
    return episodes


def sampler(strategy="future"):
    return make_sample_her_transitions(strategy, 4, PointGoalEnv().compute_reward)


def test_sampler_never_draws_a_padded_row_nor_a_future_goal_past_the_end():
    episodes = ragged_episodes()
    batch = sampler()(episodes, 50_000, np.random.default_rng(0))
    for key in ("o", "ag", "o_2", "ag_2", "u", "g", "info_is_success"):
        assert not np.any(batch[key] == PAD), key
    ep = (batch["ag"][:, 1] / 100).astype(int)
    t = batch["ag"][:, 0].astype(int)
    assert np.all(t < LENGTHS[ep])
    np.testing.assert_array_equal(batch["ag_2"][:, 0], t + 1)  # the next step, never padding
    relabelled = np.isclose(batch["g"][:, 1], 100 * ep) & (
        batch["g"][:, 0] == np.round(batch["g"][:, 0])
    )
    future_t = batch["g"][relabelled, 0].astype(int)
    assert np.all(future_t > t[relabelled]) and np.all(future_t <= LENGTHS[ep[relabelled]])
    # every admissible future step occurs, up to and including each episode's final state
    for episode, length in enumerate(LENGTHS):
        starts = relabelled & (ep == episode) & (t == 0)
        assert set(batch["g"][starts, 0].astype(int)) == set(range(1, length + 1))
    assert relabelled.mean() == pytest.approx(her_probability("future", 4), abs=0.01)
    assert "length" not in batch  # a batch row is a transition, and agent rows have no length


def test_steps_are_uniform_over_all_valid_transitions_not_per_episode():
    draws = 300_000
    ep, t = sample_valid_steps(LENGTHS, draws, np.random.default_rng(3))
    counts = np.zeros((len(LENGTHS), HORIZON))
    np.add.at(counts, (ep, t), 1)
    valid = np.arange(HORIZON)[None, :] < LENGTHS[:, None]
    assert counts[~valid].sum() == 0
    expected = draws / LENGTHS.sum()  # every valid (episode, t) pair alike
    # 4 standard deviations of a binomial count, over 17 cells
    assert np.all(np.abs(counts[valid] - expected) < 4 * np.sqrt(expected))
    # so episodes are drawn in proportion to their lengths: the 1-step one rarely
    np.testing.assert_allclose(counts.sum(1) / draws, LENGTHS / LENGTHS.sum(), atol=0.005)


def test_full_lengths_draw_the_same_distribution_as_no_lengths():
    episodes = make_episodes(3, HORIZON, np.random.default_rng(0))
    with_lengths = {**episodes, "length": np.full(3, HORIZON)}
    a = sampler("none")(episodes, 60_000, np.random.default_rng(1))
    b = sampler("none")(with_lengths, 60_000, np.random.default_rng(2))
    for batch in (a, b):
        batch["cell"] = batch["ag"][:, 1] / 100 * HORIZON + batch["ag"][:, 0]
    counts_a = np.bincount(a["cell"].astype(int), minlength=3 * HORIZON)
    counts_b = np.bincount(b["cell"].astype(int), minlength=3 * HORIZON)
    assert np.all(np.abs(counts_a - counts_b) < 5 * np.sqrt(60_000 / (3 * HORIZON)))


def old_sample(episodes, batch_size, rng, future_p):
    """The sampler as it was before episode lengths existed (the draws that must not change)."""
    n_episodes, horizon = episodes["u"].shape[:2]
    ep = rng.integers(0, n_episodes, size=batch_size)
    t = rng.integers(0, horizon, size=batch_size)
    g = episodes["g"][ep, t].copy()
    relabel = np.flatnonzero(rng.random(batch_size) < future_p)
    offset = (rng.random(relabel.size) * (horizon - t[relabel])).astype(np.int64)
    g[relabel] = episodes["ag"][ep[relabel], t[relabel] + 1 + offset]
    return episodes["o"][ep, t], g


def test_without_lengths_the_random_stream_and_results_are_unchanged():
    episodes = make_episodes(7, HORIZON, np.random.default_rng(4))
    rng_new, rng_old = np.random.default_rng(5), np.random.default_rng(5)
    batch = sampler()(episodes, 1000, rng_new)
    o, g = old_sample(episodes, 1000, rng_old, her_probability("future", 4))
    np.testing.assert_array_equal(batch["o"], o)
    np.testing.assert_array_equal(batch["g"], g)
    assert rng_new.bit_generator.state == rng_old.bit_generator.state


SHAPES = episode_shapes(
    EnvInfo("PointGoal-v0", dim_o=2, dim_g=2, dim_u=2, horizon=HORIZON, max_u=1)
)


def test_a_buffer_with_lengths_samples_valid_steps_and_counts_them():
    buffer = EpisodeBuffer(SHAPES, len(LENGTHS), sampler(), lengths=True)
    buffer.store_episodes(ragged_episodes())
    assert buffer.n_transitions_stored == LENGTHS.sum()
    np.testing.assert_array_equal(buffer.filled()["length"], LENGTHS)
    batch = buffer.sample(5000, np.random.default_rng(0))
    assert not any(np.any(batch[k] == PAD) for k in ("o", "ag", "o_2", "ag_2", "u", "g"))


def test_a_buffer_without_lengths_refuses_nothing_new_and_stores_no_length():
    buffer = EpisodeBuffer(SHAPES, 3, sampler())
    buffer.store_episodes(make_episodes(3, HORIZON, np.random.default_rng(0)))
    assert "length" not in buffer.filled() and "storage/length" not in buffer.state_dict()
    assert buffer.n_transitions_stored == 3 * HORIZON


def test_buffer_checkpoint_round_trips_the_lengths():
    buffer = EpisodeBuffer(SHAPES, 8, sampler(), lengths=True)
    buffer.store_episodes(ragged_episodes())
    restored = EpisodeBuffer(SHAPES, 8, sampler(), lengths=True)
    restored.load_state_dict(buffer.state_dict())
    for key, array in buffer.storage.items():
        np.testing.assert_array_equal(restored.storage[key], array)
    assert restored.storage["length"].dtype == np.int64
    rng_a, rng_b = np.random.default_rng(9), np.random.default_rng(9)
    a, b = buffer.sample(100, rng_a), restored.sample(100, rng_b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_a_checkpoint_without_lengths_loads_as_full_episodes():
    old = EpisodeBuffer(SHAPES, 4, sampler())
    old.store_episodes(make_episodes(3, HORIZON, np.random.default_rng(0)))
    restored = EpisodeBuffer(SHAPES, 4, sampler(), lengths=True)
    restored.load_state_dict(old.state_dict())
    np.testing.assert_array_equal(restored.filled()["length"], [HORIZON] * 3)
    np.testing.assert_array_equal(restored.filled()["o"], old.filled()["o"])


def test_a_checkpoint_with_lengths_is_refused_by_a_buffer_without():
    buffer = EpisodeBuffer(SHAPES, 5, sampler(), lengths=True)
    buffer.store_episodes(ragged_episodes())
    with pytest.raises(ValueError, match="lengths"):
        EpisodeBuffer(SHAPES, 5, sampler()).load_state_dict(buffer.state_dict())


def test_pad_episodes_zeros_steps_and_repeats_the_final_state():
    rng = np.random.default_rng(0)
    episodes = []
    for length in (2, 4):
        episodes.append(
            {
                "o": rng.normal(size=(length + 1, 3)),
                "u": rng.normal(size=(length, 2)).astype(np.float32),
                "info_is_success": np.ones((length, 1), np.float32),
            }
        )
    padded = pad_episodes(episodes, 4)
    np.testing.assert_array_equal(padded["length"], [2, 4])
    assert padded["o"].shape == (2, 5, 3) and padded["o"].dtype == np.float64
    assert padded["u"].shape == (2, 4, 2) and padded["u"].dtype == np.float32
    np.testing.assert_array_equal(padded["o"][0, :3], episodes[0]["o"])
    np.testing.assert_array_equal(padded["o"][0, 3:], np.repeat(episodes[0]["o"][-1:], 2, 0))
    np.testing.assert_array_equal(padded["u"][0, :2], episodes[0]["u"])
    assert not padded["u"][0, 2:].any() and not padded["info_is_success"][0, 2:].any()
    np.testing.assert_array_equal(padded["o"][1], episodes[1]["o"])
    # clear_padding restores exactly this layout after the padding rows were changed
    changed = {k: v.copy() for k, v in padded.items()}
    changed["u"][0, 2:] += 5.0
    changed["o"][0, 3:] = -1.0
    clear_padding(changed)
    for key, array in padded.items():
        np.testing.assert_array_equal(changed[key], array)


@pytest.mark.parametrize(
    ("episodes", "message"),
    [
        ([], "no episodes"),
        ([{"u": np.zeros((0, 2)), "o": np.zeros((1, 2))}], "0 steps; must be within 1..4"),
        ([{"u": np.zeros((5, 2)), "o": np.zeros((6, 2))}], "5 steps; must be within 1..4"),
        ([{"u": np.zeros((2, 2)), "o": np.zeros((4, 2))}], "'o' of episode 0 has 4 rows for 2"),
        (
            [{"u": np.zeros((2, 2)), "o": np.zeros((3, 2))}, {"u": np.zeros((2, 2))}],
            "episode 1 has keys",
        ),
        (
            [{"u": np.zeros((2, 2)), "o": np.zeros((3, 2))}, {"u": np.zeros((2, 2)), "o": []}],
            "'o' of episode 1 has shape",
        ),
    ],
)
def test_pad_episodes_refuses_what_does_not_fit(episodes, message):
    with pytest.raises(ValueError, match=message):
        pad_episodes(episodes, 4)
