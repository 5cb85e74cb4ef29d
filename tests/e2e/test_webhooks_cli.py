"""`orderpilot webhooks …` end to end: add, relay --once, log, dead letters, resend; and a relay
process killed mid-batch loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderpilot.cli import app
from tests.factories import paid_order
from tests.integration.connect.conftest import open_shop
from tests.integration.connect.receiver import Receiver
from tests.integration.connect.test_webhooks_out import outbox_ids_by_order

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_add_relay_log_dead_and_resend_from_the_command_line(tmp_path, live_clock,
                                                              monkeypatch):
    # Given a shop with a paid order and a receiver that is down for now
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    shop = open_shop(db, live_clock)
    up = {"yes": False}
    receiver = Receiver("", decide=lambda m, a: 200 if up["yes"] else 500)
    try:
        # When a subscription is added on the command line
        out = run("webhooks", "add", receiver.url, "--db", db, "-e", "orderpilot.order.*",
                  "--description", "ERP")
        receiver.secret = out.split("signing secret (shown once): ")[1].split()[0]
        sub_id = out.split()[0]
        paid_order(shop, buyer="b-1")
        # and the relay fails until the delivery is dead (env: no retries)
        monkeypatch.setenv("ORDERPILOT_WEBHOOKS__RETRY_SECONDS", "[]")
        assert "dead 1" in run("webhooks", "relay", "--once", "--db", db)
        # Then the dead letter and the waiting deliveries are listed
        assert "dl-1" in run("webhooks", "dead", "--db", db)
        assert "pending" in run("webhooks", "log", sub_id, "--db", db, "--order", "o-1")
        # When the receiver is back and the dead letters are re-sent
        up["yes"] = True
        assert "1 delivery(ies) queued again" in run("webhooks", "resend", "--db", db)
        assert "delivered 3" in run("webhooks", "relay", "--once", "--db", db)
    finally:
        receiver.close()
    listed = run("webhooks", "list", "--db", db)
    assert sub_id in listed and "ERP" in listed
    assert receiver.by_order() == outbox_ids_by_order(shop, "orderpilot.order.")
    shop.close()


@pytest.mark.slow
def test_a_relay_killed_mid_batch_and_restarted_loses_nothing(tmp_path, live_clock):
    # Given 15 paid orders (45 events) and a receiver that kills the relay process on the
    # 25th message, in the middle of its third batch of 10
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    shop = open_shop(db, live_clock)
    process: dict[str, subprocess.Popen[bytes]] = {}

    def decide(message: dict, attempt: int) -> int:
        if len(receiver.accepted) == 24 and "killed" not in process:
            process["killed"] = process["relay"]
            os.kill(process["relay"].pid, signal.SIGKILL)
        return 200

    receiver = Receiver("", decide=decide)
    receiver.secret = shop.webhooks.subscribe(receiver.url).secret
    for n in range(15):
        paid_order(shop, buyer=f"b-{n}")
    env = {**os.environ, "ORDERPILOT_WEBHOOKS__BATCH": "10", "ORDERPILOT_WEBHOOKS__CONCURRENCY":
           "1", "ORDERPILOT_WEBHOOKS__LEASE_SECONDS": "1"}
    command = [sys.executable, "-m", "orderpilot.cli_webhooks", "relay", "--once", "--db", db]
    try:
        # When the relay runs, is killed, and is started again once its claims have lapsed
        process["relay"] = subprocess.Popen(command, cwd=ROOT, env=env,
                                            stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        assert process["relay"].wait(timeout=60) == -signal.SIGKILL
        killed_at = len(receiver.accepted)
        time.sleep(1.1)
        restarted = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=60)
    finally:
        receiver.close()
    # Then the batch in flight was sent again (at least once) and nothing was lost or reordered
    assert restarted.returncode == 0, restarted.stderr.decode()
    assert 20 <= killed_at <= 25 and len(receiver.accepted) > 45
    assert receiver.by_order() == outbox_ids_by_order(shop)
    assert shop.webhooks.deliveries(status="pending") == []
    shop.close()


def test_the_listing_masks_a_password_or_token_in_a_subscribers_url(tmp_path):
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    run("webhooks", "add", "https://erp:s3cret-pw@erp.example.cn/hooks/orders?token=tk-8899",
        "--description", "ERP", "--db", db)
    wide = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["webhooks", "list", "--db", db])
    # before: the whole URL, password and token included (a terminal wide enough to show it)
    assert "https://erp:***@erp.example.cn/hooks/orders?…" in wide.output
    assert "s3cret-pw" not in wide.output and "tk-8899" not in wide.output
