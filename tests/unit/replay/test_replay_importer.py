"""The importer reads merchants' CSVs as given: every row is replayable or skipped with a reason."""

from __future__ import annotations

import gzip
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.replay.dates import parse_when
from integrations.replay.olist import OLIST, Skipped, Timeline, check_row, read_timelines

FIXTURE = Path(__file__).parents[2] / "fixtures" / "orders_small.csv"
NOON = datetime(2017, 1, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", [
    "2017-01-04 12:00:00", "2017-01-04 12:00", "2017-01-04T12:00:00Z", "2017-01-04T12:00:00",
    "2017-01-04 10:00:00-02:00", "04/01/2017 12:00", "04/01/2017 12:00:00",
])
def test_every_accepted_format_reads_as_the_same_utc_instant(text: str) -> None:
    assert parse_when(text) == NOON


def test_a_date_only_value_is_midnight() -> None:
    assert parse_when("2017-01-25") == datetime(2017, 1, 25, tzinfo=UTC)
    assert parse_when("25/01/2017") == datetime(2017, 1, 25, tzinfo=UTC)


def test_a_value_without_offset_is_read_in_the_assumed_zone() -> None:
    # Given São Paulo time (UTC-2 in January 2017, daylight saving)
    assert parse_when("2017-01-04 10:00:00", ZoneInfo("America/Sao_Paulo")) == NOON


@pytest.mark.parametrize("text", ["2017-13-45 25:00:00", "yesterday", "01/13/2017", "", "2017"])
def test_unparseable_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_when(text)


def test_every_fixture_row_is_kept_or_skipped_with_its_reason() -> None:
    # When the fixture is read
    items = list(read_timelines(FIXTURE))
    # Then every data row produced exactly one item, in file order
    assert [i.row for i in items] == list(range(2, 32))
    reasons = {i.ref: i.reason for i in items if isinstance(i, Skipped)}
    assert reasons == {
        "bad-delivered-first": "delivered before purchased",
        "bad-approved-first": "approved before purchased",
        "bad-handover-first": "handed to the carrier before approved",
        "bad-date": "unparseable date in order_purchase_timestamp: '2017-13-45 25:00:00'",
        "bad-word-date": "unparseable date in order_approved_at: 'yesterday'",
        "bad-no-status": "missing order_status",
        "bad-no-purchase": "missing order_purchase_timestamp",
        "bad-status": "unknown status 'teleported'",
        "bad-no-delivery": "status delivered but no delivery time",
        "bad-cancel-shipped": "status canceled after hand-off to the carrier (cancel is only "
                              "allowed before shipping)",
        "bad-extra-field": "more fields than the header has",
        "bad-short-row": "fewer fields than the header has",
        "fx-ontime": "duplicate order id",
        "bad-promise-before": "promised delivery before purchased",
    }
    kept = [i for i in items if isinstance(i, Timeline)]
    assert len(kept) == 16 and kept[0].ref == "fx-ontime"


def test_the_other_date_formats_in_the_fixture_give_the_same_history() -> None:
    kept = {i.ref: i for i in read_timelines(FIXTURE) if isinstance(i, Timeline)}
    iso, day_first = kept["fx-iso-t"], kept["fx-dayfirst"]
    assert iso.handed_over_at == datetime(2017, 1, 5, 9, tzinfo=UTC)
    assert day_first.delivered_at == datetime(2017, 1, 8, 15, tzinfo=UTC)
    assert day_first.promised_by == datetime(2017, 1, 25, tzinfo=UTC)
    assert kept["fx-offset"].purchased_at == datetime(2017, 1, 4, 13, tzinfo=UTC)


def test_a_gzipped_file_reads_exactly_like_the_plain_one(tmp_path: Path) -> None:
    packed = tmp_path / "orders.csv.gz"
    with FIXTURE.open("rb") as plain, gzip.open(packed, "wb") as out:
        shutil.copyfileobj(plain, out)
    assert list(read_timelines(packed)) == list(read_timelines(FIXTURE))


def test_a_file_missing_a_column_is_refused_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "orders.csv"
    bad.write_text("order_id,customer_id,order_status\nx,y,delivered\n")
    with pytest.raises(ValueError, match="order_purchase_timestamp"):
        list(read_timelines(bad))


def test_a_merchant_file_with_its_own_column_names_loads_through_a_column_map(
        tmp_path: Path) -> None:
    from integrations.replay.olist import ColumnMap

    own = tmp_path / "shop.csv"
    own.write_text("ref,buyer,status,placed,paid,shipped,arrived,promise\n"
                   "A1,b1,delivered,2017-01-04 12:00,2017-01-04 12:05,2017-01-05 08:00,"
                   "2017-01-07 09:00,2017-01-10\n")
    columns = ColumnMap("ref", "buyer", "status", "placed", "paid", "shipped", "arrived",
                        "promise")
    [timeline] = read_timelines(own, columns)
    assert isinstance(timeline, Timeline) and timeline.purchased_at == NOON


FIELDS = ["order_id", "customer_id", "order_status", "order_purchase_timestamp",
          "order_approved_at", "order_delivered_carrier_date", "order_delivered_customer_date",
          "order_estimated_delivery_date"]
cell = st.one_of(st.text(max_size=25), st.sampled_from(
    ["2017-01-04 12:00:00", "04/01/2017", "delivered", "canceled", "", "2018-02-30 10:00"]))


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(st.none(), cell), min_size=8, max_size=8),
       extra=st.lists(cell, max_size=2))
def test_no_row_ever_crashes_the_importer(values: list[str | None], extra: list[str]) -> None:
    raw: dict[str | None, object] = dict(zip(FIELDS, values, strict=True))
    if extra:
        raw[None] = extra
    item = check_row(2, raw, OLIST, UTC)  # type: ignore[arg-type]
    assert isinstance(item, Timeline | Skipped)
    if isinstance(item, Skipped):
        assert item.reason


def test_an_unreadable_record_is_skipped_and_reading_goes_on(tmp_path: Path) -> None:
    # Given a record with a field beyond the csv module's size limit between two good ones
    good = FIXTURE.read_text().splitlines()[:2]
    huge = "x" * 200_000
    bad = tmp_path / "orders.csv"
    bad.write_text("\n".join([*good, f"{huge},c,delivered,,,,,", good[1].replace(
        "fx-ontime", "fx-after")]) + "\n")
    # When it is read
    items = list(read_timelines(bad))
    # Then the bad record is skipped with the csv module's reason and the next one is kept
    assert [type(i).__name__ for i in items] == ["Timeline", "Skipped", "Timeline"]
    assert items[1].reason.startswith("unreadable CSV record: field larger than field limit")
    assert items[2].ref == "fx-after"
