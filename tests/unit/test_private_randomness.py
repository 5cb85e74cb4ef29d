"""Our code and our tests draw from their own `random.Random` generators, never from the
module-level `random` functions (the global state).

Why this is a test: pyproject.toml tells pytest to ignore Hypothesis's warning "Do not use the
`random` module inside strategies". Library threads that outlive the tests that start them move
the global state while a later test draws its examples — websockets' keepalive pings
(`random.getrandbits`, Prefect's events client and flow-run observer), Prefect's client retry
jitter (`random.uniform`) — and Hypothesis then failed unrelated property tests in CI as flaky.
With the warning ignored, this check is what keeps our own strategies honest.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["orderpilot", "deployments", "flows", "integrations", "statemachine", "tests",
            "bench"]
# the module-level functions bound to random's hidden global instance
GLOBAL_STATE = {name for name in dir(random) if callable(getattr(random, name))
                and getattr(getattr(random, name), "__self__", None) is random._inst}


def global_draws(source: str) -> list[str]:
    """`random.choice(...)`-style calls and `from random import choice`-style imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "random"
                and node.func.attr in GLOBAL_STATE):
            found.append(f"line {node.lineno}: random.{node.func.attr}()")
        elif isinstance(node, ast.ImportFrom) and node.module == "random":
            found += [f"line {node.lineno}: from random import {a.name}"
                      for a in node.names if a.name in GLOBAL_STATE]
    return found


def test_the_check_knows_the_global_functions_and_catches_them():
    assert {"random", "choice", "getrandbits", "uniform", "shuffle"} <= GLOBAL_STATE
    assert global_draws("import random\nx = random.choice([1, 2])\n") == [
        "line 2: random.choice()"]
    assert global_draws("from random import shuffle\n") == ["line 1: from random import shuffle"]
    assert global_draws("import random\nrng = random.Random(7)\nrng.choice([1])\n") == []


def test_no_module_draws_from_the_global_random_state():
    offenders = {str(path.relative_to(ROOT)): draws
                 for package in PACKAGES for path in (ROOT / package).rglob("*.py")
                 if (draws := global_draws(path.read_text()))}
    assert offenders == {}
