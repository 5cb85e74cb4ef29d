"""`orderpilot payments reconcile`: finance compares Alipay's trade bill (业务明细, GBK) for a
Beijing day with the shop's books from the command line — a file, or the bill downloaded through
Alipay's API (the SDK against the local stand-in, configured from the environment)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from typer.testing import CliRunner

from integrations.service.checkout import capture_order, open_checkout
from orderpilot import ManualClock, OrderPilot
from orderpilot.cli import app
from statemachine.risk_port import approve_everything
from tests.fakes.alipay_api import APP_ID, DOWNLOAD_PATH, SELLER_ID, FakeAlipay
from tests.fakes.alipay_bill import BillRow, bill_zip, trade_bill
from tests.integration.payments.conftest import alipay_gateway_for

RUN = CliRunner()
DAY = date(2026, 11, 26)
PAID_AT = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # 11:00 in Beijing


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Iterator[tuple[str, list[BillRow]]]:
    """A store with one order of 西湖龙井 paid by Alipay, and the bill row Alipay would write
    (one store for the module: reconciling reads only)."""
    db = f"sqlite:///{tmp_path_factory.mktemp('shop') / 'shop.db'}"
    with FakeAlipay() as fake:
        pilot = OrderPilot(db, clock=ManualClock(PAID_AT), risk_check=approve_everything,
                           gateway=alipay_gateway_for(fake))
        pilot.inventory.receive(sku="TEA-LJ", warehouse="WH-HZ", quantity=5)
        order = pilot.orders.place(
            buyer_id="b-1", lines=[{"sku": "TEA-LJ", "quantity": 1, "unit_price": 29900}],
            shipping_address={"province": "浙江省", "city": "杭州市", "street": "文三路 18 号"},
            currency="CNY")
        open_checkout(pilot.context, int(order.id[2:]))
        trade = fake.pay(order.id)
        capture_order(pilot.context, int(order.id[2:]))
        pilot.close()
    yield db, [BillRow(trade["trade_no"], order.id, "交易", 29900, PAID_AT, "西湖龙井 250克")]


def reconcile(db: str, bill: bytes, tmp_path, *extra: str):
    path = tmp_path / "20881234_20261126_业务明细.csv"
    path.write_bytes(bill)
    return RUN.invoke(app, ["payments", "reconcile", "--day", "2026-11-26", "--provider",
                            "alipay", "--file", str(path), "--db", db, *extra])


def test_a_day_that_agrees_exits_0_with_the_fees(shop, tmp_path):
    db, rows = shop
    result = reconcile(db, trade_bill(rows, DAY), tmp_path)
    assert result.exit_code == 0, result.output
    assert "1 matched, 0 differences" in result.output
    assert "fees ¥1.79" in result.output and "the books agree" in result.output


def test_differences_exit_1_and_are_written_as_json_and_csv(shop, tmp_path):
    db, rows = shop
    # Given Alipay's bill also shows a sale from the shop's counter we never recorded
    rows = [*rows, BillRow("2026112622009", "门店-17", "交易", 6800, PAID_AT, "线下扫码")]
    out = tmp_path / "differences.csv"
    result = reconcile(db, trade_bill(rows, DAY), tmp_path, "--json", "--csv", str(out))
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["summary"]["by_kind"] == {"missing_here": 1}
    [row] = report["differences"]
    assert (row["payment"], row["theirs"], row["at"]) == ("门店-17", 6800,
                                                         "2026-11-26T03:00:00+00:00")
    with out.open(encoding="utf-8-sig") as f:
        assert [r["payment"] for r in csv.DictReader(f)] == ["门店-17"]


def test_a_bad_bill_is_one_line_naming_the_line_and_column_exit_2(shop, tmp_path):
    db, rows = shop
    bill = trade_bill(rows, DAY).replace(b"299.00", b"29x.00", 1)
    result = reconcile(db, bill, tmp_path)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: invalid input: ")
    assert "line 2 订单金额（元）: not an amount" in " ".join(result.output.split())
    missing = RUN.invoke(app, ["payments", "reconcile", "--day", "2026-11-26", "--provider",
                               "alipay", "--file", str(tmp_path / "none.csv"), "--db", db])
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_without_a_file_a_provider_that_is_not_configured_is_refused(shop):
    db, _ = shop
    result = RUN.invoke(app, ["payments", "reconcile", "--day", "2026-11-26", "--provider",
                              "alipay", "--db", db])
    assert result.exit_code == 2
    assert "give its settlement file" in " ".join(result.output.split())


@pytest.fixture
def alipay_account(monkeypatch) -> Iterator[FakeAlipay]:
    """The shop's Alipay account, set in the environment as a shop would, pointed at the
    local stand-in (the same generated keys as the one the order was paid through)."""
    with FakeAlipay() as fake:
        for name, value in {"PROVIDER": "alipay", "ALIPAY_APP_ID": APP_ID,
                            "ALIPAY_APP_PRIVATE_KEY": fake.app_private,
                            "ALIPAY_PUBLIC_KEY": fake.alipay_public,
                            "ALIPAY_SELLER_ID": SELLER_ID,
                            "ALIPAY_GATEWAY_URL": fake.gateway, "TIMEOUT_SECONDS": "2"}.items():
            monkeypatch.setenv(f"ORDERPILOT_PAYMENTS_{name}", value)
        yield fake


def test_without_a_file_alipays_bill_of_the_day_is_downloaded(shop, alipay_account):
    db, rows = shop
    # Given Alipay has written the bill of 2026-11-26
    alipay_account.bills["2026-11-26"] = bill_zip(trade_bill(rows, DAY), DAY)
    # When finance reconciles the day without a file
    result = RUN.invoke(app, ["payments", "reconcile", "--day", "2026-11-26", "--provider",
                              "alipay", "--db", db])
    # Then the bill was downloaded and the books agree
    assert result.exit_code == 0, result.output
    assert "1 matched, 0 differences" in result.output and "the books agree" in result.output
    assert len(alipay_account.calls("GET", DOWNLOAD_PATH)) == 1


def test_a_bill_not_written_yet_exits_3_saying_retry_later(shop, alipay_account):
    db, _ = shop
    result = RUN.invoke(app, ["payments", "reconcile", "--day", "2026-11-26", "--provider",
                              "alipay", "--db", db])
    assert result.exit_code == 3, result.output
    text = " ".join(result.output.split())
    assert text.startswith("error: alipay has no trade bill for 2026-11-26 yet")
    assert "retry later" in text and "PRIVATE KEY" not in text


def test_a_bill_without_its_detail_file_exits_2_naming_what_it_held(shop, alipay_account):
    db, _ = shop
    alipay_account.bills["2026-11-26"] = bill_zip(None, DAY)
    result = RUN.invoke(app, ["payments", "reconcile", "--day", "2026-11-26", "--provider",
                              "alipay", "--db", db])
    assert result.exit_code == 2, result.output
    assert "业务明细(汇总).csv" in result.output


def test_the_money_sweep_from_the_command_line_has_nothing_left_to_do(shop):
    db, _ = shop  # the one payment settled at once: nothing pending, nothing abandoned
    result = RUN.invoke(app, ["payments", "sweep", "--db", db])
    assert result.exit_code == 0, result.output
    assert "0 retried and settled, 0 released" in result.output


def test_refunds_left_for_later_from_the_command_line_none_owed(shop):
    db, _ = shop  # its one order was paid and not cancelled: nothing left for later
    result = RUN.invoke(app, ["payments", "owed", "--db", db])
    assert result.exit_code == 0, result.output
    assert "no refund owed" in result.output
    as_json = RUN.invoke(app, ["payments", "owed", "--db", db, "--json"])
    assert as_json.exit_code == 0 and json.loads(as_json.output) == []


@pytest.fixture(scope="module")
def disputed(tmp_path_factory) -> str:
    """A store with a shipped order the buyer's bank disputes (reported by the provider)."""
    from datetime import timedelta

    from integrations.ingest.money_events import apply_money_event
    from integrations.payments.simulated import SimulatedGateway
    from statemachine.ports import MoneyEvent

    db = f"sqlite:///{tmp_path_factory.mktemp('disputed') / 'shop.db'}"
    clock = ManualClock(PAID_AT)
    pilot = OrderPilot(db, clock=clock, risk_check=approve_everything,
                       gateway=SimulatedGateway(now=clock.now))
    pilot.inventory.receive(sku="TEA-LJ", warehouse="WH-HZ", quantity=5)
    order = pilot.orders.place(
        buyer_id="b-1", lines=[{"sku": "TEA-LJ", "quantity": 1, "unit_price": 29900}],
        shipping_address={"province": "浙江省", "city": "杭州市", "street": "文三路 18 号"},
        currency="CNY")
    capture_order(pilot.context, int(order.id[2:]))
    for trigger in ("start_picking", "pack"):
        pilot.orders.fire(order.id, trigger)
    pilot.orders.fire(order.id, "ship", parcels=[{"carrier": "SF", "tracking_no": "SF88"}])
    payment_ref = pilot.orders.get(order.id).payment_ref
    apply_money_event(pilot.context, MoneyEvent(
        "simulated", "evt-dp-1", "dispute_opened", payment_ref, 29900, "CNY", PAID_AT,
        order_id=order.id, dispute_ref="sim-dp-000001", reason="product_not_received",
        due_by=PAID_AT + timedelta(days=3650)))
    pilot.close()
    return db


def test_finance_answers_a_dispute_from_the_command_line(disputed):
    listed = RUN.invoke(app, ["dispute", "list", "--db", disputed, "--json"])
    assert listed.exit_code == 0, listed.output
    [dispute] = json.loads(listed.output)
    assert (dispute["id"], dispute["kind"], dispute["state"], dispute["amount"]) == (
        "d-1", "chargeback", "opened", 29900)
    prepared = RUN.invoke(app, ["dispute", "prepare", "d-1", "--by", "finance:li", "--db",
                                disputed, "--policy", "7 天无理由退货"])
    assert prepared.exit_code == 0, prepared.output
    assert "shipping_tracking_number: SF88" in prepared.output
    assert "refund_policy: 7 天无理由退货" in prepared.output
    refused = RUN.invoke(app, ["dispute", "submit", "d-1", "--by", "system:cron", "--db",
                               disputed])
    assert refused.exit_code == 2 and "a person must confirm" in " ".join(
        refused.output.split())
    submitted = RUN.invoke(app, ["dispute", "submit", "d-1", "--by", "finance:li", "--db",
                                 disputed])
    assert submitted.exit_code == 0, submitted.output
    assert "d-1 is now submitted" in submitted.output
