"""The demo shop speaks Chinese: most buyers have Chinese addresses and +86 phones, and its
review share stays within the budget while verification clears a flash-sale reseller."""

from __future__ import annotations

import io
import json

from rich.console import Console
from sqlalchemy import text

from orderpilot import OrderPilot
from orderpilot.demo import run_demo


def test_the_demo_runs_on_chinese_data_within_the_review_budget(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    out = io.StringIO()
    summary = run_demo(url, orders=140, seed=3, console=Console(file=out, width=200))
    risk = summary["risk"]
    assert risk["review_share"] <= risk["review_budget"] == 0.2
    assert risk["placement"].get("verify", 0) > 0 and risk["verification"]["passed"] > 0
    assert "within the 20% review budget" in out.getvalue()
    pilot = OrderPilot(url)
    with pilot.context.engine.connect() as conn:
        attrs = [row[0] for row in conn.execute(text("SELECT attrs FROM orders"))]
    pilot.close()
    parsed = [json.loads(a) if isinstance(a, str) else a for a in attrs]
    chinese = [a for a in parsed if a["address"]["script"] == "Hani"]
    assert len(chinese) >= 0.75 * len(parsed)
    assert all(a["phone"].startswith("+86") for a in parsed)
