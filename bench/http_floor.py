"""The floor for bench/ingest_http.py: a bare FastAPI endpoint doing one SQLite INSERT per request.

    python bench/http_floor.py --db /tmp/floor.db --port 18740

Served the way `orderpilot api` serves the product (one uvicorn process, the same host, log
level and access log), on a file with the product's SQLite settings (WAL, `--synchronous`
as ORDERPILOT_SQLITE_SYNCHRONOUS, BEGIN IMMEDIATE … COMMIT on a connection kept open per
worker thread). The route is a sync
function, so it runs in the same thread pool as the product's routes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import Body, FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from integrations.db.engine import (  # noqa: E402
    DEFAULT_SQLITE_SYNCHRONOUS,
    SQLITE_SYNCHRONOUS,
    tune_sqlite_connection,
)


def create_floor_app(path: str, synchronous: str = DEFAULT_SQLITE_SYNCHRONOUS) -> FastAPI:
    """POST /v1/shop/orders stores the JSON body as one row; 201 with the row id."""
    app = FastAPI(title="bare floor")
    local = threading.local()
    with contextlib.closing(_connect(path, synchronous)) as setup:
        setup.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, "
                      "event_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL)")

    @app.post("/v1/shop/orders", status_code=201)
    def insert(event: dict[str, Any] = Body(...)) -> dict[str, int]:  # noqa: B008
        if not hasattr(local, "db"):
            local.db = _connect(path, synchronous)
        db = local.db
        db.execute("BEGIN IMMEDIATE")
        row = db.execute("INSERT INTO events (event_id, body) VALUES (?, ?)",
                         (event["event_id"], json.dumps(event))).lastrowid
        db.execute("COMMIT")
        return {"id": row}

    return app


def _connect(path: str, synchronous: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False)
    tune_sqlite_connection(db, synchronous)
    return db


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--synchronous", choices=SQLITE_SYNCHRONOUS,
                        default=DEFAULT_SQLITE_SYNCHRONOUS)
    args = parser.parse_args()
    # the settings `orderpilot api` passes to uvicorn.run (orderpilot/cli_integrations.py)
    uvicorn.run(create_floor_app(args.db, args.synchronous), host="127.0.0.1", port=args.port,
                log_level="info")
