"""Carrier choice: hard limits, promised date, insurance, KPIs, cost — each with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from statemachine.carrier_choice import CarrierKpi, CarrierOption, ParcelNeeds, choose_carrier

NOW = datetime(2026, 11, 11, 9, tzinfo=UTC)
FAST = CarrierOption("fast", transit_days=1, insured_up_to=500_000, cost=2500)
CHEAP = CarrierOption("cheap", transit_days=3, cost=800)
LOCAL = CarrierOption("local", regions=("Hangzhou",), max_weight_g=5000, transit_days=1,
                      cost=600)


def needs(**kw) -> ParcelNeeds:
    base = dict(destination=("Hangzhou", "Zhejiang"), weight_g=1000, value=5000, now=NOW,
                promised_by=NOW + timedelta(days=5), insure_over=100_000)
    return ParcelNeeds(**{**base, **kw})


def test_the_cheapest_carrier_that_can_take_it_in_time_is_chosen():
    choice = choose_carrier([FAST, CHEAP, LOCAL], needs(), {})
    assert choice.carrier == "local"
    assert "serves Hangzhou, Zhejiang" in choice.reasons
    assert "best of 3 on KPIs, then cost (600)" in choice.reasons


def test_destination_and_weight_limits_rule_carriers_out_with_a_reason():
    choice = choose_carrier([CHEAP, LOCAL], needs(destination=("Chengdu", "Sichuan")), {})
    assert choice.carrier == "cheap"
    assert choice.rejected == {"local": "does not serve Chengdu, Sichuan"}
    heavy = choose_carrier([LOCAL], needs(weight_g=8000), {})
    assert heavy.carrier is None and "8000 g is over its 5000 g limit" in heavy.rejected["local"]


def test_a_high_value_parcel_goes_with_a_carrier_that_insures_its_value():
    choice = choose_carrier([FAST, CHEAP, LOCAL], needs(value=300_000), {})
    assert (choice.carrier, choice.insured) == ("fast", 300_000)
    assert "insured for 300000 (value above 100000)" in choice.reasons
    assert choice.rejected["cheap"] == "insures up to 0, the parcel is worth 300000"


def test_a_tight_promise_rules_slow_carriers_out_and_none_in_time_takes_the_fastest():
    tight = choose_carrier([FAST, CHEAP], needs(promised_by=NOW + timedelta(days=2)), {})
    assert tight.carrier == "fast" and "would arrive after" in tight.rejected["cheap"]
    late = choose_carrier([CHEAP], needs(promised_by=NOW + timedelta(hours=12)), {})
    assert late.carrier == "cheap" and late.reasons[2].startswith("fastest, but arrives")


def test_a_carrier_that_loses_parcels_loses_the_business():
    kpis = {"local": CarrierKpi(50, 0.9, 0.08, 0.02), "cheap": CarrierKpi(40, 0.98, 0.0, 0.0)}
    choice = choose_carrier([CHEAP, LOCAL], needs(), kpis)
    assert choice.carrier == "cheap"
    assert "KPIs over 40 parcels: on-time 98.0%, loss 0.0%, complaints 0.0%" in choice.reasons
