"""A command closes the store it opened: on PostgreSQL, a connection left to the garbage
collector at exit is a ResourceWarning ("… was deleted while still open"), which here is an
error printed on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
@pytest.mark.parametrize("args", [["sweep"], ["stock", "levels"], ["wave", "list"],
                                  ["review", "list"], ["case", "list"], ["stall", "list"],
                                  ["orders", "list"], ["dispute", "list"], ["webhooks", "list"]],
                         ids=" ".join)
def test_a_command_on_postgresql_leaves_no_connection_open_at_exit(postgres_url, args):
    done = _command(*args, "--db", postgres_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ResourceWarning" not in done.stderr, done.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("args", [["note", "list", "o-1"], ["dispute", "submit", "d-1", "--by",
                                                           "finance:li"]], ids=" ".join)
def test_a_command_that_fails_closes_its_store_too(postgres_url, args):
    done = _command(*args, "--db", postgres_url)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "ResourceWarning" not in done.stderr, done.stderr


@pytest.mark.postgres
def test_the_webhooks_group_run_on_its_own_closes_its_store_too(postgres_url):
    done = _command("list", "--db", postgres_url, module="orderpilot.cli_webhooks")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ResourceWarning" not in done.stderr, done.stderr


@pytest.mark.postgres
def test_a_store_whose_settings_are_refused_after_it_opened_is_closed(postgres_url, tmp_path):
    # the store opens (schema checked on a pooled connection), then the risk rules are refused
    opening = ("from orderpilot import OrderPilot\n"
               "try:\n"
               f"    OrderPilot({postgres_url!r})\n"
               "except Exception as error:\n"
               "    print(type(error).__name__)\n")
    done = subprocess.run([sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c",
                           opening], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "ORDERPILOT_RISK_RULES": str(tmp_path / "none")})
    assert done.stdout.strip(), done.stdout + done.stderr  # it was refused
    assert "ResourceWarning" not in done.stderr, done.stderr


@pytest.mark.postgres
def test_the_flows_cached_context_is_closed_when_the_process_exits(postgres_url):
    # the flows' service context lives as long as the process (a worker, `orderpilot serve`,
    # the test session itself): its pooled connection warned at interpreter exit
    using = ("from flows.wiring import context\n"
             f"with context({postgres_url!r}).tx(readonly=True):\n"
             "    pass\n"
             "print('used')\n")
    done = subprocess.run([sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c",
                           using], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "used", done.stdout + done.stderr
    assert "ResourceWarning" not in done.stderr, done.stderr


def _command(*args: str, module: str = "orderpilot.cli") -> subprocess.CompletedProcess[str]:
    """The command in a process of its own, where a connection left open is an error."""
    return subprocess.run([sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-m",
                           module, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
