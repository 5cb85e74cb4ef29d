"""`orderpilot case …`: deciding after-sales requests from a terminal (the refund-review form's
fallback), through the real CLI on a SQLite file."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from orderpilot import OrderPilot
from orderpilot.cli import app
from statemachine.risk_port import approve_everything
from tests.factories import placed_order, stock

runner = CliRunner()


@pytest.fixture
def held_case(sqlite_url, clock):
    """A paid order with a refund-only request held for a person."""
    pilot = OrderPilot(sqlite_url, clock=clock, risk_check=approve_everything)
    stock(pilot)
    order = placed_order(pilot, buyer="b-9")
    pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref="alipay-9")
    case = pilot.cases.open(order.id, kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                            reason="发错颜色")
    pilot.cases.fire(case.id, "review", actor="system:refund-review")
    pilot.close()
    return case.id


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_case_list_then_approve_then_refuse_a_second_decision(sqlite_url, held_case):
    code, out = cli("case", "list", "--db", sqlite_url)
    assert code == 0 and held_case in out and "发错颜色" in out
    code, out = cli("case", "approve", held_case, "--by", "mei", "--reason", "photo checked",
                    "--db", sqlite_url)
    assert code == 0 and "approved by mei: now approved" in out
    code, out = cli("case", "reject", held_case, "--by", "lee", "--reason", "late",
                    "--db", sqlite_url)
    assert code == 2 and "cannot reject from approved" in out
    assert cli("case", "list", "--db", sqlite_url)[1].strip() == "no request waits for a person"


def test_a_decision_without_a_name_is_refused_and_changes_nothing(sqlite_url, held_case):
    code, out = cli("case", "reject", held_case, "--by", " ", "--reason", "x", "--db",
                    sqlite_url)
    assert code == 2 and "by" in out
    assert OrderPilot(sqlite_url).cases.get(held_case).state == "under_review"
