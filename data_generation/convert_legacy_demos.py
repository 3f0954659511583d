"""Convert a demo file of the original project (pickled dicts) into the herdemos format.

python data_generation/convert_legacy_demos.py OLD.npz --env FetchPickAndPlace-v4 --trust
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from herdemos.util import HerdemosError, check_output_file


def _output_path(src: Path, out: str | None) -> Path:
    """The ``--out`` file, refused before any work if writing it would fail or destroy the input.

    Converting in place would overwrite the only copy of the legacy demos with a file that the
    original project cannot read, so the input is never accepted as the output.
    """
    dst = Path(out) if out else src.with_name(f"{src.stem}_herdemos.npz")
    if dst.suffix != ".npz":
        raise click.BadParameter(f"{dst}: the output must end in .npz", param_hint="--out")
    if dst.exists() and src.exists() and dst.samefile(src):
        raise click.BadParameter(
            f"{dst}: is LEGACY_FILE itself; the output must be a different file",
            param_hint="--out",
        )
    return check_output_file(dst, "--out")


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("legacy_file", type=click.Path(dir_okay=False))
@click.option(
    "--env", required=True, help="The env the demos were recorded in, e.g. FetchPickAndPlace-v4."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Output .npz (not LEGACY_FILE).  [default: <legacy_file stem>_herdemos.npz]",
)
@click.option(
    "--trust",
    is_flag=True,
    help="Confirm that you trust the file: reading the legacy format unpickles it, "
    "which can run code.",
)
def main(legacy_file: str, env: str, out: str | None, trust: bool) -> None:
    """Convert LEGACY_FILE (object arrays under acs/obs/info) into a plain-array demo file.

    The output is written only once the converted episodes fit --env; an existing file at
    --out is left untouched otherwise.
    """
    if not trust:
        raise click.ClickException(
            f"{legacy_file}: legacy demo files are pickles and can run code when read; "
            "pass --trust if you trust this file"
        )
    from herdemos.data_generation.legacy_format import read_legacy_demos
    from herdemos.demos import demos_from_arrays
    from herdemos.env_info import EnvInfo
    from herdemos.environment import make_env

    src = Path(legacy_file)
    try:
        dst = _output_path(src, out)
        probe = make_env(env)
        info = EnvInfo.of(probe, env)
        probe.close()
        data = read_legacy_demos(src, info.horizon)
        data.metadata.update(
            env_id=env,
            dim_o=info.dim_o,
            dim_g=info.dim_g,
            dim_u=info.dim_u,
            T=info.horizon,
            n_episodes=data.n_episodes,
            success_rate=data.success_rate,
            source=str(src),
        )
        demos_from_arrays(data.to_arrays(), src, info)  # fits the env, or nothing is written
        data.save(dst)
    except HerdemosError as e:
        raise click.ClickException(str(e)) from None
    lengths = data.lengths
    steps = f" of {lengths.min()}..{lengths.max()} steps" if lengths.min() < info.horizon else ""
    click.echo(
        f"converted {data.n_episodes} episodes{steps} (success {data.success_rate:.2f}) -> {dst}"
    )


if __name__ == "__main__":
    sys.exit(main())
