"""Prefect runs served flows with flows/ on sys.path, so a flow module named like a library
(flows/markdown.py once hid the `markdown` package apprise imports) breaks that library."""

import sys
from importlib.metadata import packages_distributions
from pathlib import Path

FLOWS = Path(__file__).resolve().parents[2] / "flows"


def test_no_flow_module_shadows_the_standard_library_or_an_installed_package():
    taken = set(sys.stdlib_module_names) | set(packages_distributions())
    stems = {p.stem for p in FLOWS.glob("*.py")} - {"__init__"}
    assert sorted(stems & taken) == []
