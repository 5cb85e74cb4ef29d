"""Closing the units of work closes every connection they opened, also one leased at the time
(integrations/db/units.py): a connection given back after `close` is closed, not kept idle for
the garbage collector to find open (psycopg warns "connection deleted while still open")."""

from __future__ import annotations

from sqlalchemy import make_url, text

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


def test_units_closed_still_serve_a_unit_of_work_without_keeping_its_connection(empty_url):
    units = Units(make_url(empty_url))
    units.close()
    with units.begin(readonly=True) as connection:
        driver = _driver(connection)
        assert connection.execute(text("SELECT 1")).scalar() == 1
    assert _is_closed(driver)
    assert units._open == 0
