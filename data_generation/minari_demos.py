"""Turn a demo file into a Minari dataset, and a Minari dataset into a demo file.

python data_generation/minari_demos.py export demos/pp.npz --dataset_id herdemos/pp-scripted-v0
python data_generation/minari_demos.py import herdemos/pp-scripted-v0 --out demos/pp_back.npz
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from herdemos.util import HerdemosError, check_output_file, os_error_line

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
def main() -> None:
    """Export herdemos demos as a Minari dataset (in $MINARI_DATASETS_PATH, else
    ~/.minari/datasets), or import a local Minari dataset as a demo file.

    A round trip keeps every array (o, ag, g, u, is_success, sim_state, episode lengths) and the
    metadata exactly. train.py also reads a dataset directly: --demo_file DATASET_ID. Nothing
    is ever downloaded (`minari download ID` does that). Needs: pip install herdemos[minari].
    """


@main.command(
    "export", context_settings=CONTEXT, short_help="Write a demo file as a local Minari dataset."
)
@click.argument("demo_file", type=click.Path(dir_okay=False))
@click.option(
    "--dataset_id",
    required=True,
    help="Id of the new dataset, e.g. herdemos/pickandplace-scripted-v0 (never overwritten).",
)
@click.option(
    "--env",
    default=None,
    help="The env the demos are for.  [default: the env named in DEMO_FILE's metadata]",
)
@click.option(
    "--description",
    default=None,
    help="The dataset's description.  [default: says what the demos are and where from]",
)
def export_command(
    demo_file: str, dataset_id: str, env: str | None, description: str | None
) -> None:
    """Write the episodes of DEMO_FILE (.npz) as the local Minari dataset --dataset_id.

    The infos hold is_success and, if the file has them, the MuJoCo states (sim_state), so
    demo resets work from the dataset too; the file's metadata is kept under the dataset
    metadata key 'herdemos_metadata'.
    """
    from herdemos.data_generation.minari_export import check_new_dataset_id, export_demos
    from herdemos.demos import load_demos
    from herdemos.env_checks import check_demo_env
    from herdemos.env_info import EnvInfo
    from herdemos.environment import make_env

    try:
        check_new_dataset_id(dataset_id)
        data = load_demos(demo_file)
        recorded = data.metadata.get("env_id")
        env_id = env or recorded
        if env_id is None:
            raise HerdemosError(f"{demo_file}: its metadata names no env; pass --env")
        check_demo_env(recorded, env_id, demo_file)
        probe = make_env(env_id)
        try:
            data = load_demos(demo_file, EnvInfo.of(probe, env_id))  # fits the env
            states = (
                " and the MuJoCo sim_state before each step" if data.sim_state is not None else ""
            )
            text = description or (
                f"{data.n_episodes} demonstrations of {env_id} exported by herdemos "
                f"({data.metadata.get('generator', 'unknown generator')}); infos hold "
                f"is_success{states}"
            )
            folder = export_demos(data, probe, dataset_id, text)
        finally:
            probe.close()
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    except OSError as e:
        raise click.ClickException(os_error_line(e)) from None
    click.echo(
        f"exported {data.n_episodes} episodes (success {data.success_rate:.2f}) -> "
        f"Minari dataset {dataset_id} in {folder}"
    )


@main.command(
    "import", context_settings=CONTEXT, short_help="Write a local Minari dataset as a demo file."
)
@click.argument("dataset")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    required=True,
    help="Output .npz demo file (an existing file is never overwritten).",
)
@click.option(
    "--env",
    default=None,
    help="The env whose horizon T and sizes the episodes must fit (they are padded to T).  "
    "[default: the env the dataset was recorded in]",
)
def import_command(dataset: str, out: str, env: str | None) -> None:
    """Write the local Minari dataset DATASET (an id, or a dataset folder) as a demo file.

    Observations must be goal-env dicts (observation, achieved_goal, desired_goal). A dataset
    not made by herdemos has no MuJoCo states, so its demos cannot be used for demo resets;
    is_success comes from its infos, else from sparse 0/-1 rewards.
    """
    from herdemos.demos import demos_from_arrays
    from herdemos.env_info import EnvInfo
    from herdemos.environment import make_env
    from herdemos.minari_io import demo_arrays, open_dataset, recorded_env_id

    try:
        path = check_output_file(out, "--out")
        if path.suffix != ".npz":
            raise HerdemosError(f"--out {out}: must end in .npz")
        if path.exists():
            raise HerdemosError(f"--out {out}: exists; choose another file")
        opened = open_dataset(dataset)
        env_id = env or recorded_env_id(opened, dataset)
        if env_id is None:
            raise HerdemosError(f"{dataset}: the dataset names no env; pass --env")
        probe = make_env(env_id)
        try:
            info = EnvInfo.of(probe, env_id)
        finally:
            probe.close()
        data = demos_from_arrays(demo_arrays(opened, dataset, info.horizon), dataset, info)
        data.save(Path(out))
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    except OSError as e:
        raise click.ClickException(os_error_line(e)) from None
    states = "with" if data.sim_state is not None else "without"
    click.echo(
        f"imported {data.n_episodes} episodes (success {data.success_rate:.2f}, {states} "
        f"simulator states) -> {out}"
    )


if __name__ == "__main__":
    sys.exit(main())
