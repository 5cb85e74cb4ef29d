"""`orderpilot import orders FILE` end to end: JSON Lines, a CSV export with Chinese headers
through a column map, WooCommerce's REST JSON; per-row errors; a second run adds nothing."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from orderpilot import OrderPilot
from orderpilot.cli import app
from statemachine.risk_port import approve_everything

ADDRESS = {"recipient": "王芳", "phone": "13912345678", "province": "浙江省", "city": "杭州市",
           "district": "西湖区", "street": "文三路 18 号"}


def shop(tmp_path: Path) -> tuple[str, OrderPilot]:
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    pilot = OrderPilot(db, risk_check=approve_everything)
    pilot.inventory.receive(sku="TEA-01", warehouse="WH-HZ", quantity=50)
    pilot.inventory.receive(sku="CUP-02", warehouse="WH-HZ", quantity=50)
    return db, pilot


def jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n",
                    encoding="utf-8")
    return path


def order(ext: str, *lines: tuple[str, int, str], paid: str | None = None, **extra) -> dict:
    record = {"external_id": ext, "buyer_id": f"pdd-{ext}", "shipping_address": ADDRESS,
              "lines": [{"sku": s, "quantity": q, "unit_price": p} for s, q, p in lines],
              **extra}
    if paid:
        record["paid"] = {"amount": paid, "payment_ref": f"wx-{ext}"}
    return record


def test_a_jsonl_import_reports_each_bad_row_and_a_second_run_adds_nothing(tmp_path):
    db, pilot = shop(tmp_path)
    file = jsonl(tmp_path / "pdd.jsonl", [
        order("A1", ("TEA-01", 2, "39.90"), paid="89.80"),        # goods 79.80 + shipping
        order("A2", ("CUP-02", 1, "15")),                           # placed, not paid
        order("A3", ("NOPE-9", 1, "1.00")),                         # unknown sku
        order("A4", ("TEA-01", 1, "3.999")),                        # a fraction of a fen
        order("A5", ("TEA-01", 1, "39.90"), paid="10.00"),          # part payment
        {"external_id": "A6", "lines": [{"sku": "TEA-01", "quantity": 1, "unit_price": "1"}]},
    ])
    with file.open("a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    runner = CliRunner()
    first = runner.invoke(app, ["import", "orders", str(file), "--db", db, "--source", "pdd"])
    assert first.exit_code == 1, first.output
    with (tmp_path / "pdd.jsonl.errors.csv").open(encoding="utf-8") as handle:
        report = list(csv.DictReader(handle))
    problems = {(r["rows"], r["field"]) for r in report}
    assert problems == {("3", "lines[0].sku"), ("4", "lines[0].unit_price"),
                        ("5", "paid.amount"), ("6", "buyer_id"),
                        ("7", "line")}
    assert "placed and paid" in first.output and "error" in first.output
    a1 = pilot.orders.get("o-1")
    assert (a1.state, a1.paid, a1.total, a1.buyer_id) == ("paid", 7980, 7980, "pdd-A1")
    assert pilot.orders.get("o-2").state == "awaiting_payment"
    # When the same file is imported again
    again = runner.invoke(app, ["import", "orders", str(file), "--db", db, "--source", "pdd"])
    # Then nothing new is placed
    assert "already imported" in again.output
    with pilot.context.tx(readonly=True) as tx:
        assert tx.store.sql.one("SELECT count(*) FROM orders")[0] == 2
    pilot.close()


def test_a_csv_export_with_chinese_headers_is_read_through_a_column_map(tmp_path):
    db, pilot = shop(tmp_path)
    rows = [["订单号", "手机", "收货人", "省", "市", "区", "详细地址", "商品编码", "数量", "单价",
             "实付金额", "支付单号", "下单时间"],
            ["T100", "13900001111", "李雷", "江苏省", "南京市", "鼓楼区", "中山路 1 号", "TEA-01",
             "1", "39.90", "54.90", "ali-1", "2026-11-10T20:15:00+08:00"],
            ["T100", "13900001111", "李雷", "江苏省", "南京市", "鼓楼区", "中山路 1 号", "CUP-02",
             "1", "15.00", "54.90", "ali-1", "2026-11-10T20:15:00+08:00"],
            ["T101", "13900002222", "韩梅梅", "广东省", "深圳市", "南山区", "科技园 8 栋", "TEA-01",
             "x", "39.90", "", "", ""]]
    with (tmp_path / "taobao.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    mapping = {"订单号": "external_id", "手机": "phone", "收货人": "recipient", "省": "province",
               "市": "city", "区": "district", "详细地址": "street", "商品编码": "sku",
               "数量": "quantity", "单价": "unit_price", "实付金额": "paid_amount",
               "支付单号": "payment_ref", "下单时间": "created_at"}
    (tmp_path / "map.json").write_text(json.dumps(mapping, ensure_ascii=False), "utf-8")
    result = CliRunner().invoke(app, ["import", "orders", str(tmp_path / "taobao.csv"), "--db",
                                      db, "--columns", str(tmp_path / "map.json"),
                                      "--source", "taobao"])
    assert result.exit_code == 1
    order = pilot.orders.get("o-1")
    assert (order.state, order.total, len(order.lines)) == ("paid", 5490, 2)
    assert order.created_at == datetime(2026, 11, 10, 12, 15, tzinfo=UTC)
    assert order.buyer_id.startswith("taobao-")  # derived from the phone, which is not stored
    assert order.shipping_address["city"] == "南京市"
    report = (tmp_path / "taobao.csv.errors.csv").read_text(encoding="utf-8")
    assert "4,T101,lines[0].quantity" in report
    pilot.close()


def test_woocommerce_orders_import_from_their_rest_json(tmp_path):
    db, pilot = shop(tmp_path)
    woo = [{"id": 727, "status": "processing", "currency": "CNY", "total": "49.90",
            "customer_id": 26, "customer_ip_address": "203.0.113.9",
            "date_created_gmt": "2026-11-11T01:58:00",
            "date_paid": "2026-11-11T10:00:00", "transaction_id": "alipay-2026-727",
            "billing": {"email": "buyer@example.cn", "phone": "13800138000"},
            "shipping": {"first_name": "芳", "last_name": "王", "address_1": "西湖区文三路 18 号",
                         "address_2": "", "city": "杭州市", "state": "浙江省",
                         "postcode": "310012", "country": "CN"},
            "line_items": [{"id": 315, "sku": "TEA-01", "quantity": 1, "price": 39.9,
                            "total": "39.90"}],
            "shipping_lines": [{"method_title": "顺丰", "total": "10.00"}]}]
    (tmp_path / "woo.json").write_text(json.dumps(woo, ensure_ascii=False), "utf-8")
    result = CliRunner().invoke(app, ["import", "orders", str(tmp_path / "woo.json"), "--db", db,
                                      "--format", "woocommerce", "--source", "woo"])
    assert result.exit_code == 0, result.output
    order = pilot.orders.get("o-1")
    assert (order.buyer_id, order.state, order.total) == ("woo-26", "paid", 3990), order.risk
    assert order.shipping_address["recipient"] == "王 芳"
    assert order.created_at == datetime(2026, 11, 11, 1, 58, tzinfo=UTC)  # WooCommerce's, UTC
    pilot.close()


def test_an_amount_too_large_to_scale_is_one_bad_row_and_the_rest_are_imported(tmp_path):
    # Before: decimal.Overflow (or int()'s 4,300-digit limit for paid.amount) ended the import
    # with a traceback at that row; the rows after it were never read
    db, pilot = shop(tmp_path)
    file = jsonl(tmp_path / "pdd.jsonl", [
        order("B1", ("TEA-01", 1, "1e999999")),
        order("B2", ("TEA-01", 1, "39.90"), paid="9" * 5000),
        order("B3", ("TEA-01", 1, "39.90")),
    ])
    result = CliRunner().invoke(app, ["import", "orders", str(file), "--db", db])
    assert isinstance(result.exception, SystemExit), result.exception  # exit 1, no traceback
    assert result.exit_code == 1, result.output
    with (tmp_path / "pdd.jsonl.errors.csv").open(encoding="utf-8") as handle:
        report = {(r["rows"], r["field"]) for r in csv.DictReader(handle)}
    assert report == {("1", "lines[0].unit_price"), ("2", "paid.amount")}
    assert pilot.orders.get("o-1").total == 3990  # B3, after the bad rows
    pilot.close()


def test_orders_without_buyer_ids_from_one_phone_written_three_ways_are_one_buyer(tmp_path):
    # Before: the buyer was a hash of the phone's digits as written, so +86 139 1234 5678,
    # 13912345678 and full-width digits made three buyers: velocity, credit and a blocked
    # buyer counted each order apart
    db, pilot = shop(tmp_path)
    records = [order(ext, ("TEA-01", 1, "39.90")) for ext in ("P1", "P2", "P3")]
    phones = ("+86 139 1234 5678", "13912345678", "１３９－１２３４－５６７８")
    for record, phone in zip(records, phones, strict=True):
        del record["buyer_id"]
        record["shipping_address"] = {**ADDRESS, "phone": phone}
    result = CliRunner().invoke(app, ["import", "orders", str(jsonl(tmp_path / "p.jsonl", records)),
                                      "--db", db, "--source", "pdd"])
    assert result.exit_code == 0, result.output
    buyers = {pilot.orders.get(f"o-{n}").buyer_id for n in (1, 2, 3)}
    assert len(buyers) == 1, buyers
    pilot.close()


def test_an_order_in_a_code_that_is_not_money_is_reported_on_its_row(tmp_path):
    # Given an export whose second row is in ISO's test code
    db, pilot = shop(tmp_path)
    file = jsonl(tmp_path / "pdd.jsonl", [order("C1", ("TEA-01", 1, "39.90"), currency="CNY"),
                                          order("C2", ("TEA-01", 1, "39.90"), currency="XTS")])
    # When it is imported
    done = CliRunner().invoke(app, ["import", "orders", str(file), "--db", db])
    # Then the first row is placed, the second reported naming currency, and not placed
    assert done.exit_code == 1, done.output
    with (tmp_path / "pdd.jsonl.errors.csv").open(encoding="utf-8") as handle:
        report = list(csv.DictReader(handle))
    assert [(r["rows"], r["field"]) for r in report] == [("2", "currency")]
    assert "not a currency a shop charges in" in report[0]["problem"]
    with pilot.context.tx(readonly=True) as tx:
        assert tx.store.sql.one("SELECT count(*) FROM orders")[0] == 1
    pilot.close()


def test_a_payment_id_no_provider_takes_is_one_bad_row_and_places_nothing(tmp_path):
    # Given an export whose payment number is written in Chinese (its refund key would carry
    # it to the provider: printable ASCII only)
    db, pilot = shop(tmp_path)
    bad = order("C1", ("TEA-01", 1, "39.90"), paid="39.90")
    bad["paid"]["payment_ref"] = "微信支付-4200001"
    file = jsonl(tmp_path / "pdd.jsonl", [bad, order("C2", ("TEA-01", 1, "39.90"))])
    # When it is imported
    result = CliRunner().invoke(app, ["import", "orders", str(file), "--db", db])
    # Then the row is reported naming paid.payment_ref, and only the next row is placed
    assert result.exit_code == 1, result.output
    with (tmp_path / "pdd.jsonl.errors.csv").open(encoding="utf-8") as handle:
        report = list(csv.DictReader(handle))
    assert {(r["rows"], r["field"]) for r in report} == {("1", "paid.payment_ref")}
    assert "printable ASCII" in report[0]["problem"]
    with pilot.context.tx(readonly=True) as tx:
        assert tx.store.sql.one("SELECT count(*) FROM orders")[0] == 1
    pilot.close()
