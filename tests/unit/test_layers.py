"""Imports point one way: orderpilot → deployments → flows → integrations → statemachine.

Also: only flows/ and deployments/ import prefect, and the domain (statemachine/) imports
nothing but the standard library and transitions. Inside integrations/, the import-linter
contracts of pyproject.toml ([tool.importlinter]) hold: drivers → service → adapters, SQL
only in db/ (the listed debt aside), no circles among sibling modules. Each contract is also
shown to break when the code breaks its rule, so none of them passes vacuously.
"""

from __future__ import annotations

import ast
import copy
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest
from importlinter import api
from importlinter.application import use_cases
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.layers import LayersContract

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["orderpilot", "deployments", "flows", "integrations", "statemachine"]
PREFECT_ALLOWED = {"flows", "deployments", "orderpilot"}  # orderpilot only lazily, for the CLI


def imports_of(package: str) -> list[tuple[Path, str]]:
    found = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module))
    return found


@pytest.mark.parametrize("package", LAYERS)
def test_no_package_imports_a_layer_above_it(package):
    above = set(LAYERS[: LAYERS.index(package)])
    wrong = [(str(p.relative_to(ROOT)), m) for p, m in imports_of(package)
             if m.split(".")[0] in above]
    assert wrong == []


@pytest.mark.parametrize("package", sorted(set(LAYERS) - PREFECT_ALLOWED))
def test_only_flows_and_deployments_import_prefect(package):
    assert [str(p) for p, m in imports_of(package) if m.split(".")[0] == "prefect"] == []


def test_the_domain_imports_only_the_standard_library_and_transitions():
    allowed = set(sys.stdlib_module_names) | {"transitions", "statemachine", "__future__"}
    foreign = sorted({m for _, m in imports_of("statemachine") if m.split(".")[0] not in allowed})
    assert foreign == []


# --- the import-linter contracts ----------------------------------------------------------------

PYPROJECT = ROOT / "pyproject.toml"
ROOTS = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["root_packages"]
KINDS = {"layers": LayersContract, "forbidden": ForbiddenContract,
         "acyclic_siblings": AcyclicSiblingsContract}
WINGS = "Inside integrations: drivers -> service -> adapters"
SQL = "SQL only in db"
CIRCLES = "No import circles among siblings"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*ROOTS, include_external_packages=True,
                             cache_dir=None)


def holds(graph: grimp.ImportGraph, name: str, *extra: tuple[str, str]) -> bool:
    """Whether the named contract holds on the code's graph plus the `extra` imports."""
    config = api.read_configuration(str(PYPROJECT))  # the options as lint-imports reads them
    [options] = [c for c in config["contracts_options"] if c["name"] == name]
    contract = KINDS[options["type"]](name=name, contract_options=options,
                                      session_options=config["session_options"])
    changed = copy.deepcopy(graph)
    for importer, imported in extra:
        changed.add_import(importer=importer, imported=imported)
    return contract.check(changed, verbose=False).kept


def test_import_linter_contracts_hold():
    """What `lint-imports` checks (its report is printed when this fails)."""
    assert use_cases.lint_imports(config_filename=str(PYPROJECT), cache_dir=None,
                                  no_logo=True) is use_cases.SUCCESS


def test_every_package_of_the_code_is_one_import_linter_sees():
    """A folder without __init__.py is a namespace package that grimp skips: service/ had none,
    so no contract looked at it. Only the alembic scripts may go without."""
    blind = sorted(str(d.relative_to(ROOT)) for pkg in ROOTS
                   for d in [ROOT / pkg, *(ROOT / pkg).rglob("*")]
                   if d.is_dir() and any(d.glob("*.py")) and not (d / "__init__.py").exists()
                   and "migrations" not in d.parts)
    assert blind == []


@pytest.mark.parametrize(("importer", "imported"), [
    ("integrations.db.writer", "integrations.service.orders"),  # an adapter calls a use case
    ("integrations.payments.simulated", "integrations.service.money"),
    ("integrations.service.orders", "integrations.http.app"),  # a use case calls a driver
    ("integrations.service.money", "integrations.ingest.handlers"),
])
def test_the_wings_break_when_an_import_points_up(graph, importer, imported):
    assert holds(graph, WINGS)
    assert not holds(graph, WINGS, (importer, imported))


def test_a_new_folder_in_integrations_must_be_placed_in_a_wing(graph):
    changed = copy.deepcopy(graph)
    changed.add_module("integrations.newthing")
    assert holds(graph, WINGS)
    assert not holds(changed, WINGS)  # exhaustive: a module in no wing breaks the contract


@pytest.mark.parametrize(("importer", "imported"), [
    ("integrations.service.orders", "sqlalchemy"),
    ("integrations.service.context", "sqlalchemy"),  # the unit of work's types: db/ now
    ("integrations.http.app", "sqlite3"),
    ("integrations.payments.simulated", "psycopg"),
])
def test_sql_outside_db_breaks_its_contract(graph, importer, imported):
    assert holds(graph, SQL)
    assert not holds(graph, SQL, (importer, imported))


@pytest.mark.parametrize(("importer", "imported"), [
    ("integrations.db.base", "integrations.db.schema_risk"),  # the circle base.py cut
    ("integrations.service.pipeline", "integrations.service.shipments"),
    ("orderpilot.cli_common", "orderpilot.cli_fulfil"),  # the circle cli_common.py cut
    ("integrations.db.unit_of_work", "integrations.service.context"),  # a circle of wings
])
def test_a_circle_among_siblings_breaks_its_contract(graph, importer, imported):
    """Each extra import reverses one the code has, closing a circle."""
    assert graph.direct_import_exists(importer=imported, imported=importer)
    assert holds(graph, CIRCLES)
    assert not holds(graph, CIRCLES, (importer, imported))


# --- SQL text outside db/ ------------------------------------------------------------------------
# "SQL only in db" sees imports of SQLAlchemy and the drivers; SQL text run through db/'s own
# cursor (`tx.store.sql`, `db.sql.Sql`) imports neither. This walks the string constants.

SQL_TEXT = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\s", re.ASCII)
SQL_WORD = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|WITH)\s")
SQL_TEXT_ALLOWED = {"orderpilot.up"}  # creates Prefect's own database, not the store
SQL_TEXT_DEBT: set[str] = set()  # issue 10, "all SQL lives in db/": paid off (a new entry is debt)


def modules_with_sql_text() -> set[str]:
    found = set()
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if relative.parts[:2] == ("integrations", "db"):
                continue
            text = path.read_text()
            if not SQL_WORD.search(text):  # most modules: no need to parse
                continue
            if any(SQL_TEXT.match(_leading_text(node)) for node in ast.walk(ast.parse(text))):
                found.add(".".join(relative.with_suffix("").parts))
    return found


def _leading_text(node: ast.AST) -> str:
    """A string constant's text, or an f-string's text before its first placeholder."""
    if isinstance(node, ast.JoinedStr) and node.values:
        node = node.values[0]
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""


def test_sql_text_lives_in_db_but_for_the_listed_debt():
    assert modules_with_sql_text() - SQL_TEXT_ALLOWED == SQL_TEXT_DEBT


@pytest.mark.parametrize("module", ["orderpilot", "orderpilot.cli"])
def test_the_api_and_the_cli_load_without_prefect(module):
    # Prefect takes seconds to import; `orderpilot order show` or a shop's own code calling the
    # Python API must not pay for it. The commands that talk to Prefect import it themselves.
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, {module}; print(sorted({{m.split('.')[0] "
         "for m in sys.modules} & {'prefect', 'flows', 'deployments'}))"],
        cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
