"""Review decisions, after-sales requests, refunds, chargebacks and reads over real HTTP."""

from __future__ import annotations

from datetime import timedelta

from integrations.service.money_sweep import sweep_money
from tests.integration.integ.events import order_placed, payment
from tests.integration.integ.test_http_events import collide_once_settling, placed


def test_a_reviewer_approves_an_order_held_for_review(client, shop):
    # Given an order over 5000, held for review by the risk check
    order = placed(client, quantity=3, unit_price=2000)
    assert order["state"] == "under_review"
    # When the reviewer approves it
    response = client.post(f"/v1/reviews/orders/{order['id']}/decision",
                           {"event_id": "rev-1", "decision": "approve", "reviewer": "amy",
                            "reason": "known buyer"})
    # Then it waits for payment and the history names the reviewer
    assert response.status_code == 200, response.text
    assert response.json()["order"]["state"] == "awaiting_payment"
    last = shop.orders.history(order["id"])[-1]
    assert (last.trigger, last.actor) == ("approve", "reviewer:amy")


def test_a_review_decision_on_an_order_not_under_review_is_409(client):
    order = placed(client)
    response = client.post(f"/v1/reviews/orders/{order['id']}/decision",
                           {"event_id": "rev-2", "decision": "reject", "reviewer": "amy"})
    assert response.status_code == 409
    assert response.json()["state"] == "awaiting_payment"


def test_an_after_sales_request_opens_a_case_and_keeps_the_photos(client, shop):
    order = placed(client)
    client.post("/v1/payments/events", payment(order))
    request = {"event_id": "as-1", "kind": "refund_only", "reason": "arrived broken",
               "lines": [{"line_no": 1, "quantity": 1}],
               "photos": ["https://img.example.com/1.jpg"]}
    response = client.post(f"/v1/shop/orders/{order['id']}/cases", request)
    assert response.status_code == 201, response.text
    case = response.json()["case"]
    assert (case["state"], case["requested_amount"]) == ("requested", 1999)
    notes = client.get(f"/v1/ops/orders/{order['id']}/notes").json()
    assert notes[0]["attachments"] == ["https://img.example.com/1.jpg"]
    again = client.post(f"/v1/shop/orders/{order['id']}/cases", request)
    assert again.json()["case"]["id"] == case["id"]
    assert again.headers["Idempotent-Replay"] == "true"
    assert [h.trigger for h in shop.orders.history(order["id"])].count("open") == 1
    assert len(client.get(f"/v1/ops/orders/{order['id']}").json()["cases"]) == 1


def test_an_after_sales_request_for_an_unpaid_order_is_409(client):
    order = placed(client)
    response = client.post(f"/v1/shop/orders/{order['id']}/cases",
                           {"event_id": "as-2", "kind": "refund_only", "reason": "x",
                            "lines": [{"line_no": 1, "quantity": 1}]})
    assert response.status_code == 409 and response.json()["error"] == "guard_rejected"


def test_a_second_request_on_a_unit_in_an_open_case_is_409_naming_the_case(client):
    # Given a paid order of two mugs and a refund request on both, still open
    order = placed(client)
    client.post("/v1/payments/events", payment(order))
    first = client.post(f"/v1/shop/orders/{order['id']}/cases",
                        {"event_id": "as-3", "kind": "refund_only", "reason": "arrived broken",
                         "lines": [{"line_no": 1, "quantity": 2}]}).json()["case"]
    # When the buyer asks to return one of them
    response = client.post(f"/v1/shop/orders/{order['id']}/cases",
                           {"event_id": "as-4", "kind": "return_refund", "reason": "不想要了",
                            "lines": [{"line_no": 1, "quantity": 1}]})
    # Then it is a conflict naming the open case, with a stable code
    assert response.status_code == 409, response.text
    body = response.json()
    assert (body["error"], body["open_cases"]) == ("units_in_open_case", [first["id"]])
    assert f"0 free; 2 in {first['id']} (requested)" in body["reason"]


def test_a_chargeback_is_booked_as_a_refund(client, shop):
    order = placed(client)
    client.post("/v1/payments/events", payment(order))
    response = client.post("/v1/payments/events",
                           payment(order, "cb-1", type="chargeback", amount=1000,
                                   reason="fraud claim"))
    assert response.status_code == 200, response.text
    assert response.json()["order"]["refunded"] == 1000
    assert response.json()["order"]["payment_status"] == "partially_refunded"


def test_a_refund_event_for_a_case_is_recorded_without_refunding_twice(client, shop):
    order = placed(client)
    client.post("/v1/payments/events", payment(order))
    case = shop.cases.open(order["id"], kind="refund_only", reason="broken",
                           lines=[{"line_no": 1, "quantity": 1}])
    shop.cases.fire(case.id, "auto_approve")
    shop.cases.fire(case.id, "refund")
    response = client.post("/v1/payments/events", payment(order, "rf-1", type="refunded",
                                                          amount=1999, case_id=case.id))
    assert response.status_code == 200 and response.json()["applied"] is False
    assert shop.orders.get(order["id"]).refunded == 1999


