"""`pilot.cases.approve` of a refund-only request held for a person pays the buyer back through
the payment provider, as `pilot.cases.refund` does — a shop on the Python API alone, with no
console running its settle job, gets the money out. Exactly once: the console's settle job,
arriving after (or beside: races/test_refund_job_races.py), finds it paid. The approval
answers what became of the money as `refund` does (`case.refund`: a CaseRefund), raising
nothing for it: a timeout is `pending`, a refusal `refused`. Both stores."""

from __future__ import annotations

from typing import Any

from integrations.console.jobs import Ports, settle_refund
from integrations.payments.simulated import AdoptingGateway, SimulatedGateway
from integrations.service import refunds
from orderpilot import OrderPilot
from statemachine.ports import TransientPaymentError
from statemachine.risk_port import approve_everything
from tests.factories import order_request, stock
from tests.integration.fulfil.test_case_refund_api import money_rows

CN = {"province": "浙江省", "city": "杭州市", "district": "西湖区",
      "street": "文三路 18 号 3 幢 502 室", "recipient": "李雷", "phone": "+86 138 0013 8000"}


class Flaky(AdoptingGateway):
    """The shop's provider (adopting what the store booked), timing out on the first refund."""

    def __init__(self) -> None:
        super().__init__()
        self.refunds = 0

    def refund(self, payment_ref: str, amount: int, **kwargs: Any) -> Any:
        self.refunds += 1
        if self.refunds == 1:
            raise TransientPaymentError("gateway timeout")
        return super().refund(payment_ref, amount, **kwargs)


def held_request(shop: OrderPilot, kind: str = "refund_only") -> tuple[str, str]:
    """A paid order of 2 × ¥19.99 and a request on one unit held for a person."""
    stock(shop)
    order = shop.orders.place(**{**order_request(buyer="b-lilei"), "shipping_address": CN})
    order = shop.orders.fire(order.id, "pay", amount=order.total, payment_ref="alipay-2026-7")
    case = shop.cases.open(order.id, kind=kind, lines=[{"line_no": 1, "quantity": 1}],
                           reason="收到时外包装破损，杯子有裂纹")
    shop.cases.fire(case.id, "review", actor="system:refund-review")
    return order.id, case.id


def console(shop: OrderPilot) -> Ports:
    return Ports(gateway=shop.context.gateway, carrier=lambda *a: None,
                 notify=lambda message: None, retry_delays=(0.01,))


def test_an_approved_refund_only_request_is_paid_through_the_provider_once(any_url, clock):
    shop = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    order_id, case_id = held_request(shop)
    # When a person approves it from the Python API (no console runs)
    case = shop.cases.approve(case_id, by="mei", reason="照片显示破损")
    # Then the provider paid ¥19.99 back (an operation and its ledger row), and the case and
    # its order count it; the answer says so as `refund` would
    assert (case.state, case.refunded) == ("refunded", 1999)
    assert (case.refund.status, case.refund.refund, case.refund.amount, case.refund.currency,
            case.refund.error, case.refund.case.state) == (
        "succeeded", f"refund:{case_id}", 1999, "CNY", None, "refunded")
    assert shop.orders.get(order_id).refunded == 1999
    assert money_rows(shop) == ([("refund", "succeeded", 1999)], [("refund", 1999)])
    steps = [(h.trigger, h.actor) for h in shop.orders.history(order_id)
             if h.entity_id == case_id]
    assert steps[-2:] == [("approve", "reviewer:mei"), ("refund", "reviewer:mei")]
    # And when the console's settle job runs on the approval after all, nothing more is paid
    assert settle_refund(shop.context, console(shop), case_id) == "refunded"
    assert money_rows(shop) == ([("refund", "succeeded", 1999)], [("refund", 1999)])
    assert shop.orders.get(order_id).refunded == 1999
    shop.close()


def test_an_approval_the_settle_job_paid_first_is_not_paid_again(any_url, clock):
    shop = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    order_id, case_id = held_request(shop)
    # Given the approval committed with its refund recorded, and the console's settle job
    # (reacting to that commit) paid it before the approval's own call was made
    key = refunds.decide(shop.context, int(case_id[2:]), True, "照片显示破损", "mei").key
    assert key == f"refund:{case_id}"
    assert settle_refund(shop.context, console(shop), case_id) == "refunded"
    # When the approval's call is made after it
    assert refunds.pay(shop.context, key, shop.clock.now()).status.value == "succeeded"
    # Then the money moved once
    assert money_rows(shop) == ([("refund", "succeeded", 1999)], [("refund", 1999)])
    assert shop.orders.get(order_id).refunded == 1999
    shop.close()


def test_an_approval_recorded_but_never_paid_is_paid_by_the_money_sweep(any_url, clock):
    shop = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    order_id, case_id = held_request(shop)
    # Given an approval that committed (its refund recorded with it) and a process that died
    # before making the provider call
    refunds.decide(shop.context, int(case_id[2:]), True, "照片显示破损", "mei")
    assert money_rows(shop) == ([("refund", "pending", 1999)], [])
    # When the money sweep runs
    clock.advance(minutes=5)
    assert shop.payments.sweep()["retried"] == 1
    # Then the buyer is paid back, once
    assert (shop.cases.get(case_id).state, shop.orders.get(order_id).refunded) == (
        "refunded", 1999)
    assert money_rows(shop) == ([("refund", "succeeded", 1999)], [("refund", 1999)])
    shop.close()


