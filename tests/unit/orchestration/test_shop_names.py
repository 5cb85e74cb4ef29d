"""A store's shop name leads every name its console makes on a shared Prefect server, and a
name the settings accept always makes keys Prefect accepts; no name keeps a single store's
names as they were (existing deployments and bookmarks unchanged)."""

from __future__ import annotations

import pytest
from prefect.types.names import ArtifactKey
from pydantic import TypeAdapter, ValidationError

from flows.cases import KINDS
from flows.naming import named, shop_tags
from integrations.config import Settings, read_settings
from statemachine.errors import InvalidInput

PAGES = ["review-queue", "shop-health", "carrier-kpi", "lifecycle-diagrams", "order-o-12",
         "dispute-review-dp-3", "settlement-alipay"]
PREFECT_KEY = TypeAdapter(ArtifactKey)


def test_without_a_shop_name_the_names_are_a_single_stores_as_before():
    assert read_settings(Settings).shop is None
    assert [named(None, page) for page in PAGES] == PAGES
    assert [named(None, kind) for kind in KINDS] == list(KINDS)
    assert shop_tags(None) == []


def test_an_empty_shop_name_is_no_name():
    assert read_settings(Settings, shop="").shop is None


@pytest.mark.parametrize("shop", ["staging", "prod", "s", "shop-2", "a" * 20, "cn-east-1"])
def test_every_name_a_shop_makes_is_a_key_prefect_accepts(shop):
    name = read_settings(Settings, shop=shop).shop
    for page in [*PAGES, *KINDS]:
        key = named(name, page)
        assert key == f"{shop}-{page}" and PREFECT_KEY.validate_python(key) == key
    assert shop_tags(name) == [f"shop:{shop}"]


@pytest.mark.parametrize("shop", ["Staging", "staging_2", "生产", "-prod", "prod-", "2nd",
                                  "a" * 21, "pre prod"])
def test_a_shop_name_that_would_not_lead_a_prefect_key_is_refused_naming_the_variable(shop):
    with pytest.raises(InvalidInput) as refused:
        read_settings(Settings, shop=shop)
    assert "lowercase letters, digits and dashes" in refused.value.problems["ORDERPILOT_SHOP"]


def test_prefect_itself_refuses_what_the_settings_refuse():
    # (why the setting is checked at start-up: the console would fail at its first page)
    with pytest.raises(ValidationError):
        PREFECT_KEY.validate_python(named("Staging", "review-queue"))


def test_a_named_shops_carrier_scorecard_is_its_own_event():
    # (the same id for two shops' scorecards of one carrier and month: Prefect keeps one)
    from datetime import UTC, datetime

    from flows.carrier_kpi import _event
    from integrations.service.carrier_kpi import CarrierKpi

    kpi, end = CarrierKpi(carrier="sf", parcels=40, on_time_rate=0.9, loss_rate=0.0,
                          stall_rate=0.05, complaint_rate=0.0), datetime(2026, 11, 1, tzinfo=UTC)
    single, prod, staging = (_event(kpi, end, 30, shop) for shop in (None, "prod", "staging"))
    assert len({single["id"], prod["id"], staging["id"]}) == 3
    assert single["resource"] == {"prefect.resource.id": "orderpilot.carrier.sf",
                                  "orderpilot.flagged": "false"}
    assert staging["resource"]["prefect.resource.id"] == "orderpilot.carrier.staging-sf"
    assert staging["resource"]["orderpilot.shop"] == "staging"