def test_a_failed_payment_is_recorded_and_the_order_keeps_waiting(client, shop):
    order = placed(client)
    response = client.post("/v1/payments/events", payment(order, "f-1", type="failed"))
    assert response.status_code == 200 and response.json()["applied"] is False
    assert shop.orders.get(order["id"]).state == "awaiting_payment"


def test_the_read_endpoints_show_state_history_risk_and_notes(client):
    order = placed(client, quantity=3, unit_price=2000)
    detail = client.get(f"/v1/ops/orders/{order['id']}").json()
    assert detail["order"]["state"] == "under_review"
    # what a caller may fire, as pilot.orders.allowed_triggers lists it (before, it listed
    # correct_address too: a call of its own, which fire refuses)
    assert detail["allowed_triggers"] == ["approve", "reject", "pay", "start_payment",
                                          "fail_payment", "cancel"]  # money: kept
    history = client.get(f"/v1/ops/orders/{order['id']}/history").json()
    assert [h["trigger"] for h in history] == ["place", "review"]
    risk = client.get(f"/v1/ops/orders/{order['id']}/risk").json()
    assert risk["action"] == "review" and risk["reasons"][0]["rule"] == "amount"
    note = client.post(f"/v1/ops/orders/{order['id']}/notes",
                       {"text": "buyer called", "author": "amy"})
    assert note.status_code == 201 and note.json()["author"] == "amy"
    assert client.get("/v1/ops/orders/o-999").status_code == 404


def test_an_order_for_an_unknown_sku_is_422_naming_the_line(client, shop):
    response = client.post("/v1/shop/orders", order_placed("s-9", sku="NOPE"))
    assert response.status_code == 422
    assert list(response.json()["problems"]) == ["order.lines[0].sku"]


def test_a_reviewer_decides_an_after_sales_request_held_for_a_person(client, shop):
    # Given a paid order and a refund request a person must decide
    order = placed(client)
    client.post("/v1/payments/events", payment(order))
    opened = client.post(f"/v1/shop/orders/{order['id']}/cases",
                         {"event_id": "as-9", "kind": "refund_only", "reason": "包装破损",
                          "lines": [{"line_no": 1, "quantity": 1}]}).json()["case"]
    shop.cases.fire(opened["id"], "review", actor="system:refund-review")
    # When the reviewer grants it over HTTP (the same decision as the console's form)
    decision = {"event_id": "rev-c-1", "decision": "approve", "reviewer": "amy",
                "reason": "photos show the damage"}
    response = client.post(f"/v1/reviews/cases/{opened['id']}/decision", decision)
    # Then the case is approved with amy recorded, once, and the buyer paid back through the
    # payment provider at once (before: "the refund follows" — only where a console ran the
    # settle job); a replay pays nothing more; a late reject is refused
    assert response.status_code == 200, response.text
    assert response.json()["case"]["state"] == "refunded"
    # (`refund` as pilot.cases.refund answers, less the case beside it: before, `operation`
    # and `failed` where the Python API says `refund` and `refused`)
    assert response.json()["refund"] == {"status": "succeeded",
                                         "refund": f"refund:{opened['id']}", "amount": 1999,
                                         "currency": "CNY", "error": None,
                                         "in_admin_of": None, "note": None}
    again = client.post(f"/v1/reviews/cases/{opened['id']}/decision", decision)
    assert again.headers["Idempotent-Replay"] == "true"
    assert again.json()["case"]["state"] == "refunded"
    assert again.json()["refund"]["status"] == "succeeded"
    assert shop.orders.get(order["id"]).refunded == 1999
    with shop.context.tx(readonly=True) as tx:
        paid_back = tx.store.sql.all("SELECT kind, amount FROM payment_records WHERE "
                                     "kind = 'refund'", {})
    assert [tuple(r) for r in paid_back] == [("refund", 1999)]
    late = client.post(f"/v1/reviews/cases/{opened['id']}/decision",
                       {**decision, "event_id": "rev-c-2", "decision": "reject"})
    assert late.status_code == 409
    steps = [h for h in shop.orders.history(order["id"]) if h.entity_id == opened["id"]]
    assert [(h.trigger, h.actor) for h in steps][-2:] == [("approve", "reviewer:amy"),
                                                          ("refund", "reviewer:amy")]


