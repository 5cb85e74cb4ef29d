"""CLI for risk control: `risk backtest|train|shadow-report`, `review list|approve|reject`,
`blacklist add|list|remove`. Each command is a thin call into the Python API."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from integrations.risk.config import RuleSetConfigError
from integrations.risk.model import ModelError
from orderpilot.cli_common import errors, pilot

risk_app = typer.Typer(help="Risk rules: backtest, train a scorer, shadow report.",
                       no_args_is_help=True)
review_app = typer.Typer(help="Orders held for review: list, approve, reject.",
                         no_args_is_help=True)
blacklist_app = typer.Typer(help="Blocked buyers, devices, phones, addresses, IPs.",
                            no_args_is_help=True)
allowlist_app = typer.Typer(help="Allowed buyers, devices, phones, addresses, IPs.",
                            no_args_is_help=True)
console = Console()

DbOption = Annotated[str | None, typer.Option("--db", help="database URL (default: settings)")]
By = Annotated[str, typer.Option("--by", help="who decides (recorded)")]
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON")]


@risk_app.command("backtest")
def backtest(input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="CSV or CSV.gz")],
             out: Annotated[Path, typer.Option("--out", help="decisions CSV to write")],
             rules: Annotated[Path | None, typer.Option(help="rule set TOML")] = None,
             model: Annotated[Path | None, typer.Option(help="learned scorer")] = None,
             evaluate_from: Annotated[float, typer.Option(
                 min=0.0, max=1.0, help="measure from this time fraction on")] = 0.0,
             review_budget: Annotated[float | None, typer.Option(
                 min=0.0, max=1.0, help="share of orders people may review (default: "
                 "ORDERPILOT_RISK_REVIEW_BUDGET, 0.2)")] = None,
             as_json: JsonFlag = False) -> None:
    """Replay a purchase history in time order; print precision / recall / flagged, AUC, the
    review-budget curve and the score bands that meet the budget."""
    from integrations.config import read_settings
    from integrations.risk.backtest import run_backtest
    from integrations.risk.settings import RiskSettings

    with errors(RuleSetConfigError, ModelError):
        budget = read_settings(RiskSettings).review_budget if review_budget is None \
            else review_budget
        report = run_backtest(input_path, out, _ruleset(rules), _scorer(model), evaluate_from,
                              review_budget=budget)
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
        return
    table = Table("band", "flagged", "flagged rate", "precision", "recall",
                  title=f"backtest of {report.evaluated_rows} of {report.rows} rows")
    for b in report.bands:
        table.add_row(b.band, str(b.flagged), f"{b.flagged_rate:.1%}", f"{b.precision:.3f}",
                      f"{b.recall:.3f}")
    console.print(table)
    console.print(f"actions: {report.actions}   AUC: "
                  f"{'-' if report.auc is None else f'{report.auc:.3f}'}   decisions: {out}")
    for note in report.notes:
        console.print(f"[yellow]{note}[/]")
    if report.curve:
        _print_curve(report.curve, report.proposal or {})


def _print_curve(points, proposal) -> None:
    table = Table("review_at", "review share", "flagged", "precision", "recall",
                  title=f"review budget curve (reject_at {points[0]['reject_at']:.0f})")
    for p in points:
        table.add_row(f"{p['review_at']:.0f}", f"{p['review_share']:.1%}",
                      f"{p['flagged_share']:.1%}", f"{p['precision']:.3f}", f"{p['recall']:.3f}")
    console.print(table)
    budget = f"{proposal['budget']:.0%}"
    if proposal.get("review_at") is None:
        console.print(f"[yellow]no thresholds meet the {budget} review budget: "
                      f"{proposal.get('note')}[/]")
        return
    e = proposal["expected"]
    console.print(f"proposed for a {budget} review budget: [score] reject_at = "
                  f"{proposal['reject_at']:.0f}, review_at = {proposal['review_at']:.0f} "
                  f"(review share {e['review_share']:.1%}, recall {e['recall']:.3f}, "
                  f"reject precision {e['reject_precision']:.3f})")


@risk_app.command("stats")
def stats(db: DbOption = None, as_json: JsonFlag = False,
          at: Annotated[datetime | None, typer.Option(
              help="measure the windows ending at this UTC time (default: now)")] = None
          ) -> None:
    """Live decisions over the last hour and day: review share against the review budget."""
    with errors(RuleSetConfigError, ModelError):
        report = pilot(db).risk.stats(_utc(at))
    if as_json:
        print(json.dumps(report, indent=2))
        return
    table = Table("window", "orders", "approve", "verify", "review", "reject", "review share",
                  title=f"risk decisions (review budget {report['budget']:.0%})")
    for name, w in report["windows"].items():
        share = f"{w['review_share']:.1%}" + (" [red]OVER BUDGET[/]" if w["over_budget"] else "")
        table.add_row(f"last {name}", str(w["orders"]), str(w["approve"]), str(w["verify"]),
                      str(w["review"]), str(w["reject"]), share)
    console.print(table)
    _print_causes(report["windows"]["day"]["causes"])


def _print_causes(causes: dict[str, dict[str, int]]) -> None:
    """Why orders went to people over the last day, and which currencies have no band."""
    if causes["rules"]:
        console.print("reviewed in the last day, by rule: " + ", ".join(
            f"{rule} {n}" for rule, n in causes["rules"].items()))
    if causes["unbanded_currencies"]:
        listed = ", ".join(f"{c} {n}" for c, n in causes["unbanded_currencies"].items())
        console.print(f"[yellow]orders in currencies without an amount band went to a person: "
                      f"{listed}[/] (set other_currencies.<CODE> in the rule file)")


@risk_app.command("train")
def train(input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="labelled CSV")],
          model: Annotated[Path, typer.Option("--model", help="where to save the model")],
          rules: Annotated[Path | None, typer.Option(help="rule set TOML")] = None,
          fraction: Annotated[float, typer.Option(
              min=0.01, max=1.0, help="train on this first time fraction")] = 1.0) -> None:
    """Fit the optional learned scorer (needs orderpilot[ml]); use it with ORDERPILOT_RISK_MODEL."""
    from integrations.risk.model import train as fit

    with errors(RuleSetConfigError, ModelError):
        fit(input_path, model, _ruleset(rules), fraction)
    console.print(f"model saved to {model}; set ORDERPILOT_RISK_MODEL={model} to use it")


@risk_app.command("shadow-report")
def shadow_report(db: DbOption = None, as_json: JsonFlag = False) -> None:
    """Live vs shadow (candidate) decisions: agreement matrix and per-rule fire counts."""
    with errors(RuleSetConfigError, ModelError):
        report = pilot(db).risk.shadow_report()
    if as_json:
        print(json.dumps(report, indent=2))
        return
    if not report["orders"]:
        console.print("no shadow decisions yet: set ORDERPILOT_RISK_SHADOW_RULES to a rule set")
        return
    matrix = Table("live \\ shadow", "approve", "review", "reject",
                   title=f"{report['live_ruleset']} vs {report['shadow_ruleset']}, "
                         f"{report['orders']} orders, agreement {report['agreement']:.1%}")
    for live, row in report["matrix"].items():
        matrix.add_row(live, *(str(n) for n in row.values()))
    console.print(matrix)
    rules = Table("rule", "live fires", "shadow fires")
    for rule in sorted(set(report["rules"]["live"]) | set(report["rules"]["shadow"])):
        rules.add_row(rule, str(report["rules"]["live"].get(rule, 0)),
                      str(report["rules"]["shadow"].get(rule, 0)))
    console.print(rules)
    bad = report["bad_outcomes"]
    console.print(f"orders with a chargeback or malicious refund: {bad['orders']} "
                  f"(flagged live {bad['flagged_live']}, shadow {bad['flagged_shadow']})")


@review_app.command("list")
def review_list(db: DbOption = None, all_tasks: Annotated[bool, typer.Option(
        "--all", help="include decided tasks")] = False, as_json: JsonFlag = False) -> None:
    """Open review tasks, escalated and overdue first."""
    with errors(RuleSetConfigError, ModelError):
        tasks = pilot(db).reviews.list(include_decided=all_tasks)
    if as_json:
        print(json.dumps([t.model_dump(mode="json") for t in tasks], indent=2))
        return
    table = Table("order", "buyer", "total", "score", "reasons", "due", "status")
    for t in tasks:
        status = (f"{t.decision} by {t.decided_by}" if t.decided_by else
                  "ESCALATED" if t.escalated else "overdue" if t.overdue else "open")
        table.add_row(t.order_id, t.buyer_id, f"{t.total} {t.currency}", f"{t.score:.0f}",
                      ", ".join(r["rule"] for r in t.reasons),
                      t.due_at.isoformat(timespec="minutes"), status)
    console.print(table if tasks else "no orders waiting for review")


@review_app.command("approve")
def review_approve(order_id: str, by: By, reason: Annotated[str | None, typer.Option()] = None,
                   db: DbOption = None) -> None:
    """Release a held order to payment."""
    with errors(RuleSetConfigError, ModelError):
        order = pilot(db).reviews.approve(order_id, by=by, reason=reason)
    console.print(f"{order.id} approved by {by}: now [bold]{order.state}[/]")


@review_app.command("reject")
def review_reject(order_id: str, by: By, reason: Annotated[str | None, typer.Option()] = None,
                  blacklist: Annotated[list[str] | None, typer.Option(
                      help="also blacklist: buyer, device, phone, address, ip (repeat)")] = None,
                  db: DbOption = None) -> None:
    """Reject a held order (optionally blacklisting its buyer, device ... with it as evidence)."""
    kinds = tuple(blacklist or ())
    if kinds and "buyer" not in kinds:
        kinds = ("buyer", *kinds)
    with errors(RuleSetConfigError, ModelError):
        order = pilot(db).reviews.reject(order_id, by=by, reason=reason, blacklist=kinds)
    console.print(f"{order.id} rejected by {by}" + (f"; blacklisted {', '.join(kinds)}"
                                                    if kinds else ""))


Expires = Annotated[datetime | None, typer.Option(
    "--expires", help="the entry lapses at this UTC time (e.g. 2027-01-01T00:00)")]


@blacklist_app.command("add")
def blacklist_add(by: By, reason: Annotated[str, typer.Option(help="why (stored)")],
                  order: Annotated[str | None, typer.Option(
                      help="take the values from this order (it becomes the evidence)")] = None,
                  kind: Annotated[list[str] | None, typer.Option(
                      help="buyer, device, phone, address, ip (repeat; default buyer)")] = None,
                  value: Annotated[str | None, typer.Option(
                      help="the value to list (without --order); an IP may be a CIDR")] = None,
                  expires: Expires = None, db: DbOption = None) -> None:
    """Block from an order (`--order o-7 --kind buyer --kind device`) or one value."""
    kinds = list(kind or ["buyer"])
    with errors(RuleSetConfigError, ModelError):
        risk = pilot(db).risk
        if order:
            entries = risk.blacklist_order(order, by=by, reason=reason,
                                           kinds=kinds if "buyer" in kinds else ["buyer", *kinds])
        elif value is not None and len(kinds) == 1:
            entries = [risk.list_add("block", kinds[0], value, by=by, reason=reason,
                                     expires_at=_utc(expires))]
        else:
            raise typer.BadParameter("give --order, or one --kind with a --value")
    for e in entries:
        console.print(f"#{e.id} {e.kind} {e.shown or e.value}  evidence {e.evidence_order_ids}")


@allowlist_app.command("add")
def allowlist_add(kind: Annotated[str, typer.Option(help="buyer, device, phone, address, ip")],
                  value: Annotated[str, typer.Option(help="the value to allow")],
                  by: By, reason: Annotated[str, typer.Option(help="why (stored)")],
                  expires: Expires = None, db: DbOption = None) -> None:
    """Allow one value: its orders are approved at once unless a block list matches too."""
    with errors(RuleSetConfigError, ModelError):
        e = pilot(db).risk.list_add("allow", kind, value, by=by, reason=reason,
                                         expires_at=_utc(expires))
    console.print(f"#{e.id} allow {e.kind} {e.shown or e.value}")


def _list_command(list_name: str):
    def show(db: DbOption = None, removed: Annotated[bool, typer.Option(
            "--removed", help="include removed entries")] = False,
             as_json: JsonFlag = False) -> None:
        with errors(RuleSetConfigError, ModelError):
            entries = pilot(db).risk.lists(list_name, include_removed=removed)
        if as_json:
            print(json.dumps([e.model_dump(mode="json") for e in entries], indent=2))
            return
        table = Table("id", "kind", "value", "reason", "evidence", "by", "at", "expires",
                      "removed", title=f"{list_name} list")
        for e in entries:
            table.add_row(str(e.id), e.kind, e.shown or e.value, e.reason,
                          ", ".join(e.evidence_order_ids), e.created_by,
                          e.created_at.isoformat(timespec="minutes"),
                          e.expires_at.isoformat(timespec="minutes") if e.expires_at else "",
                          f"{e.removed_by} {e.removed_at:%Y-%m-%d}" if e.removed_at else "")
        console.print(table if entries else f"the {list_name} list is empty")
    show.__doc__ = f"{list_name.capitalize()} list entries with reason, author and expiry."
    return show


def _remove_command(list_name: str):
    def remove(entry_id: int, by: By, db: DbOption = None) -> None:
        with errors(RuleSetConfigError, ModelError):
            entry = pilot(db).risk.list_remove(entry_id, by=by)
        console.print(f"#{entry.id} {entry.kind} {entry.shown or entry.value} removed by {by}")
    remove.__doc__ = "Take an entry off the list (kept as removed, for the audit trail)."
    return remove


for _app, _name in ((blacklist_app, "block"), (allowlist_app, "allow")):
    _app.command("list")(_list_command(_name))
    _app.command("remove")(_remove_command(_name))


@risk_app.command("signup")
def signup(buyer_id: str, at: Annotated[datetime, typer.Option(
        "--at", help="when the buyer signed up (UTC)")], db: DbOption = None) -> None:
    """Tell risk control when a buyer really signed up (account age, new account + bulk)."""
    with errors(RuleSetConfigError, ModelError):
        pilot(db).risk.register_buyer(buyer_id, signed_up_at=_utc(at))
    console.print(f"{buyer_id} signed up at {_utc(at).isoformat()}")


@risk_app.command("chargeback")
def chargeback(order_id: str, by: By, note: Annotated[str, typer.Option()] = "chargeback",
               db: DbOption = None) -> None:
    """The provider reversed a paid order: the buyer's credit drops."""
    with errors(RuleSetConfigError, ModelError):
        change = pilot(db).risk.record_chargeback(order_id, by=by, note=note)
    console.print(f"{order_id}: credit {change.before} -> {change.after}")


def _utc(when: datetime | None) -> datetime | None:
    """CLI times are UTC unless they carry an offset."""
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def _ruleset(path: Path | None):
    from integrations.risk.config import default_ruleset, load_ruleset

    return load_ruleset(path) if path else default_ruleset()


def _scorer(path: Path | None):
    if path is None:
        return None
    from integrations.risk.model import load_scorer

    return load_scorer(path)


def register(app: typer.Typer) -> None:
    """Attach the risk, review and blacklist sub-apps to the main CLI."""
    app.add_typer(risk_app, name="risk")
    app.add_typer(review_app, name="review")
    app.add_typer(blacklist_app, name="blacklist")
    app.add_typer(allowlist_app, name="allowlist")
