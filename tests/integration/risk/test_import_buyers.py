"""File imports without buyer ids (platform exports: 拼多多 / 淘宝 order sheets) and the phone
rule: the buyer is what else identifies them — the email, else the phone at its address —
so a ring's accounts shipping to one collecting phone from their own addresses are several
buyers, and `phone_velocity` holds the fourth, as it would had the export named accounts."""

from __future__ import annotations

import csv
import hashlib
import hmac
from pathlib import Path

from sqlalchemy import text

from integrations.geo.addresses import parse_address
from integrations.ingest.imports import import_record
from integrations.ingest.order_files import read_orders
from orderpilot import OrderPilot
from tests.factories import stock

# a Pinduoduo-style export: Chinese headers, no buyer column, read through a column map
COLUMNS = {"订单号": "external_id", "商品编码": "sku", "数量": "quantity", "单价": "unit_price",
           "收货人": "recipient", "手机": "phone", "省": "province", "市": "city",
           "区": "district", "详细地址": "street", "邮箱": "email"}
RING_PHONE = "138 0013 8000"


def export(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
        writer.writeheader()
        for row in rows:
            writer.writerow({"商品编码": "SKU-1", "数量": "1", "单价": "39.90",
                             "省": "浙江省", "市": "杭州市", "区": "西湖区", "邮箱": "", **row})
    return path


def imported(pilot, path: Path) -> list:
    """Each row's order, imported as `orderpilot import orders` does."""
    results = [import_record(pilot.context, record, "pdd", "import:pdd")
               for record in read_orders(path, "csv", COLUMNS)]
    assert all(r.order_id for r in results), [r.problems for r in results]
    return [pilot.orders.get(r.order_id) for r in results]


def test_a_ring_imported_without_buyer_ids_is_held_by_its_collecting_phone(any_pilot, tmp_path):
    # Given an export of four orders from four addresses, each to its own recipient, all to
    # one collecting phone written four ways (before: the phone alone made the buyer, so the
    # four were one buyer and no other buyer was ever on the number)
    written = ("13800138000", "138-0013-8000", "+86 138 0013 8000", "0086 13800138000")
    stock(any_pilot, quantity=20)
    rows = [{"订单号": f"PDD-2611-{n}", "收货人": name, "手机": phone,
             "详细地址": f"文三路{n + 1}号"}
            for n, (name, phone) in enumerate(zip(("王芳", "李娜", "张伟", "刘洋"), written,
                                                  strict=True))]
    # When it is imported
    orders = imported(any_pilot, export(tmp_path / "pdd.csv", rows))
    # Then each address is its own buyer, and the fourth order waits for a person, the number
    # masked in its reason
    assert len({o.buyer_id for o in orders}) == 4
    assert [o.state for o in orders] == ["awaiting_payment"] * 3 + ["under_review"]
    [reason] = [r for r in orders[3].risk["reasons"] if r["rule"] == "phone_velocity"]
    assert reason["text"] == "recipient's phone 138****8000 on orders of 3 other buyers in " \
                             "86400 s"


def test_one_person_ordering_again_to_the_same_place_stays_one_buyer(any_pilot, tmp_path):
    # Given two orders to one phone at one address (the street written with and without its
    # province), and a third from the same phone to another address
    stock(any_pilot, quantity=20)
    rows = [{"订单号": "PDD-1", "收货人": "王芳", "手机": RING_PHONE, "详细地址": "文三路18号"},
            {"订单号": "PDD-2", "收货人": "王芳", "手机": "13800138000", "省": "",
             "详细地址": "文三路18号"},
            {"订单号": "PDD-3", "收货人": "王芳", "手机": RING_PHONE, "详细地址": "教工路8号"}]
    first, again, elsewhere = imported(any_pilot, export(tmp_path / "pdd.csv", rows))
    # Then the first two are one buyer (their velocity, credit and limits add up); the phone
    # at another address is another buyer
    assert first.buyer_id == again.buyer_id != elsewhere.buyer_id
    assert first.buyer_id.startswith("pdd-") and "13800138000" not in first.buyer_id


def test_an_email_identifies_the_buyer_before_the_phone(any_pilot, tmp_path):
    # Given two orders with one email to two phones and addresses, and one with another email
    # to the first phone and address
    stock(any_pilot, quantity=20)
    rows = [{"订单号": "PDD-1", "收货人": "王芳", "手机": RING_PHONE, "详细地址": "文三路18号",
             "邮箱": "wangfang@example.cn"},
            {"订单号": "PDD-2", "收货人": "王芳", "手机": "139 1234 5678",
             "详细地址": "教工路8号", "邮箱": " WangFang@Example.cn "},
            {"订单号": "PDD-3", "收货人": "李娜", "手机": RING_PHONE, "详细地址": "文三路18号",
             "邮箱": "lina@example.cn"}]
    one, same, other = imported(any_pilot, export(tmp_path / "pdd.csv", rows))
    # Then the email makes the buyer (written in any case), not the phone or the address
    assert one.buyer_id == same.buyer_id != other.buyer_id
    assert "example" not in one.buyer_id


def _install_key(pilot) -> bytes:
    with pilot.context.engine.connect() as conn:
        return bytes.fromhex(conn.execute(text(
            "SELECT value FROM install_secrets WHERE name = 'buyer_ids'")).scalar_one())


def _plain(identity: str) -> str:
    """The id d263df3 derived: an unsalted sha256, undone by hashing a list of known emails."""
    return "pdd-" + hashlib.sha256(identity.encode()).hexdigest()[:16]


def test_a_derived_buyer_id_is_keyed_by_the_install_not_a_plain_hash(any_pilot, tmp_path,
                                                                    caplog):
    # Given an export naming a buyer by email only, and another by phone at an address
    stock(any_pilot, quantity=20)
    rows = [{"订单号": "PDD-1", "收货人": "王芳", "手机": RING_PHONE, "详细地址": "文三路18号",
             "邮箱": "WangFang@example.cn"},
            {"订单号": "PDD-2", "收货人": "李娜", "手机": "139 1234 5678", "详细地址": "教工路8号"}]
    # When it is imported
    by_email, by_phone = imported(any_pilot, export(tmp_path / "pdd.csv", rows))
    # Then neither id is the plain sha256 a dictionary of emails or of phones undoes: each is
    # HMAC-SHA256 under the install's key, which no log line shows
    key = _install_key(any_pilot)
    email = "email:wangfang@example.cn"
    phone = "13912345678@" + _place_of({"recipient": "李娜", "phone": "139 1234 5678",
                                        "province": "浙江省", "city": "杭州市",
                                        "district": "西湖区", "street": "教工路8号"})
    assert by_email.buyer_id not in (_plain(email), _plain("wangfang@example.cn"))
    assert by_email.buyer_id == "pdd-" + hmac.new(key, email.encode(), "sha256").hexdigest()[:16]
    assert by_phone.buyer_id != _plain(phone)
    assert by_phone.buyer_id == "pdd-" + hmac.new(key, phone.encode(), "sha256").hexdigest()[:16]
    assert key.hex() not in caplog.text and len(key) == 32


def test_buyers_derived_before_the_key_keep_their_ids(any_pilot, tmp_path):
    # Given buyers an import derived before the key (plain sha256 of the email, and of the
    # phone at the address), each with an order
    stock(any_pilot, quantity=20)
    address = {"recipient": "王芳", "phone": RING_PHONE, "province": "浙江省",
               "city": "杭州市", "district": "西湖区", "street": "文三路18号"}
    old_email = _plain("email:wangfang@example.cn")
    old_phone = _plain("13800138000@" + _place_of(address))
    for buyer in (old_email, old_phone):
        any_pilot.orders.place(buyer_id=buyer, lines=[{"sku": "SKU-1", "quantity": 1,
                                                       "unit_price": 3990}],
                               shipping_address=address)
    # When an export names them again (the email in another case; the phone written another
    # way at the same place), and a new buyer by email
    rows = [{"订单号": "PDD-1", "收货人": "王芳", "手机": "139 0000 0001",
             "详细地址": "教工路8号", "邮箱": " WangFang@Example.cn "},
            {"订单号": "PDD-2", "收货人": "王芳", "手机": "+86 138-0013-8000",
             "详细地址": "文三路18号"},
            {"订单号": "PDD-3", "收货人": "李娜", "手机": "139 0000 0002",
             "详细地址": "教工路9号", "邮箱": "lina@example.cn"}]
    again_email, again_phone, new = imported(any_pilot, export(tmp_path / "pdd.csv", rows))
    # Then the known buyers keep their ids (their history, credit and lists still apply), and
    # only the new buyer gets a keyed id
    assert (again_email.buyer_id, again_phone.buyer_id) == (old_email, old_phone)
    assert new.buyer_id != _plain("email:lina@example.cn")
    assert new.buyer_id.startswith("pdd-") and len(new.buyer_id) == len(old_email)


def test_two_installs_derive_different_ids_for_one_email(empty_sqlite_url, tmp_path, clock):
    # Given two stores made from nothing (each generates its key once, migration 0038)
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    ids = []
    for url, folder in ((empty_sqlite_url, "a"), (other_url, "b")):
        pilot = OrderPilot(url, clock=clock)
        try:
            stock(pilot)
            (tmp_path / folder).mkdir()
            rows = [{"订单号": "PDD-1", "收货人": "王芳", "手机": RING_PHONE,
                     "详细地址": "文三路18号", "邮箱": "wangfang@example.cn"}]
            [order] = imported(pilot, export(tmp_path / folder / "pdd.csv", rows))
            ids.append(order.buyer_id)
        finally:
            pilot.close()
    # Then one email is two different buyers: a guess tested against one install's ids says
    # nothing without that install's key
    assert ids[0] != ids[1]


def _place_of(address: dict) -> str:
    return parse_address(address).key