def test_a_grant_whose_refund_collides_settling_answers_pending_and_the_sweep_pays_once(
        client, shop, monkeypatch):
    # Given a refund request held for a person on a paid order, and our store colliding once
    # settling the provider's answer to its refund
    order = placed(client)
    client.post("/v1/payments/events", payment(order))
    opened = client.post(f"/v1/shop/orders/{order['id']}/cases",
                         {"event_id": "as-20", "kind": "refund_only", "reason": "包装破损",
                          "lines": [{"line_no": 1, "quantity": 1}]}).json()["case"]
    shop.cases.fire(opened["id"], "review", actor="system:refund-review")
    collisions = collide_once_settling(monkeypatch)
    # When the reviewer grants it over HTTP
    response = client.post(f"/v1/reviews/cases/{opened['id']}/decision",
                           {"event_id": "rev-c-20", "decision": "approve", "reviewer": "amy",
                            "reason": "photos show the damage"})
    # Then the committed grant is answered 200, its refund pending for the sweep (before: 503
    # "nothing was written", the approval committed and its replay answering otherwise)
    assert response.status_code == 200, response.text
    assert collisions == []
    assert response.json()["case"]["state"] == "approved"
    refund = response.json()["refund"]
    assert (refund["status"], refund["refund"], refund["amount"]) == (
        "pending", f"refund:{opened['id']}", 1999)
    # And the money sweep pays it under the same key: the provider refunded once
    sweep_money(shop.context, shop.clock.now() + timedelta(minutes=5))
    assert shop.cases.get(opened["id"]).state == "refunded"
    assert shop.orders.get(order["id"]).refunded == 1999
    with shop.context.tx(readonly=True) as tx:
        paid_back = tx.store.sql.all("SELECT kind, amount FROM payment_records WHERE "
                                     "kind = 'refund'", {})
    assert [tuple(r) for r in paid_back] == [("refund", 1999)]
    assert [b.kind for b in shop.context.gateway.books].count("refund") == 1


def test_a_grant_whose_refund_the_store_refuses_answers_refused_and_stands(client, shop):
    # Given a refund request held for a person on an order cancelled (refunded in full) since
    order = placed(client)
    client.post("/v1/payments/events", payment(order))
    opened = client.post(f"/v1/shop/orders/{order['id']}/cases",
                         {"event_id": "as-10", "kind": "refund_only", "reason": "包装破损",
                          "lines": [{"line_no": 1, "quantity": 1}]}).json()["case"]
    shop.cases.fire(opened["id"], "review", actor="system:refund-review")
    shop.orders.fire(order["id"], "cancel", reason="买家不要了")
    # When the reviewer grants it over HTTP
    decision = {"event_id": "rev-c-10", "decision": "approve", "reviewer": "amy",
                "reason": "photos show the damage"}
    response = client.post(f"/v1/reviews/cases/{opened['id']}/decision", decision)
    # Then the approval stands and the answer says its refund was refused, and why (before:
    # no `refund` at all, as for a return, which asks for no money); a replay says the same
    assert response.status_code == 200, response.text
    assert response.json()["case"]["state"] == "approved"
    refund = response.json()["refund"]
    assert (refund["status"], refund["refund"], refund["amount"], refund["currency"]) == (
        "refused", None, 1999, "CNY")
    assert refund["error"].startswith(f"case {opened['id']} cannot refund from approved"), refund
    again = client.post(f"/v1/reviews/cases/{opened['id']}/decision", decision)
    assert again.headers["Idempotent-Replay"] == "true"
    assert again.json()["refund"] == refund


def test_a_decision_logged_before_the_answer_named_its_status_replays_with_it(client, shop):
    """A decision logged by an earlier version stored its refund as `{"operation": key}`: its
    replay still pays nothing more and answers in today's shape."""
    from integrations.http.events import _paid_back
    from integrations.ingest.once import Outcome

    order = placed(client)
    client.post("/v1/payments/events", payment(order))
    case = shop.cases.open(order["id"], kind="refund_only", reason="包装破损",
                           lines=[{"line_no": 1, "quantity": 1}])
    shop.cases.fire(case.id, "review", actor="system:refund-review")
    assert shop.cases.approve(case.id, by="amy", reason="ok").refund.status == "succeeded"
    logged = Outcome(200, {"case": case.model_dump(mode="json"),
                           "refund": {"operation": f"refund:{case.id}"}}, duplicate=True)
    body = _paid_back(shop.context, logged).body
    assert (body["case"]["state"], body["refund"]["status"], body["refund"]["refund"]) == (
        "refunded", "succeeded", f"refund:{case.id}")
    assert shop.orders.get(order["id"]).refunded == 1999


def test_ops_list_orders_page_by_page_and_export_them(client, shop):
    # Given three orders placed over HTTP, one of them held for review
    made = [placed(client, f"shop-l{n}", quantity=q)["id"] for n, q in enumerate((1, 3, 1))]
    # When ops list them two at a time, and then export the held ones
    first = client.get("/v1/ops/orders?limit=2")
    second = client.get(f"/v1/ops/orders?limit=2&after={first.json()['next']}")
    held = client.get("/v1/ops/orders/export?format=csv&risk=review")
    # Then the pages are newest first and cover every order once; the CSV holds the held one
    assert first.status_code == 200, first.text
    assert [o["id"] for o in first.json()["orders"] + second.json()["orders"]] == made[::-1]
    assert second.json()["next"] is None
    assert held.headers["content-type"].startswith("text/csv")
    assert [line.split(",")[0] for line in held.text.splitlines()] == ["id", made[1]]
    # and a bad filter is refused, naming it
    bad = client.get("/v1/ops/orders?risk=maybe")
    assert bad.status_code == 422 and "risk" in bad.text
