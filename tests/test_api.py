"""herdemos.train(): the command line's run from Python, with an env id and its arguments or an
env factory with wrappers; the README's example runs as written."""

import csv
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from cli_asserts import python_path
from click.testing import CliRunner
from test_cli_smoke import TINY, run

import herdemos
from herdemos.config import Config, with_overrides
from herdemos.experiment.train import main as train_main
from herdemos.util import HerdemosError

from point_env import PointGoalEnv, TerminatingPointEnv, point_policy

ROOT = Path(__file__).resolve().parents[1]
POINT = "point_env:PointGoal-v0"
TINY_FIELDS = {"n_cycles": 2, "n_batches": 2, "batch_size": 32, "n_test_rollouts": 2}


def tiny(**more) -> Config:
    return with_overrides(Config(), {**TINY_FIELDS, "n_epochs": 1, **more})


def progress(run_dir: Path) -> list[dict[str, str]]:
    """progress.csv without its wall times, which differ between any two runs."""
    with open(run_dir / "progress.csv") as f:
        return [
            {k: v for k, v in row.items() if k != "wall_time" and not k.startswith("time/")}
            for row in csv.DictReader(f)
        ]


def short_point_env() -> gym.Env:
    """The registered point env (10 steps) in a wrapper that ends its episodes after 5."""
    return gym.wrappers.TimeLimit(gym.make("PointGoal-v0"), max_episode_steps=5)


def test_the_api_trains_the_run_the_command_line_trains(tmp_path):
    """One code path: the same config gives the same numbers through either door."""
    result = herdemos.train(tiny(), env=POINT, logdir=tmp_path / "api", quiet=True)
    assert result.run_dir == tmp_path / "api"
    assert result.policy.act(PointGoalEnv().reset(seed=0)[0]).shape == (2,)
    assert result.policy.metadata["env_id"] == POINT
    cli = tmp_path / "cli"
    done = run(
        "experiment/train.py", "--env", POINT, "--n_epochs", "1", "--logdir", str(cli), *TINY
    )
    assert done.returncode == 0, done.stderr
    assert progress(result.run_dir) == progress(cli)
    assert json.loads((cli / "params.json").read_text())["train"]["env"] == POINT


def test_a_factory_with_a_wrapper_trains_and_resumes_only_with_a_factory(tmp_path):
    run_dir = tmp_path / "run"
    result = herdemos.train(tiny(), env=short_point_env, logdir=run_dir, quiet=True)
    assert result.policy.metadata["T"] == 5  # the wrapper's horizon, not the env's 10
    train = json.loads((run_dir / "params.json").read_text())["train"]
    assert train["env"] == "PointGoal-v0"
    assert train["env_factory"] == "test_api:short_point_env"
    # The command line cannot call the factory: it refuses instead of dropping the wrapper.
    refused = CliRunner().invoke(train_main, ["--resume", str(run_dir), "--n_epochs", "2"])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "test_api:short_point_env; resume it with herdemos.train(" in refused.output
    with pytest.raises(HerdemosError, match="trained with the env factory test_api:short"):
        herdemos.train(tiny(n_epochs=2), env=PointGoalEnv, resume=run_dir)
    again = herdemos.train(tiny(n_epochs=2), env=short_point_env, resume=run_dir, quiet=True)
    assert [row["epoch"] for row in progress(again.run_dir)] == ["1", "2"]


def test_fetch_reach_takes_env_kwargs_that_play_uses_too(tmp_path):
    from herdemos.policy_env import env_for_policy

    config = tiny(rollout_batch_size=1)
    kwargs = {"reward_type": "dense", "max_episode_steps": 20}
    result = herdemos.train(config, env="FetchReach-v4", env_kwargs=kwargs, logdir=tmp_path / "r")
    params = json.loads((tmp_path / "r" / "params.json").read_text())["train"]
    assert json.loads(params["env_kwargs"]) == kwargs
    assert result.policy.metadata["T"] == 20
    _, env, info = env_for_policy(result.policy, tmp_path / "r" / "policy_best.pkl", None)
    assert env.unwrapped.reward_type == "dense" and info.horizon == 20
    env.close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "--env_kwargs [1, 2]: expected a JSON object"),
        ("{reward_type: dense}", "--env_kwargs {reward_type: dense}: not JSON"),
        ('{"bogus": 1}', '--env FetchReach-v4 --env_kwargs {"bogus": 1}: '),
    ],
)
def test_bad_env_kwargs_are_one_line_naming_the_flag(tmp_path, text, message):
    args = ["--env", "FetchReach-v4", "--env_kwargs", text, "--logdir", str(tmp_path / "r")]
    result = CliRunner().invoke(train_main, args)
    assert result.exit_code == 1, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: ") and message in line
    assert not (tmp_path / "r").exists()


def asymmetric_box_env() -> gym.Env:
    return gym.wrappers.RescaleAction(
        short_point_env(), np.array([-1.0, 0.0]), np.array([1.0, 1.0])
    )


