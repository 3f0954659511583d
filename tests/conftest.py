import pytest

from point_env import PointGoalEnv, register


@pytest.fixture
def point_env_id() -> str:
    return register()


@pytest.fixture
def point_env() -> PointGoalEnv:
    return PointGoalEnv()
