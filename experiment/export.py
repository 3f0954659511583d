"""Export a policy's actor as a TensorFlow SavedModel for deployment.

python experiment/export.py runs/.../policy_best.pkl --out exported_actor
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from herdemos.util import HerdemosError, atomic_create_folder, check_output_file


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("policy_file", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    required=True,
    help="SavedModel folder to create (must not exist yet).",
)
def main(policy_file: str, out: str) -> None:
    """Write POLICY_FILE's actor, normalisation included, as a SavedModel.

    \b
    Serving signature "serving_default":
      inputs:  observation  float32 [batch, dim_o]
               desired_goal float32 [batch, dim_g]
      output:  action       float32 [batch, dim_u]
    """
    from herdemos.policy import load_policy

    target = Path(out)
    try:
        if target.exists():
            raise HerdemosError(f"--out {target}: already exists; choose a new folder")
        check_output_file(target, "--out")
        policy = load_policy(policy_file)
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    from herdemos.actor_critic import export_saved_model

    try:  # a failed export leaves nothing behind
        atomic_create_folder(target, lambda tmp: export_saved_model(policy, str(tmp)))
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    click.echo(
        f"wrote SavedModel to {target} (signature serving_default: observation, "
        f"desired_goal -> action)"
    )


if __name__ == "__main__":
    sys.exit(main())
