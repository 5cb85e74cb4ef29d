"""Issue 10: a service call reads the clock once, at its entry, and passes that `now` down.

Why this is a test: a helper below an entry that reads `ctx.clock.now()` itself (or falls back
to it when `now` is left out) writes a second time in the same call — a step, its money request
and its history a millisecond apart. tests/integration/one_time.py catches that on the paths it
runs; this check catches it on every path, from the source. In integrations/service/ the clock
is read only by a service entry: a public function that runs its own units of work. A private
helper, a lambda, or a function handed the caller's unit of work (a `tx` parameter) takes
`now` instead. So do the money calls every entry makes after its commit (`money.execute` and
what wraps it, `settle`, `fail`): public, but below the entry that recorded the operation (or
the money sweep's pass), whose time they book the provider's answer at. And the transitions,
the money request and those calls take `now` with no default (a default would have to read the
clock below the entry).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from integrations.service import aftersales, claims, disputes, money, orders, shipments
from integrations.service.money_requests import request

ROOT = Path(__file__).resolve().parents[2]
SERVICE = ROOT / "integrations" / "service"
Function = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
# public, yet run below an entry: they book at its `now` (before, each read the clock again)
MONEY_BELOW = [money.execute, money.execute_quietly, money.execute_after_commit,
               money.execute_pending, money.settle, money.fail]


def _reads_clock(node: ast.AST) -> bool:
    """`<anything>.clock.now()`: the context's clock, or a pilot's."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "now" and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "clock")


def _below_an_entry(fn: Function, below: frozenset[str]) -> bool:
    args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
    return (isinstance(fn, ast.Lambda) or fn.name.startswith("_") or fn.name in below
            or any(a.arg == "tx" for a in args))


def reads_below_an_entry(source: str, below: frozenset[str] = frozenset()) -> list[str]:
    """Clock reads whose innermost enclosing function is not a service entry (`below`: the
    public functions of this module that run below one)."""
    found: list[str] = []

    def visit(node: ast.AST, fn: Function | None) -> None:
        if _reads_clock(node) and fn is not None and _below_an_entry(fn, below):
            name = "lambda" if isinstance(fn, ast.Lambda) else fn.name
            found.append(f"line {node.lineno}: {name}")
        inner = node if isinstance(node, Function) else fn
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(ast.parse(source), None)
    return found


def test_the_check_tells_an_entry_from_what_runs_below_it():
    entry = ("def cancel(ctx, n):\n    now = ctx.clock.now()\n    with ctx.tx() as tx:\n"
             "        _cancel(ctx, tx, n, now)\n")
    assert reads_below_an_entry(entry) == []
    assert reads_below_an_entry("def fire(ctx, tx, o, now=None):\n"
                                "    return now or ctx.clock.now()\n") == ["line 2: fire"]
    assert reads_below_an_entry("def _start(ctx, n):\n    at = self.ctx.clock.now()\n") == [
        "line 2: _start"]
    assert reads_below_an_entry("def run(ctx):\n    def apply(tx, e):\n"
                                "        return ctx.clock.now()\n") == ["line 3: apply"]
    assert reads_below_an_entry("def run(ctx):\n    f = lambda: ctx.clock.now()\n") == [
        "line 2: lambda"]
    settle = "def settle(ctx, key, result):\n    now = ctx.clock.now()\n"
    assert reads_below_an_entry(settle) == []
    assert reads_below_an_entry(settle, frozenset({"settle"})) == ["line 2: settle"]


def test_no_service_helper_reads_the_clock():
    below = {SERVICE / "money.py": frozenset(fn.__name__ for fn in MONEY_BELOW)}
    offenders = {str(path.relative_to(ROOT)): reads for path in sorted(SERVICE.rglob("*.py"))
                 if (reads := reads_below_an_entry(path.read_text(),
                                                   below.get(path, frozenset())))}
    assert offenders == {}


def test_every_transition_and_money_request_takes_its_time_from_its_caller():
    fires = [orders.fire, shipments.fire, aftersales.fire, disputes.fire, claims.fire]
    times = {f"{fn.__module__}.{fn.__name__}({name})": inspect.signature(fn).parameters[name]
             for fn, name in [*((f, "now") for f in fires), (request, "at"),
                              *((f, "now") for f in MONEY_BELOW)]}
    assert [where for where, p in times.items() if p.default is not p.empty] == []
    # the transitions take it by name: a forgotten `now` fails at the call, never shifts
    assert [where for where, p in list(times.items())[:5] if p.kind is not p.KEYWORD_ONLY] == []