def test_an_approval_its_order_cannot_refund_stands_and_records_no_refund(any_url, clock):
    shop = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    order_id, case_id = held_request(shop)
    # Given the order was cancelled (its ¥39.98 refunded in full) while the request waited
    shop.orders.fire(order_id, "cancel", reason="买家不要了")
    # When the request is approved
    case = shop.cases.approve(case_id, by="mei", reason="照片显示破损")
    # Then the approval stands and nothing more is asked of the provider, and the answer says
    # why the refund was refused (before: nothing said it: record_granted returned None)
    assert (case.state, case.refunded) == ("approved", 0)
    assert [r for r in money_rows(shop)[0] if r[0] == "refund" and r[2] == 1999] == []
    assert (case.refund.status, case.refund.refund, case.refund.amount) == (
        "refused", None, 1999)
    assert case.refund.error.startswith(f"case {case_id} cannot refund from approved: "), \
        case.refund.error
    shop.close()


def test_the_service_returns_the_refusal_of_a_granted_refund_instead_of_nothing(any_url,
                                                                               clock):
    """record_granted (through `decide`, as the console's form and HTTP reach it) used to
    return None when the store refused the refund — the same answer as for a return, which
    asks for no money: its callers could not tell a refusal from nothing to pay."""
    shop = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    order_id, case_id = held_request(shop)
    shop.orders.fire(order_id, "cancel", reason="买家不要了")
    granted = refunds.decide(shop.context, int(case_id[2:]), True, "照片显示破损", "mei")
    assert granted is not None and (granted.key, granted.amount, granted.currency) == (
        None, 1999, "CNY")
    assert granted.refused is not None and "cannot refund from approved" in granted.refused
    assert shop.cases.get(case_id).state == "approved"  # the approval stands
    _, return_case = held_request(shop, kind="return_refund")
    assert refunds.decide(shop.context, int(return_case[2:]), True, "七天无理由", "mei") is None
    shop.close()


def test_the_console_form_s_answer_names_a_refund_the_store_refused(any_url, clock):
    """The refund-review form's approval (flows/cases.py, the console) goes through `decide`:
    its answer, shown on the completed run, says the refund was refused and why (before: the
    same words as a grant whose refund was recorded)."""
    from integrations.console.decisions import decide_refund

    shop = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    order_id, case_id = held_request(shop)
    shop.orders.fire(order_id, "cancel", reason="买家不要了")
    said = decide_refund(shop.context, case_id, {"decision": "approve", "reviewer": "mei",
                                                 "reason": "照片显示破损"})
    assert said.startswith(f"approved by reviewer:mei: 照片显示破损; no refund asked: case "
                           f"{case_id} cannot refund from approved: "), said
    assert shop.cases.get(case_id).state == "approved"
    shop.close()


def test_an_approval_whose_refund_times_out_stands_and_the_money_sweep_pays_it(any_url, clock):
    gateway = Flaky()
    shop = OrderPilot(any_url, clock=clock, risk_check=approve_everything, gateway=gateway)
    order_id, case_id = held_request(shop)
    # When the approval's refund times out at the provider
    case = shop.cases.approve(case_id, by="mei", reason="照片显示破损")
    # Then the approval stands and the refund waits, pending, its amount reserved; the answer
    # says so (no exception) with the provider's error
    assert (case.state, case.refunded) == ("approved", 0)
    assert (case.refund.status, case.refund.refund) == ("pending", f"refund:{case_id}")
    assert "gateway timeout" in case.refund.error
    assert money_rows(shop) == ([("refund", "pending", 1999)], [])
    # And the money sweep (pilot.payments.sweep, from cron) pays it with the same key, once
    clock.advance(minutes=5)
    assert shop.payments.sweep()["retried"] == 1
    assert (shop.cases.get(case_id).state, shop.orders.get(order_id).refunded) == (
        "refunded", 1999)
    assert money_rows(shop) == ([("refund", "succeeded", 1999)], [("refund", 1999)])
    shop.close()


def test_an_approval_whose_refund_the_provider_refuses_stands_and_says_so(any_url, clock):
    seed = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    order_id, case_id = held_request(seed)
    seed.close()
    # Given a provider that never saw the payment (it refuses any refund of it)
    shop = OrderPilot(any_url, clock=clock, risk_check=approve_everything,
                      gateway=SimulatedGateway(now=clock.now))
    # When the request is approved
    case = shop.cases.approve(case_id, by="mei", reason="照片显示破损")
    # Then the answer says the approval stands and the provider refused its refund, as
    # `refund` answers (before: PermanentPaymentError, the approval's answer lost)
    assert (case.state, case.refunded) == ("approved", 0)
    assert (case.refund.status, case.refund.refund, case.refund.amount) == (
        "refused", f"refund:{case_id}", 1999)
    assert case.refund.error == "no payment alipay-2026-7"  # the provider's answer
    # and nothing is counted, the failed operation is on record
    assert (shop.cases.get(case_id).state, shop.orders.get(order_id).refunded) == (
        "approved", 0)
    assert money_rows(shop) == ([("refund", "failed", 1999)], [])
    shop.close()


def test_an_approved_return_moves_no_money_until_the_goods_are_inspected(any_url, clock):
    shop = OrderPilot(any_url, clock=clock, risk_check=approve_everything)
    _, case_id = held_request(shop, kind="return_refund")
    case = shop.cases.approve(case_id, by="mei", reason="七天无理由")
    assert (case.state, case.refunded, case.refund) == ("approved", 0, None)
    assert money_rows(shop) == ([], [])
    shop.close()
