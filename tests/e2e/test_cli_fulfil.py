"""The fulfilment CLI end to end on a SQLite file: wave, pick list, short pick, adjust, claim."""

from __future__ import annotations

import csv
import io

from typer.testing import CliRunner

from orderpilot.cli import app
from tests.factories import paid_order, shipped_order, stock


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_warehouse_lead_runs_a_wave_from_the_command_line(pilot, sqlite_url):
    # Given two paid orders in WH-A (made through the API on the same database file)
    stock(pilot, "SKU-1", "WH-A", 10)
    first, second = paid_order(pilot, buyer="b-1").id, paid_order(pilot, buyer="b-2").id
    run("sku", "locate", "SKU-1", "WH-A", "C-03-1", "--db", sqlite_url)
    # When the lead creates, lists and releases a wave and prints its pick list
    assert "wave w-1 WH-A" in run("wave", "create", "WH-A", "--db", sqlite_url, "--by", "lead")
    assert "w-1" in run("wave", "list", "--db", sqlite_url)
    picklist = run("wave", "picklist", "w-1", "--db", sqlite_url)
    released = run("wave", "release", "w-1", "--db", sqlite_url, "--by", "lead")
    # Then the pick list is CSV and both orders are picking
    assert list(csv.DictReader(io.StringIO(picklist))) == [
        {"sku": "SKU-1", "location": "C-03-1", "quantity": "4", "orders": f"{first} {second}"}]
    assert f"{first}: picking" in released and f"{second}: picking" in released
    assert pilot.orders.get(first).state == "picking"


def test_short_pick_adjustment_and_lost_parcel_from_the_command_line(pilot, sqlite_url):
    stock(pilot, "SKU-1", "WH-A", 10)
    order = paid_order(pilot)
    pilot.orders.fire(order.id, "start_picking")
    out = run("pick", "short", order.id, "SKU-1", "WH-A", "2", "--db", sqlite_url,
              "--reason", "bin empty", "--by", "picker")
    assert "backordered" in out  # no other warehouse has SKU-1
    run("stock", "adjust", "--kind", "damage", "--reason", "dropped", "--db", sqlite_url,
        "--", "SKU-1", "WH-A", "-1")  # `--` lets a negative delta through
    assert "dropped" in run("stock", "adjustments", "--db", sqlite_url)
    assert "'adjusted': -3" in run("stock", "ledger", "--db", sqlite_url)
    parcel_order = shipped_order(pilot, buyer="b-2", quantity=1)
    [parcel] = pilot.shipments.of_order(parcel_order.id)
    pilot.shipments.fire(parcel.id, "pick_up")
    assert "cl-1: buyer compensated by refund; claim filed" in run(
        "claim", "lost", parcel.id, "--db", sqlite_url)
    assert '"state": "paid"' in run("claim", "fire", "cl-1", "carrier_pay", "-p", "amount=100",
                                    "--db", sqlite_url)
    assert "100.0%" in run("carrier-kpis", "--db", sqlite_url)  # its one parcel was lost
    assert "cl-1" in run("claim", "list", "--db", sqlite_url)


def test_bad_input_is_one_red_line_and_exit_code_2(sqlite_url):
    result = CliRunner().invoke(app, ["stock", "adjust", "SKU-1", "WH-A", "0", "--reason", "x",
                                      "--db", sqlite_url])
    assert result.exit_code == 2 and "delta" in result.output
