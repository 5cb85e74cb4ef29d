"""Replaying the fixture end to end on a real SQLite file: the product's timers decide."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from integrations.replay.olist import Timeline, read_timelines
from integrations.replay.report import Report
from integrations.replay.runner import ReplayOptions, replay
from statemachine.errors import InvalidInput

FIXTURE = Path(__file__).parents[2] / "fixtures" / "orders_small.csv"


def run(tmp_path: Path, name: str = "replay.db", **options: object) -> tuple[Report, Path]:
    db = tmp_path / name
    return replay(FIXTURE, ReplayOptions(f"sqlite:///{db}", **options)), db  # type: ignore[arg-type]


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def by_buyer(db: Path) -> dict[str, str]:
    return dict(rows(db, "SELECT buyer_id, state FROM orders"))


def stall_reasons(db: Path, buyer: str) -> list[str]:
    return [r[0] for r in rows(db, "SELECT json_extract(h.payload, '$.reason') FROM "
                                   "transition_history h JOIN orders o ON o.id = h.order_id "
                                   f"WHERE h.trigger = 'stall' AND o.buyer_id = '{buyer}' "
                                   "ORDER BY h.id")]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path]:
    return run(tmp_path_factory.mktemp("replay"))


def test_every_consistent_row_ends_in_the_state_its_history_leads_to(replayed) -> None:
    report, db = replayed
    assert by_buyer(db) == {
        "c-ontime": "completed", "c-late": "completed", "c-depot": "completed",
        "c-stuck": "shipped", "c-boleto": "completed", "c-split": "completed",
        "c-ce": "cancelled", "c-cp": "cancelled", "c-un": "cancelled", "c-inv": "paid",
        "c-proc": "paid", "c-created": "expired", "c-iso": "completed", "c-dmy": "completed",
        "c-nos": "completed", "c-off": "completed"}
    assert report.orders_by_state == {"completed": 9, "cancelled": 3, "paid": 2,
                                      "shipped": 1, "expired": 1}


def test_consistent_rows_cause_no_impossible_transition(replayed) -> None:
    report, _ = replayed
    assert report.impossible_transitions == 0 and report.other_errors == 0
    assert report.failures == []
    assert report.rows_read == 30 and report.rows_replayed == 16
    assert sum(report.skipped.values()) == 14


def test_a_delivery_after_the_promise_is_flagged_late_by_the_promised_delivery_timer(
        replayed) -> None:
    report, db = replayed
    # fx-late: handed over on the 3rd, promised for the 5th, delivered on the 6th
    assert stall_reasons(db, "c-late") == ["past the promised delivery date"]
    assert report.late_deliveries_flagged == 1
    actors = rows(db, "SELECT DISTINCT actor FROM transition_history WHERE trigger = 'stall'")
    assert actors == [("system:logistics-watch",)]


def test_the_same_delivery_with_a_later_promise_is_not_flagged(tmp_path: Path) -> None:
    # Given the fixture with fx-late's promise moved after its delivery
    text = FIXTURE.read_text().replace("2017-01-06 18:00:00,2017-01-05 00:00:00",
                                       "2017-01-06 18:00:00,2017-01-07 00:00:00")
    moved = tmp_path / "moved.csv"
    moved.write_text(text)
    # When it is replayed
    report = replay(moved, ReplayOptions(f"sqlite:///{tmp_path / 'm.db'}"))
    # Then nothing is late: the flag came from the timer, not from the file
    assert report.late_deliveries_flagged == 0
    assert stall_reasons(tmp_path / "m.db", "c-late") == []


def test_a_long_silent_transit_and_a_parcel_never_delivered_are_stalled(replayed) -> None:
    _, db = replayed
    assert stall_reasons(db, "c-depot")[-1] == "no carrier scan for too long"
    assert "no carrier scan for too long" in stall_reasons(db, "c-stuck")
    parcel = rows(db, "SELECT s.state FROM shipments s JOIN orders o ON o.id = s.order_id "
                      "WHERE o.buyer_id = 'c-stuck'")
    assert parcel == [("stalled",)]


def test_an_order_from_two_warehouses_ships_two_parcels_and_is_delivered_with_the_last(
        replayed) -> None:
    _, db = replayed
    parcels = rows(db, "SELECT s.warehouse, s.carrier, s.state FROM shipments s JOIN orders o "
                       "ON o.id = s.order_id WHERE o.buyer_id = 'c-split' ORDER BY s.warehouse")
    assert parcels == [("wh-mg", "sim-post", "delivered"), ("wh-rj", "sim-express", "delivered")]


def test_a_slow_payment_waits_in_payment_pending_with_one_transition(replayed) -> None:
    _, db = replayed
    # fx-boleto: approved 35 h 40 min after purchase; the gateway reports the payment started
    # a minute before the 20-minute hold lapses, and the order waits for it (72 h at most)
    steps = rows(db, "SELECT h.trigger FROM transition_history h JOIN orders o ON "
                     "o.id = h.order_id WHERE o.buyer_id = 'c-boleto' AND h.entity = 'order' "
                     "ORDER BY h.id")
    assert [s for (s,) in steps][:4] == ["place", "approve", "start_payment", "pay"]
    assert by_buyer(db)["c-boleto"] == "completed"


def test_without_pending_payments_the_product_expires_slow_payments(tmp_path: Path) -> None:
    report, db = run(tmp_path, pending_payments=False)
    assert by_buyer(db)["c-boleto"] == "expired"
    assert [f["trigger"] for f in report.failures] == ["pay"]
    assert "cannot pay from expired" in report.failures[0]["error"]
    assert (report.payments_after_deadline, report.impossible_transitions) == (1, 0)


def test_bulk_batches_and_per_transition_hourly_replays_leave_the_same_history(
        tmp_path: Path) -> None:
    # Given the reference: one transaction per trigger and a sweep every simulated hour
    _, reference = run(tmp_path, "ref.db", bulk=False, batching=False)
    # When the bulk path replays with sweeps only where a timer can be due
    _, fast = run(tmp_path, "fast.db")
    # Then every transition of every order and parcel matches, time and actor included
    query = ("SELECT o.buyer_id, h.entity, h.trigger, h.from_state, h.to_state, h.actor, h.at, "
             "json_extract(h.payload, '$.reason') FROM transition_history h JOIN orders o ON "
             "o.id = h.order_id ORDER BY o.buyer_id, h.at, h.entity, h.id")
    assert rows(fast, query) == rows(reference, query)
    deadlines = "SELECT kind, entity, due_at FROM deadlines ORDER BY due_at, kind"
    assert rows(fast, deadlines) == rows(reference, deadlines)
    # And the outbox carries the same events with the same payloads (ids aside)
    outbox = ("SELECT o.buyer_id, x.event, x.created_at, json_remove(x.payload, '$.entity_id', "
              "'$.order_id', '$.shipment_id') FROM outbox x JOIN orders o ON o.id = x.order_id "
              "ORDER BY o.buyer_id, x.created_at, x.event, x.payload")
    assert rows(fast, outbox) == rows(reference, outbox)
    states = "SELECT buyer_id, state, version, paid, hold_expires_at FROM orders ORDER BY 1"
    assert rows(fast, states) == rows(reference, states)
    # And the post-transition hooks (buyer credit events) ran the same way on both paths
    credit = ("SELECT buyer_id, kind, note, before, after, actor, at FROM risk_credit_events "
              "ORDER BY buyer_id, at, kind")
    assert rows(fast, credit) == rows(reference, credit)
    assert rows(fast, "SELECT count(*) FROM risk_credit_events")[0][0] >= 9  # completed+cancels


def test_replaying_into_a_store_that_holds_orders_is_refused(tmp_path: Path) -> None:
    run(tmp_path)
    with pytest.raises(InvalidInput, match="already holds 16 orders"):
        run(tmp_path)


def test_the_report_counts_what_the_source_says_only_for_comparison(replayed) -> None:
    report, _ = replayed
    kept = [t for t in read_timelines(FIXTURE) if isinstance(t, Timeline)]
    late_in_file = sum(1 for t in kept if t.delivered_at and t.promised_by
                       and t.delivered_at > t.promised_by)
    assert report.source_says["delivered_after_estimate"] == late_in_file == 1


HEADER = FIXTURE.read_text().splitlines()[0]


def test_a_promise_due_within_a_day_of_hand_over_is_caught_by_the_batched_replay(
        tmp_path: Path) -> None:
    # Given one order promised for midnight after a noon hand-over, delivered at 6 the next day
    lone = tmp_path / "lone.csv"
    lone.write_text(f"{HEADER}\nfx-lone,c-lone,delivered,2017-01-03 08:00:00,2017-01-03 "
                    "08:05:00,2017-01-03 12:00:00,2017-01-04 06:00:00,2017-01-04 00:00:00\n")
    for name, batching in (("batched.db", True), ("hourly.db", False)):
        # When it is replayed with and without batching
        report = replay(lone, ReplayOptions(f"sqlite:///{tmp_path / name}", batching=batching))
        # Then both see the promise lapse before the delivery
        assert report.late_deliveries_flagged == 1, name
        assert stall_reasons(tmp_path / name, "c-lone") == ["past the promised delivery date"]


@pytest.mark.postgres
def test_a_replay_into_postgresql_decides_exactly_what_sqlite_decides(
        tmp_path: Path, postgres_url: str) -> None:
    on_sqlite, _ = run(tmp_path)
    on_postgres = replay(FIXTURE, ReplayOptions(postgres_url))
    keep = {"orders_by_state", "parcels_by_state", "transitions_by_trigger", "skipped",
            "impossible_transitions", "late_deliveries_flagged", "stalls_flagged", "sweeps",
            "median_hours", "carriers"}
    assert on_postgres.model_dump(include=keep) == on_sqlite.model_dump(include=keep)


def test_a_truncated_gzip_file_is_a_clear_error_not_a_crash(tmp_path: Path) -> None:
    import gzip

    packed = gzip.compress(FIXTURE.read_bytes())
    broken = tmp_path / "orders.csv.gz"
    broken.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(InvalidInput, match="cannot read"):
        replay(broken, ReplayOptions(f"sqlite:///{tmp_path / 'r.db'}"))


def test_the_report_shows_each_carrier_the_rates_carrier_selection_reads(replayed) -> None:
    # fx-late's carrier delivered its one parcel after the promise; sim-post delivered six on
    # time and c-stuck's parcel sits stalled past its promise: late (statemachine/carrier_kpi.py)
    report, db = replayed
    [(late_carrier,)] = rows(db, "SELECT s.carrier FROM shipments s JOIN orders o ON "
                                 "o.id = s.order_id WHERE o.buyer_id = 'c-late'")
    rates = {name: (c["parcels"], c["on_time_pct"], c["loss_pct"])
             for name, c in report.carriers.items()}
    assert rates[late_carrier] == (1, 0.0, 0.0)
    assert rates["sim-post"] == (7, round(100 * 6 / 7, 1), 0.0)
