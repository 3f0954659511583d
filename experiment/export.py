"""Export a policy's actor for deployment: a TensorFlow SavedModel, or an ONNX file.

python experiment/export.py runs/.../policy_best.pkl --out exported_actor
python experiment/export.py runs/.../policy_best.pkl --format onnx --out actor.onnx
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from herdemos.util import HerdemosError, atomic_create_folder, check_output_file, os_error_line


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("policy_file", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    type=click.Path(),
    required=True,
    help="SavedModel folder, or .onnx file, to create (must not exist yet).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["savedmodel", "onnx"]),
    default="savedmodel",
    show_default=True,
    help="savedmodel: a TensorFlow SavedModel folder; onnx: one .onnx file (needs the onnx "
    "package: pip install 'herdemos[onnx]').",
)
def main(policy_file: str, out: str, fmt: str) -> None:
    """Write POLICY_FILE's actor, input clipping and normalisation and the action bound
    included, as a SavedModel or an ONNX model.

    \b
    Inputs and output (the SavedModel's signature "serving_default"):
      inputs:  observation  float32 [batch, dim_o]
               desired_goal float32 [batch, dim_g]
      output:  action       float32 [batch, dim_u]
    """
    try:
        click.echo(export(policy_file, Path(out), fmt))
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    except OSError as e:
        raise click.ClickException(os_error_line(e)) from None


def export(policy_file: str, target: Path, fmt: str) -> str:
    """Writes the export; returns the line to print. A failed export leaves nothing behind."""
    from herdemos.policy import load_policy

    if target.exists():
        raise HerdemosError(f"--out {target}: already exists; choose a new name")
    if fmt == "onnx" and target.suffix.lower() != ".onnx":
        raise HerdemosError(f"--out {target}: use a .onnx file name with --format onnx")
    check_output_file(target, "--out")
    if fmt == "onnx":
        from herdemos.onnx_export import import_onnx, write_actor_onnx

        import_onnx()  # before the policy is read: a missing package is the first thing said
        write_actor_onnx(load_policy(policy_file), target)
        return f"wrote ONNX model to {target} (inputs observation, desired_goal -> action)"
    policy = load_policy(policy_file)
    from herdemos.actor_critic import export_saved_model

    atomic_create_folder(target, lambda tmp: export_saved_model(policy, str(tmp)))
    signature = "signature serving_default: observation, desired_goal -> action"
    return f"wrote SavedModel to {target} ({signature})"


if __name__ == "__main__":
    sys.exit(main())
