"""`orderpilot case …`: deciding after-sales requests from a terminal (the refund-review form's
fallback), through the real CLI on a SQLite file."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from integrations.payments.simulated import SimulatedGateway
from orderpilot import OrderPilot
from orderpilot.cli import app
from statemachine.risk_port import approve_everything
from tests.factories import placed_order, stock
from tests.integration.fulfil.test_case_approve_pays import Flaky

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


def wide(*args: str) -> str:
    """The output on a terminal wide enough that no cell wraps."""
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_case_list_then_approve_then_refuse_a_second_decision(sqlite_url, held_case):
    code, out = cli("case", "list", "--db", sqlite_url)
    assert code == 0 and held_case in out and "发错颜色" in out
    code, out = cli("case", "approve", held_case, "--by", "mei", "--reason", "photo checked",
                    "--db", sqlite_url)
    # the refund-only request is paid back through the provider at once (before: "now
    # approved", and nothing paid unless a console ran its settle job)
    assert code == 0 and "approved by mei, refunded ¥19.99: now refunded" in out, out
    code, out = cli("case", "reject", held_case, "--by", "lee", "--reason", "late",
                    "--db", sqlite_url)
    assert code == 2 and "cannot reject from refunded" in out
    assert cli("case", "list", "--db", sqlite_url)[1].strip() == "no request waits for a person"


def test_a_decision_without_a_name_is_refused_and_changes_nothing(sqlite_url, held_case):
    code, out = cli("case", "reject", held_case, "--by", " ", "--reason", "x", "--db",
                    sqlite_url)
    assert code == 2 and "by" in out
    assert OrderPilot(sqlite_url).cases.get(held_case).state == "under_review"


def test_case_list_shows_each_request_s_sla_and_an_overdue_one_by_how_much(sqlite_url,
                                                                          held_case):
    """Before, `case list` had no SLA column (`case bounced` had): a request past its 24 h
    SLA looked like one just in. The deadline is the request's time + the after-sales SLA."""
    pilot = OrderPilot(sqlite_url)
    created = pilot.cases.get(held_case).created_at
    late = pilot.clock.now() - (created + pilot.context.timeouts.aftersales_sla)
    pilot.close()
    out = wide("case", "list", "--db", sqlite_url)
    minutes = int(late.total_seconds() // 60)
    assert "SLA" in out
    # the CLI's clock is the real one: allow its minute to turn between the two reads
    assert any(f"overdue by {m // 60} h {m % 60} min" in out
               for m in (minutes, minutes + 1)), out


def test_a_request_within_its_sla_shows_the_time_left(sqlite_url, live_clock):
    pilot = OrderPilot(sqlite_url, clock=live_clock, risk_check=approve_everything)
    stock(pilot)
    order = placed_order(pilot, buyer="b-8")
    pilot.orders.fire(order.id, "pay", amount=order.total, payment_ref="alipay-8")
    case = pilot.cases.open(order.id, kind="refund_only", lines=[{"line_no": 1, "quantity": 1}],
                            reason="少发一件")
    pilot.cases.fire(case.id, "review", actor="system:refund-review")
    pilot.close()
    out = wide("case", "list", "--db", sqlite_url)
    assert case.id in out
    assert any(f"{h} h {m} min left" in out
               for h, m in ((23, 59), (23, 58))), out


def with_gateway(monkeypatch, gateway) -> None:
    """The CLI's pilot (the store the command names) paying through `gateway`."""
    monkeypatch.setattr("orderpilot.cli_common.OrderPilot",
                        lambda db: OrderPilot(db, gateway=gateway))


def test_an_approval_whose_refund_times_out_says_pending_and_exits_0(sqlite_url, held_case,
                                                                     monkeypatch):
    with_gateway(monkeypatch, Flaky())
    code, out = cli("case", "approve", held_case, "--by", "mei", "--reason", "photo checked",
                    "--db", sqlite_url)
    # before: "approved by mei: now approved", nothing said of the money
    assert code == 0, out
    assert (f"{held_case} approved by mei, refund of ¥19.99 pending at the provider (gateway "
            "timeout: the money sweep retries it; counted when it settles): now approved"
            ) in " ".join(out.split()), out


def test_an_approval_whose_refund_the_provider_refuses_says_why_and_exits_1(
        sqlite_url, held_case, monkeypatch):
    with_gateway(monkeypatch, SimulatedGateway())  # a provider that never saw the payment
    code, out = cli("case", "approve", held_case, "--by", "mei", "--reason", "photo checked",
                    "--db", sqlite_url)
    # the approval stands (exit 1, not 2: something was written); before: a red line only,
    # exit 2, as if nothing had been
    flat = " ".join(out.split())
    assert code == 1, out
    assert f"{held_case} approved by mei: now approved" in flat, out
    assert (f"error: the provider refused refund refund:{held_case} of ¥19.99: no payment "
            "alipay-9; the approval stands, nothing counted") in flat, out
    assert OrderPilot(sqlite_url).cases.get(held_case).state == "approved"


def test_an_approval_its_cancelled_order_cannot_refund_says_so_and_exits_1(sqlite_url,
                                                                           held_case):
    pilot = OrderPilot(sqlite_url)
    pilot.orders.fire(pilot.cases.get(held_case).order_id, "cancel", reason="买家不要了")
    pilot.close()
    code, out = cli("case", "approve", held_case, "--by", "mei", "--reason", "photo checked",
                    "--db", sqlite_url)
    flat = " ".join(out.split())
    assert code == 1, out
    assert f"{held_case} approved by mei: now approved" in flat, out
    assert (f"error: no refund was asked of ¥19.99: case {held_case} cannot refund from "
            "approved") in flat, out
