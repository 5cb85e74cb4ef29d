"""`orderpilot payments reconcile`: a provider's books for a day against ours.

    orderpilot payments reconcile --day 2026-11-26 --provider alipay --file 业务明细.csv
    orderpilot payments reconcile --day 2026-11-26            # the configured gateway's API
                                            # (Alipay: the day's trade bill, downloaded)
    orderpilot payments sweep                                 # retry / release (for cron)
    orderpilot payments owed                                  # refunds left for later

Exit status: 0 when the books agree, 1 when there are differences, 2 on bad input (or a bill
that cannot be had), 3 when it is worth trying later (bill not written yet, timeout).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from integrations.console.casework import money
from orderpilot.api import OrderPilot
from orderpilot.cli_common import DbOption, console, errors, fail, pilot
from statemachine.errors import InvalidInput
from statemachine.ports import TransientPaymentError

payments_app = typer.Typer(help="Money with the providers: settlement reconciliation.",
                           no_args_is_help=True)
dispute_app = typer.Typer(help="Chargebacks: list, prepare the evidence, submit, concede, "
                               "correct the kind.",
                          no_args_is_help=True)
By = Annotated[str, typer.Option("--by", help="who acts (a person, e.g. finance:li)")]
COLUMNS = ("difference", "movement", "at", "order", "ref", "payment", "ours", "theirs",
           "currency", "note")


@payments_app.command("reconcile")
def reconcile(
        day: Annotated[datetime, typer.Option("--day", formats=["%Y-%m-%d"],
                                              help="the settlement day, e.g. 2026-11-26")],
        provider: Annotated[str | None, typer.Option(
            help="alipay or stripe (default: the configured provider)")] = None,
        file: Annotated[Path | None, typer.Option(
            "--file", help="the provider's settlement file (Alipay 业务明细 CSV, Stripe "
                           "itemized report CSV or balance transactions JSON); without it "
                           "Stripe's API is asked, or Alipay's trade bill of the day is "
                           "downloaded")] = None,
        zone: Annotated[str | None, typer.Option(
            "--tz", help="the day's time zone (default: Asia/Shanghai for alipay, else UTC)")
        ] = None,
        out: Annotated[Path | None, typer.Option(
            "--csv", help="also write the differences to this CSV file")] = None,
        db: DbOption = None,
        as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Compare the provider's charges, refunds, disputes and fees for a day with ours;
    report every difference. Nothing is changed. Exit 0: the books agree; 1: differences;
    2: bad input or a refused bill; 3: try later (Alipay has not written the day's bill yet
    — it usually has by 09:00 Beijing time the next day — or the provider timed out)."""
    statement = _read(file)
    with errors():
        report = _reconcile(pilot(db), day.date(), provider, statement, zone,
                            file.name if file else "statement")
    if isinstance(report, TransientPaymentError):
        fail(report)
        raise typer.Exit(3)
    if out is not None:
        out.write_text(_csv(report["differences"]), encoding="utf-8-sig")  # Excel reads BOM
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print(report, day.date())
    raise typer.Exit(0 if report["summary"]["clean"] else 1)


@payments_app.command("sweep")
def sweep(db: DbOption = None) -> None:
    """Retry provider calls left pending by a timeout (same idempotency keys) and release
    payments opened for orders that expired or were cancelled (the console does this too)."""
    with errors():
        counts = pilot(db).payments.sweep()
    console.print(f"{counts['retried']} retried and settled, {counts['released']} released, "
                  f"{counts['refunds_owed_alerted']} refunds left for later reported overdue")


