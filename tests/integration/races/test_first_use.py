"""Reproduction 4: several workers starting together on an empty store all get a working one."""

from __future__ import annotations

import pytest

from integrations.db.migrate import head_revision
from tests.conftest import fresh_postgres_database

ROUNDS = [3, pytest.param(50, marks=[pytest.mark.slow, pytest.mark.soak], id="50")]


@pytest.mark.parametrize("rounds", ROUNDS)
def test_workers_starting_on_an_empty_store_at_once_all_get_the_schema(race, tmp_path, rounds):
    race.open()
    for n in range(rounds):
        # Given a store nobody has used yet
        with _empty_store(race.url, tmp_path / f"fresh-{n}.db") as url:
            # When four workers start on it at the same moment
            outcomes = race.run(*[("first_use", {"url": url})] * 4)
            # Then every one of them has the newest schema (the upgrade ran once, serialised)
            assert [o.result for o in outcomes] == [head_revision()] * 4, outcomes


def _empty_store(url: str, path):
    if url.startswith("sqlite"):
        from contextlib import nullcontext

        return nullcontext(f"sqlite:///{path}")
    return fresh_postgres_database()
