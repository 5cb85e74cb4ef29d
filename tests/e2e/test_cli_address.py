"""`orderpilot order address`: correct an order's address before it ships, through the real
CLI on a SQLite file."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from integrations.ingest.imports import import_record
from orderpilot import OrderPilot
from orderpilot.cli import app
from tests.factories import placed_order, shipped_order, stock
from tests.integration.risk.test_address_contradictions import GUANGDONG_HANGZHOU, _record

runner = CliRunner()
FIELDS = ("--province", "浙江省", "--city", "杭州市", "--district", "西湖区",
          "--street", "文三路18号")


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_a_held_order_is_corrected_from_a_terminal_and_still_waits(sqlite_url, clock):
    # Given an imported order held for review: 广东省 / 杭州市 / 西湖区
    pilot = OrderPilot(sqlite_url, clock=clock)
    stock(pilot)
    held = import_record(pilot.context, _record("PDD-9", GUANGDONG_HANGZHOU), "pdd",
                         "import:pdd").order_id
    pilot.close()
    # When ops correct its province from a terminal
    code, out = cli("order", "address", held, *FIELDS, "--by", "mei", "--reason",
                    "买家来电确认", "--db", sqlite_url)
    # Then it ships to the corrected address and still waits for its reviewer
    assert code == 0, out
    assert f"{held} (under_review) now ships to 浙江省 杭州市 西湖区" in out
    assert "still waiting for its review" in out
    code, out = cli("order", "show", held, "--json", "--db", sqlite_url)
    shown = json.loads(out)
    assert shown["order"]["shipping_address"]["province"] == "浙江省"
    assert shown["order"]["address_corrected"]["by"] == "mei"
    assert shown["history"][-1]["trigger"] == "correct_address"


def test_a_contradiction_or_a_shipped_order_is_refused_naming_why(sqlite_url, clock):
    pilot = OrderPilot(sqlite_url, clock=clock)
    stock(pilot)
    shipped = shipped_order(pilot, shipping_address=GUANGDONG_HANGZHOU | {"province": "浙江省"})
    pilot.close()
    # a province that does not contain the city: one line naming the field, exit code 2
    code, out = cli("order", "address", shipped.id, *FIELDS[2:], "--province", "广东省",
                    "--by", "mei", "--db", sqlite_url)
    assert code == 2 and "address.province: 广东省 does not contain 杭州市 (浙江省)" in out
    # a good address for an order that has shipped: refused naming its state
    code, out = cli("order", "address", shipped.id, *FIELDS, "--by", "mei", "--db", sqlite_url)
    assert code == 2 and f"order {shipped.id} cannot correct_address from shipped" in out


def test_a_line_names_its_region_and_the_same_address_again_says_nothing_changed(sqlite_url,
                                                                                 clock):
    # Given an order awaiting payment
    pilot = OrderPilot(sqlite_url, clock=clock)
    stock(pilot)
    order = placed_order(pilot)
    pilot.close()
    # When ops correct it with one line
    line = ("--line", "浙江省杭州市西湖区文三路18号3单元")
    code, out = cli("order", "address", order.id, *line, "--by", "mei", "--db", sqlite_url)
    # Then the answer names the region the parser read (before: "the address given")
    assert code == 0, out
    assert f"{order.id} (awaiting_payment) now ships to 浙江省 杭州市 西湖区" in out
    # and the same line again says nothing changed (before: a second history row)
    code, out = cli("order", "address", order.id, *line, "--by", "mei", "--db", sqlite_url)
    assert code == 0, out
    assert f"{order.id} (awaiting_payment) already ships to 浙江省 杭州市 西湖区: nothing " \
           f"changed" in out
    code, out = cli("order", "show", order.id, "--json", "--db", sqlite_url)
    steps = [step["trigger"] for step in json.loads(out)["history"]]
    assert steps.count("correct_address") == 1
