"""Processes starting on a store nobody has named yet (a relay, the console's desk, Prefect
workers: each asks for the store's id at start): they all get one id. It was a look-up then an
INSERT into the inbox, and on PostgreSQL the second INSERT hit the key: a raw UniqueViolation
stopped that process's start."""

from __future__ import annotations

import pytest

from integrations.events.identity import STORE_KEY, store_id
from tests.integration.races.conftest import TRIALS


@pytest.mark.parametrize("trials", TRIALS)
def test_processes_naming_a_new_store_at_once_agree_on_one_id(race, trials):
    pilot = race.open()
    for trial in range(trials):
        # Given a store without an id yet
        with pilot.context.tx() as tx:
            tx.store.sql.run("DELETE FROM inbox WHERE key = :k", {"k": STORE_KEY})
        # When every worker asks for it at the same moment
        outcomes = race.run(*[("store_identity", {})] * race.pool.size)
        # Then each is told the same id, the one kept
        assert all(o.ok for o in outcomes), (trial, outcomes)
        assert {o.result for o in outcomes} == {store_id(pilot.context)}, (trial, outcomes)
