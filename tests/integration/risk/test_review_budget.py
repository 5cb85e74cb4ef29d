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
    pilot.close()
    at = clock.now().replace(tzinfo=None).isoformat(timespec="seconds")
    result = CliRunner().invoke(app, ["risk", "stats", "--db", sqlite_url, "--json",
                                      "--at", at])
    assert result.exit_code == 0, result.output
    hour = json.loads(result.output)["windows"]["hour"]
    assert (hour["orders"], hour["review"], hour["over_budget"]) == (1, 1, True)
    table = CliRunner().invoke(app, ["risk", "stats", "--db", sqlite_url, "--at", at])
    assert "OVER BUDGET" in table.output


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
