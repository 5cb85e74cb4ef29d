"""Imports point one way: orderpilot → deployments → flows → integrations → statemachine.

Also: only flows/ and deployments/ import prefect, and the domain (statemachine/) imports
nothing but the standard library and transitions.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["orderpilot", "deployments", "flows", "integrations", "statemachine"]
PREFECT_ALLOWED = {"flows", "deployments", "orderpilot"}  # orderpilot only lazily, for the CLI


def imports_of(package: str) -> list[tuple[Path, str]]:
    found = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module))
    return found


@pytest.mark.parametrize("package", LAYERS)
def test_no_package_imports_a_layer_above_it(package):
    above = set(LAYERS[: LAYERS.index(package)])
    wrong = [(str(p.relative_to(ROOT)), m) for p, m in imports_of(package)
             if m.split(".")[0] in above]
    assert wrong == []


@pytest.mark.parametrize("package", sorted(set(LAYERS) - PREFECT_ALLOWED))
def test_only_flows_and_deployments_import_prefect(package):
    assert [str(p) for p, m in imports_of(package) if m.split(".")[0] == "prefect"] == []


def test_the_domain_imports_only_the_standard_library_and_transitions():
    allowed = set(sys.stdlib_module_names) | {"transitions", "statemachine", "__future__"}
    foreign = sorted({m for _, m in imports_of("statemachine") if m.split(".")[0] not in allowed})
    assert foreign == []