class ScalarRewardEnv(PointGoalEnv):
    max_episode_steps = 10

    def compute_reward(self, achieved_goal, desired_goal, info):
        return -float(np.linalg.norm(np.asarray(achieved_goal) - desired_goal) > 0.1)


def scalar_reward_env() -> gym.Env:
    return gym.wrappers.TimeLimit(ScalarRewardEnv(), 10)


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (asymmetric_box_env, r"env factory test_api:asymmetric_box_env: action box low \[-1"),
        (scalar_reward_env, r"env factory test_api:scalar_reward_env: compute_reward returned"),
        (lambda: PointGoalEnv(), r"env factory test_api:.*<lambda>: the env declares no max_ep"),
    ],
)
def test_a_factory_env_the_learner_cannot_use_is_one_line_naming_the_factory(
    tmp_path, factory, message
):
    with pytest.raises(HerdemosError, match=message) as error:
        herdemos.train(tiny(), env=factory, logdir=tmp_path / "r")
    assert "\n" not in str(error.value)
    assert not (tmp_path / "r").exists()


class EndsAtStep4(TerminatingPointEnv):
    """Terminates every episode at step 4, reached or not."""

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        self.done = terminated or self.steps == 4
        return obs, reward, self.done, truncated, info


def test_an_env_that_terminates_is_said_once_and_trains(tmp_path, capsys):
    def terminating() -> gym.Env:
        return gym.wrappers.TimeLimit(EndsAtStep4(), 10)

    herdemos.train(tiny(n_epochs=2), env=terminating, logdir=tmp_path / "r", quiet=True)
    out = capsys.readouterr().out
    assert out.count("returned terminated=True") == 1, out
    assert len(progress(tmp_path / "r")) == 2


def readme_api_example() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(), re.S | re.M)
    (example,) = [b for b in blocks if "herdemos.train(" in b]
    return example


def test_the_readme_api_example_runs_as_written(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", readme_api_example()],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": python_path()},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    run_dir = tmp_path / "runs" / "reach-api"
    assert result.stdout.splitlines()[-1].startswith("runs/reach-api [")
    train = json.loads((run_dir / "params.json").read_text())["train"]
    assert (train["env"], train["env_factory"]) == ("FetchReach-v4", "__main__:make_env")
    assert len(progress(run_dir)) == 1
    assert herdemos.load_policy(run_dir / "policy_best.pkl").metadata["T"] == 20
    # The factory, defined in the script, was sent to the filming process by value.
    assert (run_dir / "videos" / "epoch-0001.mp4").stat().st_size > 0


def test_env_kwargs_are_stored_in_one_spelling_so_a_resume_may_repeat_them(tmp_path):
    from herdemos.experiment.flags import TrainFlags
    from herdemos.experiment.resolve import resolve_config, resume_config

    given = TrainFlags(env="FetchReach-v4", env_kwargs='{"reward_type":"dense","a": [1]}')
    config = resolve_config(given, ())
    assert config.train.env_kwargs == '{"a": [1], "reward_type": "dense"}'
    (tmp_path / "params.json").write_text(config.to_json())
    again = TrainFlags(env_kwargs='{"reward_type": "dense", "a": [1]}')
    assert resume_config(tmp_path, again, ()) == config
    with pytest.raises(HerdemosError, match=r"^--env_kwargs \{\} conflicts with the run's"):
        resume_config(tmp_path, TrainFlags(env_kwargs="{}"), ())
    with pytest.raises(HerdemosError, match="^--set env_factory: herdemos.train"):
        resolve_config(TrainFlags(), ("env_factory=mine:make",))


def test_a_resumed_run_may_start_filming(tmp_path):
    """--video_interval changes no number of training, so a resume may change it, as
    --n_epochs."""
    from herdemos.experiment.flags import TrainFlags
    from herdemos.experiment.resolve import resolve_config, resume_config

    config = resolve_config(TrainFlags(env="FetchReach-v4"), ())
    (tmp_path / "params.json").write_text(config.to_json())
    resumed = resume_config(tmp_path, TrainFlags(video_interval=5, n_epochs=20), ())
    assert (resumed.train.video_interval, resumed.train.n_epochs) == (5, 20)
    with pytest.raises(HerdemosError, match="--seed 3 conflicts"):
        resume_config(tmp_path, TrainFlags(video_interval=5, seed=3), ())


def test_the_api_trains_from_a_thread_other_than_the_main_one(tmp_path):
    """A notebook or a GUI runs training in a worker thread, where Python allows no signal
    handlers; the run still trains (it can then be stopped only by its caller)."""
    outcome = {}

    def work():
        try:
            outcome["result"] = herdemos.train(tiny(), env=POINT, logdir=tmp_path / "t", quiet=True)
        except BaseException as error:  # the assertion below reports it
            outcome["error"] = error

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["result"].run_dir == tmp_path / "t"
    assert len(progress(tmp_path / "t")) == 1


