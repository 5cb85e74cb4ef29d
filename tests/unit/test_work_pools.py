"""The work-pool base job templates shipped in deployments/ are Prefect's own, with our defaults."""

import json
from pathlib import Path

import pytest

POOLS = Path(__file__).resolve().parents[2] / "deployments" / "work-pools"


@pytest.mark.parametrize("kind", ["docker", "kubernetes"])
def test_each_container_template_passes_the_order_store_url_to_every_flow_run(kind):
    template = json.loads((POOLS / f"{kind}.json").read_text())
    assert template["job_configuration"]["env"] == "{{ env }}"
    assert "ORDERPILOT_DATABASE_URL" in template["variables"]["properties"]["env"]["default"]


@pytest.mark.parametrize("kind", ["docker", "kubernetes"])
def test_container_pools_run_the_orderpilot_image(kind):
    template = json.loads((POOLS / f"{kind}.json").read_text())
    assert template["variables"]["properties"]["image"]["default"] == "orderpilot:latest"
    assert "{{ image }}" in json.dumps(template["job_configuration"])
