"""Episode ring buffer: storage layout, wraparound, sampling, state round trip."""

import numpy as np
import pytest

from herdemos.her import make_sample_her_transitions
from herdemos.normalizer import Normalizer
from herdemos.replay_buffer import EpisodeBuffer

from point_env import PointGoalEnv, make_episodes

HORIZON = 4
SHAPES = {
    "o": (HORIZON + 1, 2),
    "ag": (HORIZON + 1, 2),
    "g": (HORIZON, 2),
    "u": (HORIZON, 2),
    "info_is_success": (HORIZON, 1),
}


def make_buffer(capacity):
    sampler = make_sample_her_transitions("future", 4, PointGoalEnv().compute_reward)
    return EpisodeBuffer(SHAPES, capacity, sampler)


def episode_ids(buffer):
    return (buffer.storage["ag"][: buffer.size, 0, 1] / 100).astype(int).tolist()


@pytest.mark.parametrize(
    ("capacity", "batches", "ids_by_slot"),
    [
        (5, [3], [0, 1, 2]),
        (5, [3, 3], [5, 1, 2, 3, 4]),  # episodes 3,4,5 go to slots 3,4,0
        (5, [4, 4, 4], [10, 11, 7, 8, 9]),
        (3, [7], [6, 4, 5]),  # a batch larger than the buffer keeps its newest episodes
    ],
)
def test_ring_buffer_wraparound(capacity, batches, ids_by_slot):
    rng = np.random.default_rng(0)
    buffer, next_id = make_buffer(capacity), 0
    for n in batches:
        episodes = make_episodes(n, HORIZON, rng)
        episodes["ag"][..., 1] += 100 * next_id
        buffer.store_episodes(episodes)
        next_id += n
    assert episode_ids(buffer) == ids_by_slot
    assert buffer.size == min(capacity, sum(batches))
    assert buffer.next_index == sum(batches) % capacity
    assert buffer.n_transitions_stored == HORIZON * sum(batches)


def test_sampling_only_sees_stored_episodes():
    rng = np.random.default_rng(1)
    buffer = make_buffer(10)
    buffer.store_episodes(make_episodes(2, HORIZON, rng))
    batch = buffer.sample(1000, rng)
    assert set((batch["ag"][:, 1] / 100).astype(int)) == {0, 1}
    assert batch["o"].shape == (1000, 2) and batch["r"].shape == (1000,)


def test_empty_buffer_refuses_to_sample():
    with pytest.raises(RuntimeError, match="empty"):
        make_buffer(2).sample(4, np.random.default_rng(0))


def test_missing_keys_are_reported():
    episodes = make_episodes(1, HORIZON, np.random.default_rng(0))
    del episodes["u"]
    with pytest.raises(KeyError, match="'u'"):
        make_buffer(2).store_episodes(episodes)


def test_state_dict_round_trip():
    rng = np.random.default_rng(2)
    buffer = make_buffer(4)
    buffer.store_episodes(make_episodes(6, HORIZON, rng))
    restored = make_buffer(4)
    restored.load_state_dict(buffer.state_dict())
    for key in SHAPES:
        np.testing.assert_array_equal(restored.storage[key], buffer.storage[key])
    assert (restored.size, restored.next_index, restored.n_transitions_stored) == (
        buffer.size,
        buffer.next_index,
        buffer.n_transitions_stored,
    )


def test_normalizer_matches_numpy_and_clips():
    rng = np.random.default_rng(3)
    data = rng.normal(3.0, 2.0, (5000, 4))
    norm = Normalizer(4, eps=0.01, clip_range=5.0)
    norm.update(data[:2000])
    norm.recompute_stats()
    norm.update(data[2000:])
    norm.recompute_stats()
    np.testing.assert_allclose(norm.mean, data.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(norm.std, data.std(axis=0), rtol=1e-4)
    assert np.abs(norm.normalize(np.full((1, 4), 1e6))).max() == pytest.approx(5.0)


def test_normalizer_std_floor_for_constant_features():
    norm = Normalizer(2, eps=0.01)
    norm.update(np.ones((10, 2)))
    norm.recompute_stats()
    np.testing.assert_allclose(norm.std, 0.01)


def test_normalizer_sums_combine_across_ranks():
    """Two ranks' sums, added by the reducer, give the stats of the pooled data."""
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(100, 3)), rng.normal(5, 1, size=(300, 3))
    worker_b = Normalizer(3)
    worker_b.update(b)
    other = np.concatenate([worker_b._local_sum, worker_b._local_sumsq, worker_b._local_count])
    worker_a = Normalizer(3, reduce_sum=lambda x: x + other)
    worker_a.update(a)
    worker_a.recompute_stats()
    pooled = np.concatenate([a, b])
    np.testing.assert_allclose(worker_a.mean, pooled.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(worker_a.std, pooled.std(axis=0), rtol=1e-4)


def test_nearby_run_seeds_share_no_env_streams():
    from herdemos.env_info import EnvInfo
    from herdemos.rollout import RolloutWorker

    info = EnvInfo("x", 2, 2, 2, horizon=3, max_u=1.0)
    envs = [PointGoalEnv() for _ in range(10)]
    seeds = [
        set(
            RolloutWorker(
                envs, info, seed=(s, 0, role), rng=np.random.default_rng()
            ).pending_seeds()
        )
        for s in (0, 1)
        for role in (0, 1)
    ]
    for i in range(len(seeds)):
        for j in range(i + 1, len(seeds)):
            assert not seeds[i] & seeds[j]
