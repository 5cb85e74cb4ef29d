"""Closing the units of work closes every connection they opened, also one leased at the time
(integrations/db/units.py): a connection given back after `close` is closed, not kept idle for
the garbage collector to find open (psycopg warns "connection deleted while still open"), and
no connection is opened after it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, make_url, text

from integrations.db.units import Units


def _driver(connection):
    return connection.connection.driver_connection


def _is_closed(driver) -> bool:
    if hasattr(driver, "closed"):  # psycopg
        return bool(driver.closed)
    try:  # sqlite3 has no flag: a closed connection refuses to work
        driver.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 - sqlite3.ProgrammingError, driver-specific
        return "closed" in str(error)
    return False


def test_a_connection_leased_when_the_units_close_is_closed_when_given_back(empty_url):
    units = Units(make_url(empty_url))
    with units.begin(readonly=True) as connection:
        leased = _driver(connection)
        with units.begin(readonly=True) as other:
            idle = _driver(other)  # given back: idle when `close` runs
        units.close()
        assert _is_closed(idle)
        assert not _is_closed(leased)
        connection.execute(text("SELECT 1"))
    assert _is_closed(leased)
    assert units._idle == [] and units._open == 0


def test_units_closed_refuse_a_unit_of_work_and_open_no_connection(empty_url):
    # Given units of work that have been closed
    units = Units(make_url(empty_url))
    opened = []
    event.listen(units.engine, "connect", lambda *_: opened.append(1))
    units.close()
    # When a unit of work is asked for, Then it is refused and no connection is opened
    with pytest.raises(RuntimeError, match="was closed"), units.begin(readonly=True):
        pass
    assert opened == [] and units._open == 0


def test_a_caller_waiting_for_a_connection_when_the_units_close_is_refused(empty_url):
    # Given every connection leased and a caller waiting for one
    units = Units(make_url(empty_url), limit=1)
    opened, refused = [], []
    event.listen(units.engine, "connect", lambda *_: opened.append(1))

    def wait_for_one() -> None:
        try:
            with units.begin(readonly=True):
                pass
        except RuntimeError as error:
            refused.append(error)

    with units.begin(readonly=True):
        waiter = threading.Thread(target=wait_for_one)
        waiter.start()
        waiter.join(0.2)
        # When the units close and the leased connection comes back
        units.close()
    waiter.join(5)
    # Then the waiter is refused, and no second connection was opened for it
    assert len(refused) == 1 and opened == [1] and units._open == 0
