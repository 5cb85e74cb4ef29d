"""The evidence pack of a fully played-out order: webhooks in, everything collected out."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from orderpilot import NotFound
from orderpilot.api_integrations import add_note, evidence_pack
from orderpilot.cli import app
from tests.integration.integ.events import payment, tracking
from tests.integration.integ.test_http_events import placed


def played_out_order(client, shop) -> str:
    """Held for review, approved, paid, shipped (scans out of order), returned damaged,
    refunded; notes and a photo attached; the same buyer also cancelled another order."""
    order = placed(client, "shop-1", quantity=3, unit_price=2000)
    oid = order["id"]
    client.post(f"/v1/reviews/orders/{oid}/decision",
                {"event_id": "rev-1", "decision": "approve", "reviewer": "amy",
                 "reason": "known buyer, verified by phone"})
    client.post("/v1/payments/events", payment({**order, "total": 6000}, "pay-1"))
    for trigger in ("start_picking", "pack", "ship"):
        shop.orders.fire(oid, trigger, actor="warehouse")
    [parcel] = [p.model_dump() for p in shop.shipments.of_order(oid)]
    for n, status in enumerate(["picked_up", "delivered", "in_transit"]):
        client.post("/v1/carriers/events", tracking(parcel, status, f"trk-{n}", location="hub"))
    response = client.post(f"/v1/shop/orders/{oid}/cases", {
        "event_id": "as-1", "kind": "return_refund", "reason": "screen cracked",
        "lines": [{"line_no": 1, "quantity": 1}], "photos": ["https://img.example.com/c.jpg"]})
    case_id = response.json()["case"]["id"]
    for trigger, params in [("review", {}), ("approve", {}), ("await_return", {}),
                            ("receive", {}), ("inspect", {"result": "damaged"}),
                            ("refund", {})]:
        shop.cases.fire(case_id, trigger, actor="cs-agent", **params)
    client.post("/v1/payments/events", payment({**order, "total": 2000}, "rf-1",
                                               type="refunded", case_id=case_id))
    add_note(shop, oid, "buyer called from 13812345678 insisting on full refund", by="amy")
    other = placed(client, "shop-2")
    shop.orders.fire(other["id"], "cancel", reason="changed mind")
    return oid


def test_the_evidence_pack_holds_every_part_of_the_story(client, shop, tmp_path):
    # Given an order played out through webhooks and the API
    oid = played_out_order(client, shop)
    # When its evidence pack is written
    files = evidence_pack(shop, oid, tmp_path / "pack")
    pack = json.loads(files.json_path.read_text())
    # Then the timeline has every transition with its actor
    steps = {(h["trigger"], h["actor"]) for h in pack["timeline"]}
    assert {("review", "risk-engine"), ("approve", "reviewer:amy"), ("pay", "gateway"),
            ("ship", "warehouse"), ("deliver", "carrier:sim-express"),
            ("inspect", "cs-agent")} <= steps
    # ... the risk decision with its reasons
    assert pack["risk"]["action"] == "review"
    assert pack["risk"]["reasons"][0]["text"] == "amount over 5000"
    # ... payment and refund records
    assert [(p["kind"], p["amount"]) for p in pack["payments"]] == [("capture", 6000),
                                                                     ("refund", 2000)]
    # ... the parcel's scans, including the late one that was only recorded
    [parcel, return_label] = pack["shipments"]  # the order's parcel, the case's return label
    assert (parcel["purpose"], return_label["purpose"]) == ("order", "return")
    assert [s["trigger"] for s in parcel["scans"]] == ["create", "pick_up", "deliver"]
    late = [e for e in parcel["carrier_events"] if not e["applied"]]
    assert len(late) == 1 and "already delivered" in late[0]["note"]
    # ... the after-sales case with its inspection result
    [case] = pack["cases"]
    assert (case["state"], case["inspection"], case["refunded"]) == ("refunded", "damaged", 2000)
    # ... notes (phone masked) and the buyer's photo
    texts = [n["text"] for n in pack["notes"]]
    assert any("138****5678" in t for t in texts) and not any("13812345678" in t for t in texts)
    assert ["https://img.example.com/c.jpg"] in [n["attachments"] for n in pack["notes"]]
    # ... and the buyer's history
    buyer = pack["buyer"]
    assert (buyer["orders"], buyer["cancelled"], buyer["orders_refunded"]) == (2, 1, 1)
    assert buyer["refunded_total"] == 2000 and buyer["credit_score"] == 95
    assert [(c["kind"], c["before"], c["after"]) for c in buyer["credit_changes"]] == [
        ("cancel_after_hold", 100, 95)]
    # ... with the address masked in both files
    markdown = files.markdown_path.read_text()
    assert "Wensan" not in markdown + files.json_path.read_text()
    assert "## Risk decision: review" in markdown and "screen cracked" in markdown


def test_the_cli_writes_the_pack_and_notes_can_be_added_from_it(client, shop, tmp_path):
    oid = played_out_order(client, shop)
    url = str(shop.context.engine.url)
    runner = CliRunner()
    added = runner.invoke(app, ["note", "add", oid, "platform ticket 7781", "--by", "amy",
                                "--db", url])
    assert added.exit_code == 0, added.output
    written = runner.invoke(app, ["evidence", oid, "--out", str(tmp_path), "--db", url])
    assert written.exit_code == 0, written.output
    pack = json.loads((tmp_path / f"{oid}-evidence.json").read_text())
    assert pack["notes"][-1]["text"] == "platform ticket 7781"
    assert "Wensan" not in json.dumps(pack)  # masked by default
    # and --reveal-pii writes the street as recorded
    revealed = runner.invoke(app, ["evidence", oid, "--out", str(tmp_path / "revealed"),
                                   "--reveal-pii", "--db", url])
    assert revealed.exit_code == 0, revealed.output
    assert "Wensan" in (tmp_path / "revealed" / f"{oid}-evidence.json").read_text()


def test_a_note_with_a_bad_author_or_unknown_order_is_refused(shop):
    with pytest.raises(NotFound):
        add_note(shop, "o-999", "hello", by="amy")
    from orderpilot import InvalidInput

    with pytest.raises(InvalidInput) as error:
        add_note(shop, "o-999", "", by="a b")
    assert set(error.value.problems) == {"text", "author"}
