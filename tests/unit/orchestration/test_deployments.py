"""deployments/prefect.yaml and `orderpilot serve` describe the same deployments."""

from __future__ import annotations

from pathlib import Path

import yaml

from deployments.serve import deployments
from flows.risk_review import ReviewDecision

PREFECT_YAML = Path(__file__).resolve().parents[3] / "deployments" / "prefect.yaml"


def _from_yaml() -> dict[str, dict]:
    return {d["name"]: d for d in yaml.safe_load(PREFECT_YAML.read_text())["deployments"]}


def test_prefect_yaml_lists_every_served_deployment_with_the_same_flow():
    # Given the served deployments and the work-pool file
    served, declared = {d.name: d for d in deployments()}, _from_yaml()
    # Then both name the same deployments, each pointing at the same flow
    assert set(served) == set(declared)
    for name, spec in declared.items():
        path, func = spec["entrypoint"].split(":")
        module = __import__(path.removesuffix(".py").replace("/", "."), fromlist=[func])
        assert getattr(module, func).name == served[name].flow_name, name


def test_prefect_yaml_triggers_match_the_served_triggers():
    served, declared = {d.name: d for d in deployments()}, _from_yaml()
    for name, deployment in served.items():
        mine = [t.model_dump(include={"expect", "match", "parameters"})
                for t in deployment.triggers]
        theirs = [{"expect": set(t["expect"]), "match": t["match"],
                   "parameters": t["parameters"]} for t in declared[name].get("triggers", [])]
        assert mine == theirs, name


def test_the_review_form_asks_for_decision_reason_blacklist_and_reviewer():
    schema = ReviewDecision.model_json_schema()
    assert set(schema["properties"]) == {"approve", "reason", "blacklist_buyer", "reviewer"}
    assert set(schema["required"]) == {"approve", "reason", "reviewer"}
