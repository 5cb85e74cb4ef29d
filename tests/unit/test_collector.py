"""The garbage collector is paused while a big batch runs, and only then (collector.py)."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from integrations.replay import bulk
from integrations.service import collector, sweep

T0 = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _collector_restored():
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_a_big_batch_runs_with_the_collector_off_and_turns_it_back_on():
    gc.enable()
    with collector.paused_for(collector.BIG_BATCH):
        inside = gc.isenabled()
    assert (inside, gc.isenabled()) == (False, True)


def test_a_small_batch_leaves_the_collector_alone():
    gc.enable()
    with collector.paused_for(collector.BIG_BATCH - 1):
        assert gc.isenabled()


def test_a_caller_that_had_the_collector_off_keeps_it_off():
    gc.disable()
    with collector.paused_for(10 * collector.BIG_BATCH):
        pass
    assert not gc.isenabled()


def test_a_batch_that_raises_turns_the_collector_back_on():
    gc.enable()
    with pytest.raises(RuntimeError), collector.paused_for(collector.BIG_BATCH):
        raise RuntimeError("a refused batch")
    assert gc.isenabled()


def test_the_replay_bulk_path_loads_and_fires_a_big_batch_with_the_collector_off(monkeypatch):
    seen = {}

    def load(numbers):
        seen["load"] = gc.isenabled()
        return {n: SimpleNamespace(id=n, state="paid") for n in numbers}

    def run(ctx, tx, kind, moves, **_):
        seen["run"] = gc.isenabled()
        return [], []

    monkeypatch.setattr(bulk.pipeline, "run", run)
    gc.enable()
    moves = [bulk.Move(n, "start_picking", T0, "replay") for n in range(collector.BIG_BATCH)]
    assert bulk._run(None, None, None, moves, load) == []
    assert seen == {"load": False, "run": False}
    assert gc.isenabled()


def test_a_sweep_batch_reads_and_fires_with_the_collector_off():
    seen = {}

    class Store:
        def due_deadlines(self, now, batch, passed):
            seen["due"] = gc.isenabled()
            return []

        def take_due(self, due, now):
            return [], []

    @contextmanager
    def tx():
        seen["tx"] = gc.isenabled()
        yield SimpleNamespace(store=Store(), writer=SimpleNamespace(timers_touched=set()))

    gc.enable()
    assert sweep.sweep(SimpleNamespace(tx=tx), T0, batch=collector.BIG_BATCH) == {}
    assert seen == {"tx": False, "due": False}
    assert gc.isenabled()
