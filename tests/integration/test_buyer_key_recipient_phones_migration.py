"""Migration 0038: the install's buyer-id key is generated once — each store its own, kept
through a downgrade and the next upgrade (a key made again would make every imported email a
new buyer); orders placed before 0034 get their recipient's number in the risk facts when it
is another than the buyer's, normalised as placement does (+86), kept by a downgrade."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select, text, update

from integrations.db.engine import make_engine
from integrations.db.migrate import alembic_config, upgrade
from integrations.db.schema import OrderRow
from integrations.db.schema_risk import RiskOrderFactsRow
from orderpilot import OrderPilot
from tests.factories import order_request, stock

BEFORE = "0036_subscription_ids_not_reused"
ORDERS, FACTS = OrderRow.__table__, RiskOrderFactsRow.__table__
KEY = "SELECT value FROM install_secrets WHERE name = 'buyer_ids'"


def _to(url: str, revision: str, down: bool = False) -> None:
    engine, config = make_engine(url), alembic_config(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)
    engine.dispose()


def _key(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text(KEY)).scalar_one()
    engine.dispose()
    return value


def test_the_buyer_key_is_made_once_and_kept_through_a_downgrade(empty_url):
    # Given a store brought to the head from nothing
    engine = make_engine(empty_url)
    upgrade(engine)
    engine.dispose()
    made = _key(empty_url)
    # When it is taken back before 0038 and upgraded again
    _to(empty_url, BEFORE, down=True)
    _to(empty_url, "head")
    # Then the key is the one made first: 32 random bytes, written as hex
    assert _key(empty_url) == made
    assert len(bytes.fromhex(made)) == 32


def test_each_store_makes_its_own_key(empty_sqlite_url, tmp_path):
    other = f"sqlite:///{tmp_path / 'other.db'}"
    for url in (empty_sqlite_url, other):
        _to(url, "head")
    assert _key(empty_sqlite_url) != _key(other)


def _placed(url: str, clock, orders: list[dict]) -> list[int]:
    """Orders placed by today's code (the risk rules on), their numbers."""
    pilot = OrderPilot(url, clock=clock)
    try:
        stock(pilot, quantity=100)
        return [int(pilot.orders.place(**order_request(quantity=1, **o)).id[2:])
                for o in orders]
    finally:
        pilot.close()


def _as_before_0034(url: str, order_ids: list[int], recipient: dict[int, str | None]) -> None:
    """The orders as code before 471f8d6 kept them: no `attrs.recipient_phone`, no
    recipient_phone_norm (and the address's number as given in `recipient`, when named)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        for order_id in order_ids:
            attrs = conn.execute(select(ORDERS.c.attrs).where(
                ORDERS.c.id == order_id)).scalar_one()
            attrs.pop("recipient_phone", None)
            if order_id in recipient:
                attrs["shipping_address"].pop("phone", None)
                if recipient[order_id] is not None:
                    attrs["shipping_address"]["phone"] = recipient[order_id]
            conn.execute(update(ORDERS).where(ORDERS.c.id == order_id).values(attrs=attrs))
            conn.execute(update(FACTS).where(FACTS.c.order_id == order_id).values(
                recipient_phone_norm=None))
    engine.dispose()


def _numbers(url: str) -> dict[int, tuple[str | None, str | None]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(FACTS.c.order_id, FACTS.c.phone_norm,
                                   FACTS.c.recipient_phone_norm)).all()
    engine.dispose()
    return {r[0]: (r[1], r[2]) for r in rows}


def _address(n: int, phone: str | None) -> dict:
    return {"province": "浙江省", "city": "杭州市", "district": "西湖区",
            "street": f"文三路{n + 1}号", "recipient": f"张{n}",
            **({"phone": phone} if phone else {})}


def test_old_orders_get_the_recipients_number_when_it_is_another(empty_url, clock):
    # Given orders placed before 0034 (one number kept: the buyer's, else the recipient's):
    # a buyer's own number beside the ring's written 0086-…, no own number, the same number
    # twice, a recipient's number placement never read then (not a number), no recipient's
    # number; and one placed since 0034, left as placed
    _to(empty_url, "head")
    orders = [{"buyer": "b-1", "phone": "139 1111 0001",
               "shipping_address": _address(1, "0086-138-0013-8000")},
              {"buyer": "b-2", "shipping_address": _address(2, "138 0013 8002")},
              {"buyer": "b-3", "phone": "13922220003",
               "shipping_address": _address(3, "+86 139 2222 0003")},
              {"buyer": "b-4", "phone": "13933330004", "shipping_address": _address(4, None)},
              {"buyer": "b-5", "phone": "13944440005", "shipping_address": _address(5, None)},
              {"buyer": "b-6", "phone": "13955550006",
               "shipping_address": _address(6, "13800138000")}]
    a, b, c, d, e, since = _placed(empty_url, clock, orders)
    _to(empty_url, BEFORE, down=True)
    _as_before_0034(empty_url, [a, b, c, d, e], {d: "12345", e: None})
    # When the store is upgraded
    _to(empty_url, "head")
    upgraded = _numbers(empty_url)
    # Then only the first old order gains a number: the recipient's, in E.164 (+86); the one
    # placed since keeps what placement wrote
    assert upgraded == {a: ("+8613911110001", "+8613800138000"),
                        b: ("+8613800138002", None), c: ("+8613922220003", None),
                        d: ("+8613933330004", None), e: ("+8613944440005", None),
                        since: ("+8613955550006", "+8613800138000")}
    # And a downgrade keeps the numbers, and the next upgrade changes nothing
    _to(empty_url, BEFORE, down=True)
    assert _numbers(empty_url) == upgraded
    _to(empty_url, "head")
    assert _numbers(empty_url) == upgraded


def test_a_ring_behind_old_orders_is_counted_after_the_upgrade(empty_url, clock):
    # Given three accounts that ordered this morning, before 0034, each giving their own
    # number and shipping to the ring's collecting phone
    _to(empty_url, "head")
    old = _placed(empty_url, clock, [
        {"buyer": f"b-ring-{n}", "phone": f"139 0000 000{n}", "device_id": f"d-{n}",
         "shipping_address": _address(n, "+86 138 0013 8000")} for n in range(3)])
    _to(empty_url, BEFORE, down=True)
    _as_before_0034(empty_url, old, {})
    # When the store is upgraded and a fourth account orders to the ring's phone an hour later
    _to(empty_url, "head")
    clock.advance(hours=1)
    pilot = OrderPilot(empty_url, clock=clock)
    try:
        fourth = pilot.orders.place(**order_request(
            buyer="b-ring-3", quantity=1, phone="139 0000 0003",
            shipping_address=_address(3, "13800138000")))
    finally:
        pilot.close()
    # Then it waits for a person: the three old orders count by their recipient's number
    assert fourth.state == "under_review"
    [reason] = [r for r in fourth.risk["reasons"] if r["rule"] == "phone_velocity"]
    assert reason["text"] == "recipient's phone 138****8000 on orders of 3 other buyers in " \
                             "86400 s"
