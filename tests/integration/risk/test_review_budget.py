"""The live review share, measured from stored decisions, against the budget."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from orderpilot.cli import app
from tests.factories import placed_order, stock

VAGUE = {"line": "杭州市西湖区万达广场附近"}  # a landmark, no house number: review


def test_the_review_share_over_the_last_hour_and_day_is_measured(any_pilot, clock):
    # Given yesterday 4 clean orders, and in the last hour 3 clean and 2 vague ones
    stock(any_pilot, quantity=50)
    for n in range(4):
        placed_order(any_pilot, buyer=f"b-old-{n}", quantity=1)
    clock.advance(hours=5)
    for n in range(3):
        placed_order(any_pilot, buyer=f"b-{n}", quantity=1)
    for n in range(2):
        assert placed_order(any_pilot, buyer=f"b-v{n}", quantity=1,
                            shipping_address=VAGUE).state == "under_review"
    # When the stats are read
    stats = any_pilot.risk.stats()
    # Then the hour's share is 2 of 5 (over the 20 % budget), the day's 2 of 9
    hour, day = stats["windows"]["hour"], stats["windows"]["day"]
    assert (hour["orders"], hour["review"], hour["over_budget"]) == (5, 2, True)
    assert (day["orders"], day["review"], day["approve"]) == (9, 2, 7)
    assert day["review_share"] == round(2 / 9, 4) and stats["budget"] == 0.2


def test_risk_stats_on_the_command_line(sqlite_url, clock):
    from orderpilot import OrderPilot

    pilot = OrderPilot(sqlite_url, clock=clock)
    stock(pilot)
    placed_order(pilot, quantity=1, shipping_address=VAGUE)
    placed_order(pilot, buyer="b-jp", quantity=1, currency="JPY")
    pilot.close()
    at = clock.now().replace(tzinfo=None).isoformat(timespec="seconds")
    result = CliRunner().invoke(app, ["risk", "stats", "--db", sqlite_url, "--json",
                                      "--at", at])
    assert result.exit_code == 0, result.output
    hour = json.loads(result.output)["windows"]["hour"]
    assert (hour["orders"], hour["review"], hour["over_budget"]) == (2, 2, True)
    table = CliRunner().invoke(app, ["risk", "stats", "--db", sqlite_url, "--at", at])
    assert "OVER BUDGET" in table.output
    said = " ".join(table.output.split())
    assert "reviewed in the last day, by rule: amount_threshold 1, vague_address 1" in said
    assert "currencies without an amount band went to a person: JPY 1" in said


def test_the_console_tells_ops_once_an_hour_while_over_budget_and_exports_gauges(pilot, clock):
    from prometheus_client import generate_latest

    from deployments.console import Console
    from integrations.console.jobs import Ports
    from integrations.console.metrics import ConsoleMetrics

    # Given the last hour's only order went to review (100 % > 20 %)
    stock(pilot)
    placed_order(pilot, quantity=1, shipping_address=VAGUE)
    sent = []
    console = Console(pilot.context, ports_=Ports(gateway=None, carrier=None,
                                                  notify=sent.append))
    # When the console's sweep loop runs twice within the hour, then in the next hour
    console.watch_review_budget()
    clock.advance(minutes=20)
    console.watch_review_budget()
    assert [m.event for m in sent] == ["orderpilot.risk.review_budget_exceeded"]
    clock.advance(minutes=45)
    placed_order(pilot, buyer="b-2", quantity=1, shipping_address=VAGUE)
    console.watch_review_budget()
    assert len(sent) == 2 and sent[1].audience == "ops"
    # And the scrape shows the share beside the budget, for an Alertmanager rule
    scrape = generate_latest(ConsoleMetrics(pilot.context).registry).decode()
    assert 'orderpilot_risk_review_share{window="hour"} 1.0' in scrape
    assert "orderpilot_risk_review_budget 0.2" in scrape


def test_the_stats_say_why_orders_went_to_people_and_which_currencies_have_no_band(any_pilot,
                                                                                  clock):
    # Given a shop on the packaged rules (amount bands for CNY only) that starts selling in
    # JPY and USD: in the last hour 2 clean CNY orders, 3 JPY and 1 USD order, 1 vague address
    stock(any_pilot, quantity=50)
    for n in range(2):
        placed_order(any_pilot, buyer=f"b-{n}", quantity=1)
    for n, currency in enumerate(["JPY", "JPY", "JPY", "USD"]):
        assert placed_order(any_pilot, buyer=f"b-x{n}", quantity=1,
                            currency=currency).state == "under_review"
    placed_order(any_pilot, buyer="b-v", quantity=1, shipping_address=VAGUE)
    # When the stats are read
    hour = any_pilot.risk.stats()["windows"]["hour"]
    # Then they count the reviewed orders per rule and name the currencies without a band
    assert (hour["orders"], hour["review"]) == (7, 5)
    assert hour["causes"]["unbanded_currencies"] == {"JPY": 3, "USD": 1}
    assert hour["causes"]["rules"]["amount_threshold"] == 4
    assert hour["causes"]["rules"]["vague_address"] == 1
    assert list(hour["causes"]["rules"])[0] == "amount_threshold"  # most first


def test_an_amount_over_its_band_is_not_counted_as_a_currency_without_one(any_pilot, clock):
    # Given a CNY order above the manuals' ¥5,000 (it has a band, and is over it)
    stock(any_pilot, quantity=5)
    assert placed_order(any_pilot, quantity=1, unit_price=600_000).state == "under_review"
    causes = any_pilot.risk.stats()["windows"]["hour"]["causes"]
    assert causes == {"rules": {"amount_threshold": 1}, "unbanded_currencies": {}}


def test_the_over_budget_alert_names_the_rules_and_the_currencies_to_configure(pilot, clock):
    from deployments.console import Console
    from integrations.console.jobs import Ports

    # Given the last hour's orders were JPY orders (no band on the packaged rules)
    stock(pilot, quantity=10)
    for n in range(3):
        placed_order(pilot, buyer=f"b-{n}", quantity=1, currency="JPY")
    sent = []
    console = Console(pilot.context, ports_=Ports(gateway=None, carrier=None,
                                                  notify=sent.append))
    # When the console checks the review budget
    console.watch_review_budget()
    # Then ops read what to set, not only that the share is high
    [message] = sent
    assert "3 of 3 orders went to review" in message.body
    assert "Most reviews came from: amount_threshold 3." in message.body
    assert "without an amount band went to a person (JPY 3)" in message.body
    assert "set other_currencies.JPY in the rule file" in message.body


def test_each_window_counts_the_causes_of_its_own_reviews(any_pilot, clock):
    # Given a vague address reviewed five hours ago and a JPY order reviewed in the last hour
    stock(any_pilot, quantity=5)
    placed_order(any_pilot, buyer="b-v", quantity=1, shipping_address=VAGUE)
    clock.advance(hours=5)
    placed_order(any_pilot, buyer="b-j", quantity=1, currency="JPY")
    # When the stats are read
    windows = any_pilot.risk.stats()["windows"]
    # Then the hour names only its own review, the day both
    assert windows["hour"]["causes"] == {"rules": {"amount_threshold": 1},
                                         "unbanded_currencies": {"JPY": 1}}
    assert windows["day"]["causes"]["rules"] == {"amount_threshold": 1, "vague_address": 1}
    assert windows["day"]["causes"]["unbanded_currencies"] == {"JPY": 1}
