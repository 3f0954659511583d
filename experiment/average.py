"""Average several saved policies of one run into one (stochastic weight averaging).

python experiment/average.py runs/RUN/policy_2?0.pkl --out runs/RUN/policy_average.pkl

A DDPG actor keeps oscillating around a good solution after it has learnt a task, so the
checkpoint that training happens to stop at is a noisy draw; the mean of the last few checkpoints
is usually better than most of them (see the stacking section of the README). The result is an
ordinary policy file for ``play.py``, ``export.py`` and ``benchmarks.evaluate``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from herdemos.policy import average_policies, load_policy
from herdemos.util import HerdemosError, check_output_file


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("policy_files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    required=True,
    help="Policy file to write (atomically; an existing file is replaced).",
)
def main(policy_files: tuple[str, ...], out: str) -> None:
    """Write the element-wise mean of POLICY_FILES (checkpoints of one training run)."""
    try:
        if len(policy_files) < 2:
            raise HerdemosError("give at least two policy files to average")
        inputs = [Path(p).resolve() for p in policy_files]
        for i, (path, name) in enumerate(zip(inputs, policy_files, strict=True)):
            if path in inputs[:i]:
                raise HerdemosError(f"{name}: given twice")
        check_output_file(out, "--out")
        if Path(out).resolve() in inputs:
            raise HerdemosError(f"--out {out}: is one of the inputs; choose a new file")
        policies = [load_policy(p) for p in policy_files]
        averaged = average_policies(policies, policy_files)
        averaged.save(out)
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    epochs = ", ".join(str(e) for e in averaged.metadata["averaged_epochs"])
    click.echo(f"wrote {out}: mean of {len(policies)} policies (epochs {epochs})")


if __name__ == "__main__":
    sys.exit(main())
