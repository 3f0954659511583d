"""Train DDPG + HER, optionally with demonstrations, BC loss and Q-filter.

python experiment/train.py --bc_loss 1 --q_filter 1 --num_demo 100
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from herdemos.experiment.config import (
    ENV_OVERRIDES,
    Config,
    env_family,
    parse_set_options,
    validate,
    with_overrides,
)
from herdemos.util import HerdemosError, atomic_write_text

FLAG_FIELDS = {
    "env": "train.env",
    "n_epochs": "train.n_epochs",
    "seed": "train.seed",
    "policy_save_interval": "train.policy_save_interval",
    "num_cpu": "train.num_cpu",
    "replay_strategy": "her.replay_strategy",
    "clip_return": "ddpg.clip_return",
    "bc_loss": "ddpg.bc_loss",
    "q_filter": "ddpg.q_filter",
    "num_demo": "demo.num_demo",
    "demo_file": "demo.demo_file",
    "demo_reset_prob": "demo.demo_reset_prob",
}


def resolve_config(flags: dict, set_items: tuple[str, ...]) -> Config:
    """defaults < per-env table < explicit flags < ``--set`` items."""
    config = Config()
    env = flags.get("env") or config.train.env
    config = with_overrides(config, {"env": env})
    config = with_overrides(config, ENV_OVERRIDES.get(env_family(env), {}))
    explicit = {FLAG_FIELDS[k]: v for k, v in flags.items() if v is not None and k in FLAG_FIELDS}
    for key in ("ddpg.clip_return", "ddpg.bc_loss", "ddpg.q_filter"):
        if key in explicit:
            explicit[key] = bool(explicit[key])
    config = with_overrides(config, explicit)
    config = with_overrides(config, parse_set_options(set_items))
    validate(config)
    return config


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--env", default=None, help="Gym goal env id or module:Class.  [default: FetchPickAndPlace-v4]"
)
@click.option(
    "--logdir",
    type=click.Path(file_okay=False),
    default=None,
    help="Run folder.  [default: runs/<env>-<timestamp>]",
)
@click.option(
    "--n_epochs", type=int, default=None, help="Epochs to train.  [default: 100; FetchReach 10]"
)
@click.option("--seed", type=int, default=None, help="Random seed.  [default: 0]")
@click.option(
    "--policy_save_interval",
    type=int,
    default=None,
    help="Save policy_<epoch>.pkl every N epochs (0: never).  [default: 5]",
)
@click.option(
    "--replay_strategy",
    type=click.Choice(["future", "none"]),
    default=None,
    help="HER strategy; 'none' disables relabelling.  [default: future]",
)
@click.option(
    "--clip_return",
    type=click.IntRange(0, 1),
    default=None,
    help="Clip target returns to [-1/(1-gamma), 0].  [default: 1]",
)
@click.option(
    "--demo_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Demo .npz; if omitted, scripted demos are generated and cached.",
)
@click.option(
    "--bc_loss",
    type=click.IntRange(0, 1),
    default=None,
    help="Add the behaviour-cloning loss on demo rows.  [default: 0]",
)
@click.option(
    "--q_filter",
    type=click.IntRange(0, 1),
    default=None,
    help="Clone only where Q(s,a_demo) > Q(s,pi(s)); needs --bc_loss 1.  [default: 0]",
)
@click.option(
    "--num_demo",
    type=click.IntRange(min=0),
    default=None,
    help="Demo episodes in the demo buffer (0: plain HER).  [default: 0]",
)
@click.option(
    "--demo_reset_prob",
    type=click.FloatRange(0, 1),
    default=None,
    help="Probability that a training episode starts from a demo state.  [default: 0]",
)
@click.option(
    "--num_cpu", type=click.IntRange(min=1), default=None, help="MPI ranks.  [default: 1]"
)
@click.option(
    "--set",
    "set_items",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Override any config field, e.g. --set n_cycles=10 --set ddpg.polyak=0.9.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def main(logdir: str | None, set_items: tuple[str, ...], quiet: bool, **flags) -> None:
    """Train DDPG + HER with demonstrations (Nair et al. 2018) on a goal-conditioned env.

    \b
    Examples:
      python experiment/train.py --bc_loss 1 --q_filter 1 --num_demo 100
      python experiment/train.py --env FetchReach-v4
      python experiment/train.py --num_demo 0 --set n_cycles=20
    """
    try:
        run(logdir, set_items, quiet, flags)
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None


def run(logdir: str | None, set_items: tuple[str, ...], quiet: bool, flags: dict) -> None:
    config = resolve_config(flags, set_items)
    if config.train.num_cpu > 1:
        raise HerdemosError("--num_cpu > 1 (MPI) is not available yet; use --num_cpu 1")
    env_id = config.train.env
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(logdir) if logdir else Path("runs") / f"{env_id.replace(':', '_')}-{stamp}"
    if (path / "progress.csv").exists() or (path / "params.json").exists():
        raise HerdemosError(f"--logdir {path}: already holds a run; choose another folder")

    # Heavy imports only after the flags are known to be good: --help and typos stay fast.
    from herdemos.environment import EnvInfo, make_env
    from herdemos.logger import ProgressLog
    from herdemos.trainer import Trainer, load_run_demos

    probe = make_env(env_id)
    info = EnvInfo.of(probe, env_id)
    probe.close()
    demos = load_run_demos(config, info, click.echo)
    path.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path / "params.json", config.to_json() + "\n")
    click.echo(f"logging to {path}")
    trainer = Trainer(config, path, demos, log=click.echo)
    progress = ProgressLog(path)
    try:
        trainer.train(progress, show_bar=not quiet)
    finally:
        progress.close()
    click.echo(
        f"done: {trainer.state.epoch} epochs, best test success {trainer.state.best_success:.2f}; "
        f"policies in {path}"
    )


if __name__ == "__main__":
    sys.exit(main())
