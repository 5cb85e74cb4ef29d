"""Turns are taken in ascending order of their locks' keys, each key once (turns.py): the
order every caller shares is that of the locks, whatever names they were made from."""

from __future__ import annotations

from hashlib import blake2b

from integrations.db import turns


class Recorded:
    """Stands in for the unit of work's Sql on PostgreSQL: records what it was asked to run."""

    sqlite = False

    def __init__(self):
        self.statements: list[tuple[str, dict]] = []

    def run(self, text: str, params: dict) -> None:
        self.statements.append((text, params))


def keys_sent(names: list[str], key=turns.turn_key) -> list[int]:
    sql = Recorded()
    turns.take(sql, [key(name) for name in names])
    [(text, params)] = sql.statements
    assert text == "SELECT " + ", ".join(f"pg_advisory_xact_lock(:k{n})"
                                         for n in range(len(params)))
    return [params[f"k{n}"] for n in range(len(params))]


def test_two_callers_naming_turns_in_opposite_orders_lock_them_in_one_order():
    names = ["placing:phone:+8613800138000", "placing:buyer:b-1", "placing:ip:10.0.0.7"]
    assert keys_sent(names) == keys_sent(names[::-1]) == sorted(map(turns.turn_key, names))


def test_names_whose_locks_collide_are_locked_once_and_in_key_order_by_every_caller():
    # Given a < b < c by name, a and c made into one lock (as hashtext made two phones)
    key = {"a": 7, "b": 3, "c": 7}.__getitem__
    # When one caller asks for (a, b) and another for (b, c)
    # Then both lock 3 then 7 — in name order (a, b) would have locked 7 then 3
    assert keys_sent(["a", "b"], key) == keys_sent(["b", "c"], key) == [3, 7]
    assert keys_sent(["a", "c", "b"], key) == [3, 7]


def test_a_turn_key_is_a_signed_64_bit_integer_the_same_in_every_process():
    key = turns.turn_key("waybill:SF:SF-0000050")
    assert -2 ** 63 <= key < 2 ** 63
    assert key == int.from_bytes(blake2b(b"waybill:SF:SF-0000050", digest_size=8).digest(),
                                 "big", signed=True)
    assert turns.turn_key("waybill:SF:SF-0000051") != key


def test_sqlite_takes_no_turn():
    sql = Recorded()
    sql.sqlite = True
    assert turns.take(sql, [1, 2]) == [] and sql.statements == []