@payments_app.command("owed")
def owed(db: DbOption = None,
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Money owed back to buyers, oldest first: cancelled or rejected orders whose refund was
    left with Shopify, late money to refund in Shopify's admin, refunds that failed there, and
    refunds the provider refused for good. Exit status 1 when one is overdue."""
    with errors():
        rows = pilot(db).payments.refunds_owed()
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        table = Table("order", "buyer", "owed", "held", "payment", "since", "overdue", "why")
        for r in rows:
            table.add_row(r["order_id"], r["buyer_id"], money(r["owed"], r["currency"]),
                          money(r["held"], r["currency"]),
                          r["payment_ref"] or "", r["since"], "yes" if r["overdue"] else "",
                          r["reason"])
        console.print(table if rows else "no refund owed")
    raise typer.Exit(1 if any(r["overdue"] for r in rows) else 0)


@dispute_app.command("list")
def dispute_list(db: DbOption = None, state: Annotated[str | None, typer.Option()] = None,
                 as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Disputes the providers reported, oldest first."""
    with errors():
        rows = pilot(db).disputes.list(state)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("dispute", "order", "kind", "state", "amount", "reason", "evidence due")
    for d in rows:
        table.add_row(d["id"], d["order_id"], d["kind"], d["state"],
                      money(d["amount"], d["currency"]), d["reason"] or "", d["due_by"] or "")
    console.print(table if rows else "no dispute")


@dispute_app.command("prepare")
def dispute_prepare(dispute_id: str, by: By, db: DbOption = None,
                    policy: Annotated[str | None, typer.Option(
                        "--policy", help="the shop's refund policy, as the buyer saw it")] = None,
                    field: Annotated[list[str] | None, typer.Option(
                        "--field", help="NAME=VALUE overriding a mapped field")] = None) -> None:
    """Map the order's evidence pack onto the provider's fields (review them, then submit)."""
    overrides = dict(f.split("=", 1) for f in field or [] if "=" in f)
    with errors():
        d = pilot(db).disputes.prepare(dispute_id, by=by, evidence=overrides,
                                       refund_policy=policy)
    console.print(f"{d['id']} is now [bold]{d['state']}[/]; evidence:")
    for name, value in d["evidence"].items():
        console.print(f"  {name}: {value}")


@dispute_app.command("submit")
def dispute_submit(dispute_id: str, by: By, db: DbOption = None) -> None:
    """Send the prepared evidence to the provider (a person confirms it by running this)."""
    with errors():
        d = pilot(db).disputes.submit(dispute_id, by=by)
    console.print(f"{d['id']} is now [bold]{d['state']}[/]")


@dispute_app.command("accept")
def dispute_accept(dispute_id: str, by: By, reason: Annotated[str, typer.Option()],
                   db: DbOption = None) -> None:
    """Concede the dispute: the money stays with the buyer, the order books the chargeback."""
    with errors():
        d = pilot(db).disputes.accept(dispute_id, by=by, reason=reason)
    console.print(f"{d['id']} is now [bold]{d['state']}[/] (booked {d['booked']})")


@dispute_app.command("correct-kind")
def dispute_correct_kind(dispute_id: str, by: By,
                         kind: Annotated[str, typer.Option(
                             help="inquiry or chargeback, as the provider shows it")],
                         reason: Annotated[str, typer.Option(
                             help="what the provider shows (e.g. Stripe's status)")],
                         db: DbOption = None) -> None:
    """Correct a dispute's kind (a Stripe inquiry recorded before migration 0033 was stored as
    a chargeback): the state stays; only a chargeback holds money against refunds."""
    with errors():
        d = pilot(db).disputes.correct_kind(dispute_id, kind=kind, by=by, reason=reason)
    console.print(f"{d['id']} is now [bold]{d['kind']}[/] ({d['state']})")


def _reconcile(p: OrderPilot, day: date, provider: str | None, statement: bytes | None,
               zone: str | None, name: str) -> dict[str, Any] | TransientPaymentError:
    """The report, or the transient error (bill not written yet, timeout) for exit code 3."""
    try:
        return p.payments.reconcile(day, provider=provider, statement=statement, zone=zone,
                                    name=name)
    except TransientPaymentError as error:
        return error


def _read(file: Path | None) -> bytes | None:
    if file is None:
        return None
    try:
        return file.read_bytes()
    except OSError as error:
        raise fail(InvalidInput({"file": f"cannot read {file}: {error.strerror}"})) from None


def _print(report: dict[str, Any], day: date) -> None:
    s = report["summary"]
    console.print(f"[bold]{s['provider']}[/] settlement of {day}: {s['matched']} matched, "
                  f"{s['differences']} differences")
    for t in s["totals"]:
        console.print(f"  {t['currency']}: provider gross {money(t['gross'], t['currency'])}, "
                      f"fees {money(t['fees'], t['currency'])}, net "
                      f"{money(t['net'], t['currency'])}; ours {money(t['ours'], t['currency'])}")
    if not report["differences"]:
        console.print("[green]the books agree[/]")
        return
    table = Table(*COLUMNS[:-1])
    for row in report["differences"]:
        table.add_row(*["" if row[c] is None else str(row[c]) for c in COLUMNS[:-1]])
    console.print(table)


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def register(app: typer.Typer) -> None:
    app.add_typer(payments_app, name="payments")
    app.add_typer(dispute_app, name="dispute")
