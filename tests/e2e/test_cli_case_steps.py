"""`orderpilot case new-label | receive | inspect | refund | close | show | bounced`: an after-
sales case moved from a terminal, through the real CLI on a SQLite file, with the API's checks
(a bad case id, a step the state does not allow, a bad parameter: one line naming what was
expected, exit code 2, nothing written). Before, only approve / reject had a command: the
bounced-return form sent staff to `pilot.cases.fire(...)` in Python."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from integrations.carriers.simulated import SimulatedCarrier
from integrations.console.casefiles import bounced_return_description
from integrations.console.casework import RETURN_BOUNCED, open_case
from integrations.payments import deferred
from integrations.payments.simulated import AdoptingGateway
from orderpilot import OrderPilot
from orderpilot.cli import app
from statemachine.ports import PermanentPaymentError, TransientPaymentError
from tests.integration.fulfil.conftest import make_pilot
from tests.integration.fulfil.test_case_refund_api import inspected_return
from tests.integration.fulfil.test_lost_return_parcels import delivered_order, return_sent

runner = CliRunner()


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def bounced(sqlite_url, clock):
    """2 mugs delivered; a return of one, whose parcel the carrier sent back to the buyer."""
    shop = make_pilot(sqlite_url, clock)
    order = delivered_order(shop)
    case_id, [back] = return_sent(shop, order.id)
    clock.advance(hours=30)
    shop.shipments.fire(back.id, "return_to_sender", reason="仓库地址有误，退回寄件人")
    shop.close()
    return order.id, case_id


def trail(url: str, order_id: str) -> list[tuple[str, str, str]]:
    """(trigger, to_state, actor) of the order's case steps, oldest first."""
    pilot = OrderPilot(url)
    try:
        return [(h.trigger, h.to_state, h.actor) for h in pilot.orders.history(order_id)
                if h.entity_id.startswith("c-")]
    finally:
        pilot.close()


def test_a_bounced_return_answered_from_the_terminal_then_received_inspected_refunded(
        sqlite_url, bounced):
    order_id, case_id = bounced
    # The form's text points to the command, not to Python
    shop = OrderPilot(sqlite_url)
    text = bounced_return_description(
        shop.context, open_case(shop.context, RETURN_BOUNCED, case_id), shop.clock.now())
    shop.close()
    assert f"orderpilot case new-label {case_id} --by NAME" in text and "pilot.cases" not in text
    # It is listed as waiting for an answer, and `show` names the steps a person can take
    code, out = cli("case", "bounced", "--db", sqlite_url)
    assert code == 0 and case_id in out and order_id in out
    code, out = cli("case", "show", case_id, "--db", sqlite_url)
    assert code == 0 and "return_bounced" in out and "steps now: new-label, close" in out
    # When ops send a new label, then the goods come back and are inspected and refunded
    code, out = cli("case", "new-label", case_id, "--by", "li", "--note", "地址已更正",
                    "--db", sqlite_url)
    assert code == 0 and f"{case_id} new-label by ops:li: now awaiting_return" in out
    # And the new return waybill was bought from the order's carrier through its adapter
    # (before: our own number c-1-R1, nothing asked of any carrier), recorded on the case's
    # new return parcel and shown by `case show`
    waybill = new_return_waybill(sqlite_url, order_id, case_id)
    assert waybill.startswith("SIM-EXPRESS-") and f"return waybill sim-express {waybill}" in out
    code, out = cli("case", "show", case_id, "--db", sqlite_url)
    assert code == 0 and f"return sim-express {waybill}" in out and "label_created" in out
    assert cli("case", "bounced", "--db", sqlite_url)[1].strip() == \
        "no bounced return waits for an answer"
    for step in (["receive"], ["inspect", "--result", "ok", "--note", "吊牌完好"], ["refund"]):
        code, out = cli("case", step[0], case_id, "--by", "wang", *step[1:], "--db",
                        sqlite_url)
        assert code == 0, out
    assert "now refunded" in out
    # Then each step is in the history under the person's name
    assert trail(sqlite_url, order_id)[-4:] == [
        ("await_return", "awaiting_return", "ops:li"), ("receive", "received", "ops:wang"),
        ("inspect", "inspected", "ops:wang"), ("refund", "refunded", "ops:wang")]
    pilot = OrderPilot(sqlite_url)
    assert pilot.orders.get(order_id).refunded == 12_900
    # And the buyer was paid back through the provider: a refund operation, succeeded, and its
    # ledger row (before: the case and order counted ¥129 refunded and nobody asked the
    # provider for it: the buyer never got the money)
    with pilot.context.tx(readonly=True) as tx:
        ops = tx.store.sql.all("SELECT kind, status, amount FROM payment_operations", {})
        ledger = tx.store.sql.all("SELECT kind, amount FROM payment_records", {})
    assert [tuple(r) for r in ops] == [("refund", "succeeded", 12_900)]
    assert [tuple(r) for r in ledger] == [("refund", 12_900)]
    pilot.close()


