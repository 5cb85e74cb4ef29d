"""The console in a real headless Chromium: open the review queue, follow the link to the
suspended run, reject in its form; the order is rejected with the reviewer recorded.

Screenshots go to the test's folder; with ORDERPILOT_SAVE_SCREENSHOTS=1 they also replace the
README's (docs/screenshots/)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.cdp import Browser, chromium_path
from tests.integration.orchestration.console_kit import paused, running_console, wait_for
from tests.integration.orchestration.shop import open_shop, place, review_big_orders

pytestmark = [pytest.mark.prefect, pytest.mark.slow,
              pytest.mark.skipif(chromium_path() is None, reason="Debian's chromium is not "
                                 "installed (apt-get install chromium; .ci/run does it)")]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def click(browser: Browser, selector: str, text: str) -> None:
    browser.wait_for(f"[...document.querySelectorAll({json.dumps(selector)})]"
                     f".some(e => e.innerText.trim() === {json.dumps(text)})")
    browser.js(f"[...document.querySelectorAll({json.dumps(selector)})]"
               f".find(e => e.innerText.trim() === {json.dumps(text)}).click()")


def fill(browser: Browser, label: str, value: str) -> None:
    """Type into the form field labelled `label` (a select or a text area)."""
    browser.js(f"""(() => {{
        const property = [...document.querySelectorAll('.schema-form-property')].find(
            p => p.querySelector('.schema-form-property__label').innerText.trim() ===
                 {json.dumps(label)});
        const field = property.querySelector('select, textarea, input');
        field.value = {json.dumps(value)};
        field.dispatchEvent(new Event(field.tagName === 'SELECT' ? 'change' : 'input',
                                      {{bubbles: true}}));
    }})()""")


def test_a_reviewer_rejects_a_held_order_from_the_review_queue_in_the_browser(
        tmp_path: Path, prefect_server: str):
    from prefect.client.orchestration import get_client

    # Given the console running for a shop with two orders held for review
    pilot = open_shop(str(tmp_path / "shop.db"), risk_check=review_big_orders)
    ui = prefect_server.removesuffix("/api")
    browser = Browser()
    try:
        with running_console(pilot) as console:
            held = [place(pilot, buyer=b, quantity=2, price=p) for b, p in
                    (("b-2001", 350_000), ("b-2002", 420_000))]
            runs = {o: wait_for("a review run", lambda o=o: paused(pilot, o))[0] for o in held}
            with get_client(sync_client=True) as client:
                console.dashboard_once(client)
            # When a reviewer opens the review queue and follows the link of the second order
            browser.open(f"{ui}/artifacts/key/review-queue")
            link = browser.wait_for("[...document.querySelectorAll('a')].map(a => a.href)"
                                    ".find(h => h.includes('/artifacts/artifact/'))")
            browser.open(link)
            browser.wait_for("document.body.innerText.includes('waiting for a person')")
            assert all(o in browser.text() for o in held) and "¥8,400.00" in browser.text()
            browser.screenshot(tmp_path / "review-queue.png")
            run_link = browser.js("[...document.querySelectorAll('a')].find(a => "
                                  f"a.innerText.trim() === {json.dumps(held[1])}).href")
            browser.open(run_link)  # (the UI opens markdown links in a new tab)
            browser.wait_for("document.body.innerText.includes('Suspended')")
            assert runs[held[1]].name in browser.text()
            # and rejects it in the form
            click(browser, "button", "Resume")
            browser.wait_for("document.body.innerText.includes('Why it was held')")
            fill(browser, "Decision", "reject")
            fill(browser, "Reason", "收货地址与支付账户不符")
            fill(browser, "Reviewer", "wang.fang")
            browser.screenshot(tmp_path / "review-form.png")
            click(browser, "button", "Submit")
            # Then the order is rejected, with the reviewer recorded, and the run is completed
            wait_for("the rejection", lambda: pilot.orders.get(held[1]).state == "rejected")
            browser.open(f"{ui}/runs/flow-run/{runs[held[1]].id}")
            browser.wait_for("document.body.innerText.includes('Completed') && "
                             "document.body.innerText.includes('rejected by reviewer:wang.fang')")
            browser.screenshot(tmp_path / "review-done.png")
    finally:
        browser.close()
    last = pilot.orders.history(held[1])[-1]
    assert (last.trigger, last.actor, last.payload["reason"]) == \
        ("reject", "reviewer:wang.fang", "收货地址与支付账户不符")
    assert pilot.orders.get(held[0]).state == "under_review"
    if os.environ.get("ORDERPILOT_SAVE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        for shot in ("review-queue.png", "review-form.png", "review-done.png"):
            shutil.copy(tmp_path / shot, SHOTS / shot)
