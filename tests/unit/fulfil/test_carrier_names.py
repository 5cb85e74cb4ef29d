"""One carrier whatever the case its name was typed in: the name reports and KPIs give it."""

from __future__ import annotations

from statemachine.waybills import carrier_names


def test_the_catalogue_names_a_carrier_typed_in_another_case():
    assert carrier_names({"sf": 7, "SF": 2, "zto": 1}, known=["SF", "JD"]) == \
        {"SF": "SF", "ZTO": "zto"}


def test_without_a_catalogue_the_form_most_parcels_used_names_it():
    assert carrier_names({"sf": 7, "SF": 2, "Sf": 1}) == {"SF": "sf"}
    assert carrier_names({"sf": 2, "SF": 2}) == {"SF": "SF"}  # a tie: the one sorting first


def test_names_that_differ_beyond_ascii_case_stay_apart():
    assert carrier_names({"顺丰": 1, "SF": 1, "ß-post": 1, "SS-POST": 1}) == \
        {"顺丰": "顺丰", "SF": "SF", "ß-POST": "ß-post", "SS-POST": "SS-POST"}