def new_return_waybill(url: str, order_id: str, case_id: str) -> str:
    """The tracking number of the case's newest return parcel (the first one bounced)."""
    pilot = OrderPilot(url)
    try:
        backs = [s for s in pilot.shipments.of_order(order_id)
                 if s.case_id == case_id and s.state != "returned_to_sender"]
    finally:
        pilot.close()
    [back] = backs
    return back.tracking_no


def return_parcels(url: str, order_id: str) -> list[tuple[str, str, str]]:
    pilot = OrderPilot(url)
    try:
        return [(s.id, s.tracking_no, s.state) for s in pilot.shipments.of_order(order_id)
                if s.purpose == "return"]
    finally:
        pilot.close()


@pytest.mark.parametrize("failure", [TimeoutError("read timed out after 10 s"),
                                     ConnectionRefusedError(111, "Connection refused")])
def test_a_new_label_the_carrier_does_not_sell_is_one_line_and_leaves_the_case(
        sqlite_url, bounced, monkeypatch, failure):
    # Given a bounced return, and a carrier that does not answer
    order_id, case_id = bounced
    before, parcels = trail(sqlite_url, order_id), return_parcels(sqlite_url, order_id)

    def down(self, request):
        raise failure

    monkeypatch.setattr(SimulatedCarrier, "create_waybill", down)
    # When ops ask for a new label
    code, out = cli("case", "new-label", case_id, "--by", "li", "--note", "地址已更正",
                    "--db", sqlite_url)
    # Then one line says the carrier did not sell it, and the case is as it was
    assert code == 2 and out.startswith("error:") and len(out.strip().splitlines()) == 1, out
    assert "carrier sim-express" in out and "no return waybill" in out, out
    assert trail(sqlite_url, order_id) == before
    assert return_parcels(sqlite_url, order_id) == parcels
    assert "return_bounced" in cli("case", "show", case_id, "--db", sqlite_url)[1]


def test_closing_a_bounced_return_from_the_terminal(sqlite_url, bounced):
    order_id, case_id = bounced
    code, out = cli("case", "close", case_id, "--by", "li", "--note", "买家决定保留商品",
                    "--db", sqlite_url)
    assert code == 0 and "now closed" in out
    assert trail(sqlite_url, order_id)[-1] == ("close", "closed", "ops:li")


@pytest.mark.parametrize(("args", "expected"), [
    (["receive", "c-x", "--by", "li"], "case_id"),
    (["receive", "c-999", "--by", "li"], "c-999 does not exist"),
    (["receive", "{case}", "--by", "li"],
     "cannot receive from return_bounced; allowed: await_return, close"),
    (["refund", "{case}", "--by", "li"], "cannot refund from return_bounced"),
    (["new-label", "{case}", "--by", " ", "--note", "x"], "by: expected a name"),
    (["new-label", "{case}", "--by", "li", "--note", "x" * 501], "reason"),
])
def test_a_refused_step_is_one_line_exit_2_and_writes_nothing(sqlite_url, bounced, args,
                                                              expected):
    order_id, case_id = bounced
    before = trail(sqlite_url, order_id)
    code, out = cli("case", *[a.replace("{case}", case_id) for a in args], "--db", sqlite_url)
    assert code == 2 and expected in out, out
    assert out.startswith("error:") and len(out.strip().splitlines()) == 1
    assert trail(sqlite_url, order_id) == before


