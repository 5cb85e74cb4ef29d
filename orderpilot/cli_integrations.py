"""CLI for the integrations: `orderpilot api`, `orderpilot note add|list`, `orderpilot evidence`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from orderpilot.api_integrations import add_note, evidence_pack, http_app, notes
from orderpilot.cli_common import DbOption, errors, pilot

note_app = typer.Typer(help="Notes and messages attached to orders.", no_args_is_help=True)
console = Console()


def api(db: DbOption = None,
        host: Annotated[str | None, typer.Option(help="bind address (default: settings)")] = None,
        port: Annotated[int | None, typer.Option(help="port (default: settings)")] = None,
        group_commit: Annotated[bool, typer.Option(
            "--group-commit", help="apply concurrent events in shared transactions "
            "(ORDERPILOT_HTTP_GROUP_COMMIT)")] = False,
        ) -> None:
    """Serve the signed webhook / ingestion HTTP API (secrets from ORDERPILOT_HTTP_SECRETS)."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from integrations.config import read_settings
    from integrations.http.settings import HttpSettings
    from integrations.notifications.masking import pii_log_config

    with errors():
        settings = read_settings(HttpSettings)
    if group_commit:
        settings = settings.model_copy(update={"group_commit": True})
    if not settings.secrets:
        console.print("[yellow]warning:[/] ORDERPILOT_HTTP_SECRETS is empty: every /v1 "
                      "request will be refused (401)")
    with errors():
        served = pilot(db)  # closed when the command ends (cli_common)
    uvicorn.run(http_app(served, settings), host=host or settings.host,
                port=port or settings.port, log_level="info",
                log_config=pii_log_config(LOGGING_CONFIG))  # errors may quote personal data


@note_app.command("add")
def note_add(order_id: str, text: str, db: DbOption = None,
             by: Annotated[str, typer.Option(help="who writes the note")] = "cli",
             kind: Annotated[str, typer.Option(help="note or message")] = "note") -> None:
    """Attach a note to an order, e.g. `orderpilot note add o-7 "called buyer" --by amy`."""
    with errors():
        note = add_note(pilot(db), order_id, text, by=by, kind=kind)
    console.print(f"note {note.id} added to {note.order_id} by {note.author}")


@note_app.command("list")
def note_list(order_id: str, db: DbOption = None) -> None:
    """Every note and message on an order, oldest first."""
    table = Table("at", "kind", "author", "text", "attachments")
    with errors():
        for n in notes(pilot(db), order_id):
            table.add_row(n.at.isoformat(timespec="seconds"), n.kind, n.author, n.text,
                          " ".join(n.attachments))
    console.print(table)


def evidence(order_id: str,
             out: Annotated[Path, typer.Option("--out", help="directory to write into")],
             db: DbOption = None,
             reveal_pii: Annotated[bool, typer.Option(
                 "--reveal-pii", help="keep phone, street and recipient unmasked")] = False,
             ) -> None:
    """Write the evidence pack of an order (JSON + Markdown) for a platform report."""
    with errors():
        files = evidence_pack(pilot(db), order_id, out, reveal_pii=reveal_pii)
    console.print(f"wrote {files.json_path} and {files.markdown_path}")


def register(app: typer.Typer) -> None:
    """Add the integration commands to the main `orderpilot` app."""
    app.command("api")(api)
    app.command("evidence")(evidence)
    app.add_typer(note_app, name="note")
