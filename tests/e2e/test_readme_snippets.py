"""Every snippet of the README runs top to bottom, as a newcomer would paste it.

Python blocks run in order in one fresh directory (one interpreter, one namespace); every
`.venv/bin/...` command of the bash blocks runs with this environment's executables in that same
directory, after the Python blocks, except the ones that serve until Ctrl-C — those must at least
exist (`--help`). The install and test commands of the quick start are what `.ci/run` runs.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
SERVES_UNTIL_STOPPED = (["orderpilot", "serve"], ["orderpilot", "up"], ["orderpilot", "api"],
                        ["orderpilot", "relay"], ["prefect", "server", "start"])


def blocks(page: Path, language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(page.read_text()) if lang == language]


def commands(page: Path) -> list[list[str]]:
    """Each `.venv/bin/<tool> …` command of the page's bash blocks, comments dropped."""
    found = []
    for body in blocks(page, "bash"):
        for line in body.splitlines():
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                if words and words[0].startswith(".venv/bin/"):
                    found.append([words[0].removeprefix(".venv/bin/"), *words[1:]])
    return found


def sandbox_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERPILOT_", "PREFECT_"))}
    env |= {"PATH": f"{BIN}{os.pathsep}{env['PATH']}", "PREFECT_HOME": str(tmp_path / "prefect"),
            "NO_COLOR": "1", "COLUMNS": "200"}
    return env


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_readme_runs_top_to_bottom(tmp_path: Path):
    # Given a fresh directory and an environment with no orderpilot or Prefect settings
    env = sandbox_env(tmp_path)
    # When the README's Python blocks run in order
    python = run([sys.executable, "-c", "\n".join(blocks(ROOT / "README.md", "python"))],
                 tmp_path, env)
    # Then they succeed and print what their comments promise
    assert python.returncode == 0, python.stderr
    assert python.stdout.startswith("o-1 under_review"), python.stdout
    assert "{'auto_complete': 1}" in python.stdout
    assert "close delivered → completed system:auto-complete" in python.stdout
    # And every command of the bash blocks succeeds in that directory
    for argv in commands(ROOT / "README.md"):
        serves = any(argv[:len(s)] == s for s in SERVES_UNTIL_STOPPED)
        if argv[0] in ("pip", "pytest"):
            continue
        done = run([str(BIN / argv[0]), *argv[1:], *(["--help"] if serves else [])], tmp_path, env)
        assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}"


def test_the_quick_start_is_exactly_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    quick_start = blocks(ROOT / "README.md", "bash")[0].splitlines()
    assert len(quick_start) == 2, "the quick start is two commands"
    install, tests = quick_start
    assert install.split(" && ")[:2] == ["python3 -m venv .venv",
                                         ".venv/bin/pip install -e '.[dev]'"]
    assert ".venv/bin/pip install -q -e '.[dev]'" in ci and ".venv/bin/orderpilot\" demo" in ci
    assert tests.strip() == ".venv/bin/pytest -n 2" and "\n.venv/bin/pytest -n 2\n" in ci


def test_the_integration_guide_python_api_block_runs_as_written(tmp_path: Path):
    # Given the Python API block of docs/integrate.md, and checks of what its comments say
    code = "\n".join(blocks(ROOT / "docs" / "integrate.md", "python"))
    checks = ('\nassert pilot.orders.get(order.id).refunded == 12800'
              '\nassert pilot.orders.get(second.id).state == "expired"'
              '\nassert pilot.inventory.reconcile(fix=False) == []'
              '\nprint("checked")')
    # When it runs in a fresh directory
    done = run([sys.executable, "-c", code + checks], tmp_path, sandbox_env(tmp_path))
    # Then it succeeds and the state it describes is the state of the store
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("checked")
