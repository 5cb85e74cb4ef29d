"""deployments/prefect.yaml runs out of the box on a work pool; the forms cannot be got wrong."""

from __future__ import annotations

import json
from importlib import import_module
from pathlib import Path

import pytest
import yaml

from flows.forms import RefundDecision, ReviewDecision, StallAction

ROOT = Path(__file__).resolve().parents[3]


def _declared() -> dict[str, dict]:
    spec = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text())
    return {d["name"]: {**d, "pull": spec["pull"]} for d in spec["deployments"]}


def test_every_work_pool_deployment_names_an_importable_flow_by_module_path():
    for name, spec in _declared().items():
        module, func = spec["entrypoint"].split(":")
        assert not module.endswith(".py"), f"{name}: a file path needs a working directory"
        assert getattr(import_module(module), func).name == name
        assert spec["pull"] == [], "nothing to pull: the worker runs the installed package"


def test_the_console_runs_one_at_a_time_and_the_next_waits():
    console = _declared()["console"]
    assert console["concurrency_limit"] == {"limit": 1, "collision_strategy": "ENQUEUE"}


def test_the_process_pool_needs_no_working_directory_and_passes_the_worker_env_on():
    template = json.loads((ROOT / "deployments" / "work-pools" / "process.json").read_text())
    props = template["variables"]["properties"]
    assert props["working_dir"]["default"] is None  # /srv/orderpilot crashed every run
    assert "default" not in props["env"]


@pytest.mark.parametrize("form", [ReviewDecision, RefundDecision])
def test_a_decision_is_a_required_dropdown_with_nothing_preselected(form):
    schema = form.model_json_schema()
    decision = schema["properties"]["decision"]
    assert decision["enum"] == ["approve", "reject"] and "default" not in decision
    assert {"decision", "reason", "reviewer"} <= set(schema["required"])


def test_a_stall_action_is_a_required_choice_too():
    schema = StallAction.model_json_schema()
    assert schema["properties"]["action"]["enum"] == ["chase_again", "declare_lost"]
    assert {"action", "note", "operator"} <= set(schema["required"])