def test_an_inspection_result_is_checked_before_anything_is_written(sqlite_url, bounced):
    order_id, case_id = bounced
    for step in ("new-label", "receive"):
        assert cli("case", step, case_id, "--by", "li", "--note", "ok", "--db",
                   sqlite_url)[0] == 0
    before = trail(sqlite_url, order_id)
    code, out = cli("case", "inspect", case_id, "--by", "li", "--result", "fine", "--db",
                    sqlite_url)
    assert code == 2 and "result" in out and "ok" in out and "mismatch" in out
    assert trail(sqlite_url, order_id) == before


@pytest.fixture
def inspected(sqlite_url, clock):
    """2 mugs delivered (¥129 each); a return of one, back at the warehouse and inspected ok."""
    shop = make_pilot(sqlite_url, clock)
    order_id, case_id = inspected_return(shop)
    shop.close()
    return order_id, case_id


class Timeout(AdoptingGateway):
    """The shop's provider, timing out on every refund."""

    def refund(self, payment_ref: str, amount: int, **kw: Any) -> Any:
        raise TransientPaymentError("gateway timeout")


class CardClosed(AdoptingGateway):
    """The shop's provider, refusing every refund for good."""

    def refund(self, payment_ref: str, amount: int, **kw: Any) -> Any:
        raise PermanentPaymentError("the buyer's card account is closed")


def provider(monkeypatch: pytest.MonkeyPatch, gateway: type[AdoptingGateway]) -> None:
    """The CLI's pilots pay through `gateway` (built when money first moves, as configured)."""
    monkeypatch.setattr(deferred, "gateway_from_settings", lambda settings: gateway())


def test_a_case_refund_from_the_terminal_says_what_was_paid(sqlite_url, inspected):
    order_id, case_id = inspected
    code, out = cli("case", "refund", case_id, "--by", "li", "--db", sqlite_url)
    assert code == 0, out
    assert f"{case_id} refund by ops:li: refunded ¥129.00; now refunded" in out


def test_a_case_refund_left_pending_at_the_provider_says_so(sqlite_url, inspected,
                                                             monkeypatch):
    # Given a provider that times out
    order_id, case_id = inspected
    provider(monkeypatch, Timeout)
    # When ops refund the case from the terminal
    code, out = cli("case", "refund", case_id, "--by", "li", "--db", sqlite_url)
    # Then it says the refund is pending and why, and the case has not counted it (before:
    # "error: gateway timeout …", exit 2, though the refund was recorded for the sweep)
    assert code == 0, out
    assert (f"{case_id} refund by ops:li: refund of ¥129.00 pending at the provider (gateway "
            "timeout: the money sweep retries it; counted when it settles); now inspected"
            ) in " ".join(out.split())
    pilot = OrderPilot(sqlite_url)
    assert pilot.cases.get(case_id).refunded == 0
    pilot.close()


def test_a_case_refund_the_provider_refuses_is_one_line_exit_2(sqlite_url, inspected,
                                                             monkeypatch):
    # Given a provider that refuses the refund for good
    order_id, case_id = inspected
    provider(monkeypatch, CardClosed)
    # When ops refund the case from the terminal
    result = runner.invoke(app, ["case", "refund", case_id, "--by", "li", "--db", sqlite_url])
    # Then one line names the refund, its amount and the provider's reason; exit code 2
    assert result.exit_code == 2, result.output
    assert (f"error: the provider refused refund refund:{case_id} of ¥129.00: the buyer's "
            "card account is closed") in result.output
    pilot = OrderPilot(sqlite_url)
    assert (pilot.cases.get(case_id).state, pilot.cases.get(case_id).refunded) == (
        "inspected", 0)
    pilot.close()
