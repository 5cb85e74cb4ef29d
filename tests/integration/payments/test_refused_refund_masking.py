"""A provider's refusal text can quote the buyer (Alipay's sub_msg, a bank's note on a dispute):
wherever orderpilot shows a refused refund — the refunds owed (`pilot.payments.refunds_owed`,
`orderpilot payments owed`), the ops alert — the buyer's name, phone and e-mail are masked and
the provider's error code stays readable. Both stores (the CLI on SQLite)."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from integrations.console.jobs import Ports, settle_cancel
from integrations.payments.simulated import AdoptingGateway
from orderpilot import OrderPilot
from orderpilot.cli import app
from statemachine.ports import PermanentPaymentError
from statemachine.risk_port import approve_everything
from tests.factories import order_request, stock

CN = {"province": "浙江省", "city": "杭州市", "district": "西湖区",
      "street": "文三路 18 号 3 幢 502 室", "recipient": "李雷", "phone": "+86 138 0013 8000"}
REFUSAL = ("40004 Business Failed ACQ.TRADE_HAS_CLOSE: 交易已关闭，买家李雷（+86 138 0013 8000，"
           "lilei.hz@example.com）的退款无法原路退回")
PII = ("李雷", "138 0013 8000", "13800138000", "lilei.hz@")


class RefusingGateway(AdoptingGateway):
    """The shop's provider, refusing every refund with a text that quotes the buyer."""

    def refund(self, payment_ref: str, amount: int, **kw: Any) -> Any:
        raise PermanentPaymentError(REFUSAL)


def late_money_refused(url: str, clock) -> tuple[OrderPilot, str]:
    """An order whose hold lapsed, and the buyer's ¥129 arrived after it: its automatic
    refund refused for good by the provider."""
    pilot = OrderPilot(url, clock=clock, risk_check=approve_everything,
                       gateway=RefusingGateway())
    stock(pilot)
    order = pilot.orders.place(**{**order_request(quantity=1, unit_price=12_900),
                                  "shipping_address": CN})
    clock.advance(minutes=31)
    pilot.sweep()
    assert pilot.orders.pay(order.id, amount=12_900, payment_ref="alipay-2026-129").outcome == \
        "refunded"
    return pilot, order.id


def assert_masked(text: str) -> None:
    assert not [p for p in PII if p in text], text
    # the provider's code stays readable, the phone and e-mail show what masking keeps (the
    # phone's national number: 138****8000, not 861******8000 as before)
    assert "40004 Business Failed ACQ.TRADE_HAS_CLOSE" in text and "138****8000" in text
    assert "l***@example.com" in text


def test_a_refused_refund_owed_is_listed_with_the_buyer_masked(any_url, clock):
    pilot, order_id = late_money_refused(any_url, clock)
    # When finance lists the refunds owed
    owed = pilot.payments.refunds_owed()
    # Then the row names the provider's answer with the buyer's name, phone and e-mail masked
    # (before: the provider's text as it came, 李雷 and +86 138 0013 8000 in clear)
    assert [(r["order_id"], r["kind"]) for r in owed] == [(order_id, "refund_refused")]
    assert_masked(owed[0]["reason"])
    pilot.close()


def test_orderpilot_payments_owed_shows_the_refusal_masked(sqlite_url, clock):
    pilot, order_id = late_money_refused(sqlite_url, clock)
    pilot.close()
    runner = CliRunner(env={"COLUMNS": "400"})
    table = runner.invoke(app, ["payments", "owed", "--db", sqlite_url])
    listed = runner.invoke(app, ["payments", "owed", "--json", "--db", sqlite_url])
    assert order_id in table.output and "李雷" not in table.output and \
        "0013 8000" not in table.output, table.output
    [row] = json.loads(listed.output)
    assert_masked(row["reason"])


def test_the_ops_alert_of_a_refused_cancellation_refund_masks_the_buyer(any_url, clock):
    # Given a paid order cancelled, whose refund the provider refuses quoting the buyer
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                       gateway=RefusingGateway())
    stock(pilot)
    order = pilot.orders.place(**{**order_request(quantity=1, unit_price=12_900),
                                  "shipping_address": CN})
    pilot.orders.fire(order.id, "pay", amount=12_900, payment_ref="alipay-2026-130")
    pilot.orders.fire(order.id, "cancel", reason="买家不要了")
    told: list[Any] = []
    ports = Ports(gateway=pilot.context.gateway, carrier=None,  # type: ignore[arg-type]
                  notify=told.append, retry_delays=(0.01,))
    # When the console's settle-cancel job pays it back
    assert settle_cancel(pilot.context, ports, order.id) == "failed"
    # Then ops are told with the buyer's name masked too (before: the phone and e-mail were,
    # the name 李雷 was not), and the refunds owed row is masked
    assert [m.audience for m in told] == ["ops"]
    assert_masked(told[0].body)
    assert_masked(pilot.payments.refunds_owed()[0]["reason"])
    pilot.close()


def test_the_api_names_a_refused_case_refund_with_the_buyer_masked(any_url, clock):
    # Given a paid order with a refund-only request held for a person, and a provider that
    # refuses refunds quoting the buyer
    pilot = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                       gateway=RefusingGateway())
    stock(pilot)
    order = pilot.orders.place(**{**order_request(quantity=1, unit_price=12_900),
                                  "shipping_address": CN})
    pilot.orders.fire(order.id, "pay", amount=12_900, payment_ref="alipay-2026-131")
    case = pilot.cases.open(order.id, kind="refund_only", reason="发错颜色",
                            lines=[{"line_no": 1, "quantity": 1}])
    pilot.cases.fire(case.id, "review", actor="system:refund-review")
    # When it is approved (its refund refused), then refunded again by hand (refused again)
    approved = pilot.cases.approve(case.id, by="mei", reason="同意")
    refunded = pilot.cases.refund(case.id, by="finance:li")
    # Then both refusals name the provider's answer with the buyer masked (before: in clear)
    assert approved.refund.status == "refused" and approved.refund.error is not None
    assert_masked(approved.refund.error)
    assert refunded.status == "refused" and refunded.error is not None
    assert_masked(refunded.error)
    pilot.close()