def hand_loop(policy, env: gym.Env, seed: int, episodes: int) -> tuple[list[bool], list[float]]:
    """Each episode as a user would write it: reset with its seed, act until the time limit."""
    successes, returns = [], []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, info = env.step(policy.act(obs))
            total += reward
            done = terminated or truncated
        successes.append(bool(info["is_success"]))
        returns.append(total)
    return successes, returns


def test_evaluate_runs_the_numbered_episodes_a_hand_written_loop_runs(tmp_path):
    policy = point_policy(5.0)
    policy.save(tmp_path / "policy.pkl")
    result = herdemos.evaluate(tmp_path / "policy.pkl", env=POINT, episodes=12, seed=3)
    assert result.env_id == POINT
    successes, returns = hand_loop(policy, gym.make("PointGoal-v0"), 3, 12)
    assert list(result.successes) == successes
    assert list(result.returns) == pytest.approx(returns)
    assert 0 < result.success_rate < 1  # the episodes differ, so the check above means something
    still = herdemos.evaluate(point_policy(0.0), env=POINT, episodes=12, seed=3)
    assert still.success_rate < result.success_rate


def test_evaluate_uses_a_factorys_wrappers():
    policy = point_policy(0.0)  # stands still: -1 a step until the episode ends
    by_id = herdemos.evaluate(policy, env=POINT, episodes=3)
    by_factory = herdemos.evaluate(policy, env=short_point_env, episodes=3)
    assert by_id.returns == (-10.0, -10.0, -10.0)
    assert by_factory.returns == (-5.0, -5.0, -5.0)
    assert by_factory.env_id.endswith("short_point_env")


def test_evaluate_takes_numpy_counts_and_a_train_result(tmp_path):
    policy = point_policy(5.0)
    trained = herdemos.TrainResult(run_dir=tmp_path, policy=policy)
    by_result = herdemos.evaluate(trained, env=POINT, episodes=np.int64(4), seed=np.int32(2))
    assert by_result == herdemos.evaluate(policy, env=POINT, episodes=4, seed=2)


@pytest.mark.parametrize(
    ("policy", "kwargs", "fragment"),
    [
        (None, {"env": POINT, "episodes": 0}, "episodes=0"),
        (None, {"env": POINT, "episodes": True}, "episodes=True"),
        (None, {"env": POINT, "episodes": 2.5}, "episodes=2.5"),
        (None, {"env": POINT, "seed": -1}, "seed=-1"),
        (None, {"env": 42}, "env=42"),
        (None, {"env": " "}, "env=' '"),
        # The policy's own id would import a module: the line says how to trust it.
        (None, {}, "pass env='point_env:PointGoal-v0' if you trust it"),
        (None, {"env": "FetchReach-v4"}, "do not fit FetchReach-v4"),
        (0, {"env": POINT}, "policy=0: give a Policy"),
        ("no/such/policy.pkl", {"env": POINT}, "no/such/policy.pkl"),
    ],
)
def test_evaluate_refuses_bad_arguments_in_one_line(policy, kwargs, fragment):
    with pytest.raises(HerdemosError, match=re.escape(fragment)) as caught:
        herdemos.evaluate(point_policy(1.0) if policy is None else policy, **kwargs)
    assert "\n" not in str(caught.value)


class WideGoalEnv(PointGoalEnv):
    """The point env with a 3-D observation: a policy of the 2-D one does not fit it."""

    closed = 0

    def __init__(self, render_mode=None):
        super().__init__(render_mode)
        box = gym.spaces.Box(-1.0, 1.0, (3,), np.float64)
        self.observation_space = gym.spaces.Dict(
            {**self.observation_space.spaces, "observation": box}
        )

    def close(self):
        WideGoalEnv.closed += 1


def test_evaluate_refuses_a_factory_env_the_policy_does_not_fit_and_closes_it():
    def wide_env():
        return gym.wrappers.TimeLimit(WideGoalEnv(), max_episode_steps=10)

    before = WideGoalEnv.closed
    with pytest.raises(HerdemosError, match="do not fit") as caught:
        herdemos.evaluate(point_policy(1.0), env=wide_env)
    assert "\n" not in str(caught.value)
    assert WideGoalEnv.closed == before + 1


def test_evaluate_asks_for_the_factory_a_policy_was_trained_with(tmp_path):
    result = herdemos.train(tiny(), env=short_point_env, logdir=tmp_path / "run", quiet=True)
    with pytest.raises(HerdemosError, match="pass env=that factory") as caught:
        herdemos.evaluate(result.policy)
    assert "short_point_env" in str(caught.value)
    assert herdemos.evaluate(result, env=short_point_env, episodes=2).env_id.endswith(
        "short_point_env"
    )


def test_evaluate_needs_no_tensorflow(tmp_path):
    point_policy(1.0).save(tmp_path / "policy.pkl")
    code = (
        "import sys, herdemos\n"
        f"r = herdemos.evaluate({str(tmp_path / 'policy.pkl')!r}, env={POINT!r}, episodes=2)\n"
        "assert len(r.successes) == 2\n"
        "print('tensorflow' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": python_path()}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
