"""The README and docs/ as a user meets them: short, opening with the two commands, every
relative link resolving, every measured number in the task table linked to its results file, and
the Python snippet running as written."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_use_policy import random_policy

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))

TWO_COMMANDS = """```bash
pip install -e . && python experiment/train.py --bc_loss 1 --q_filter 1 --num_demo 100
```
```bash
pip install -e ".[test]" && python -m pytest -q
```
"""

FENCE = re.compile(r"^```.*?^```", re.S | re.M)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def prose(text: str) -> str:
    """The text outside fenced code blocks, where Markdown links and headings live."""
    return FENCE.sub("", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", prose(path.read_text()), re.M)
    return {slug(h) for h in headings}


def test_the_readme_is_short_and_opens_with_the_two_commands():
    text = README.read_text()
    assert text.startswith(TWO_COMMANDS)
    assert len(text.splitlines()) <= 320


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_to_an_existing_file_and_heading(page):
    broken = []
    for target in LINK.findall(prose(page.read_text())):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (page.parent / file_part).resolve() if file_part else page
        if not resolved.exists():
            broken.append(target)
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(target)  # noqa: SIM114  (a missing file and a missing heading)
    assert not broken, f"{page.relative_to(ROOT)}: broken links {broken}"


def test_every_number_in_the_task_table_links_to_a_results_file():
    text = README.read_text()
    table = text.split("## Tasks and recommended recipes", 1)[1].split("\n\n|", 1)[1]
    rows = [line for line in table.split("\n\n", 1)[0].splitlines() if line.startswith("| `")]
    assert len(rows) >= 10
    for row in rows:
        cells = row.split(" | ")[2:]  # success and minutes
        for cell in cells:
            if cell.strip(" |") == "TBD":
                continue
            assert re.search(r"\]\(benchmarks/results/[^)]+\)", cell), row


def readme_snippet() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```", README.read_text(), re.S | re.M)
    (snippet,) = [b for b in blocks if "load_policy" in b]
    return snippet


def test_the_python_snippet_runs_as_written(tmp_path):
    from herdemos.environment import make_env

    snippet = readme_snippet()
    (policy_path,) = re.findall(r'load_policy\("([^"]+)"\)', snippet)
    (env_id,) = re.findall(r'gym\.make\("([^"]+)"\)', snippet)
    env = make_env(env_id)
    spaces = env.observation_space
    dims = tuple(
        int(np.prod(s.shape))
        for s in (spaces["observation"], spaces["desired_goal"], env.action_space)
    )
    env.close()
    policy_file = random_policy(tmp_path / "policy_best.pkl", env_id=env_id, dims=dims)
    script = snippet.replace(policy_path, str(policy_file))
    # A fresh interpreter: the snippet's own imports must be enough to make the env.
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "success:" in result.stdout
