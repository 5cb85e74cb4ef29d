"""Where a server's time goes, by layer: py-spy samples of a running process, classified.

Used by bench/ingest_http.py --profile. py-spy (`pip install py-spy`) samples every thread that
is on a CPU (idle threads are left out), so C code that releases the GIL (SQLite) is counted.
Each sample is put in the first layer that matches, most specific first:

    BEGIN/COMMIT   the unit of work's BEGIN and COMMIT (integrations/db/units.py, group commit)
    risk           risk signals, rules, address and phone parsing (their SQL reads included)
    writer/SQL     integrations/db and SQLAlchemy (the service's statements)
    service        integrations/service, integrations/ingest, statemachine (the domain)
    logging        the access log (uvicorn logs each request at info, masked for PII)
    HTTP/pydantic  uvicorn, h11, starlette, FastAPI, pydantic, anyio, asyncio, integrations/http
    other          what none of the above claims (threads, queues, the interpreter)
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
COMMIT_FUNCTIONS = {"_commit", "_commit_impl", "commit", "do_commit", "_rolled_back"}
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("risk", ("/integrations/risk/", "/statemachine/risk/", "/integrations/geo/",
              "/jionlp/", "/cpca/", "/phonenumbers/")),
    ("writer/SQL", ("/integrations/db/", "/sqlalchemy/", "sqlite3")),
    ("service", ("/integrations/service/", "/integrations/ingest/", "/statemachine/",
                 "/orderpilot/api", "/orderpilot/risk")),
    ("logging", ("/logging/", "/integrations/notifications/masking")),
    ("HTTP/pydantic", ("/uvicorn/", "/h11/", "/starlette/", "/fastapi/", "/pydantic",
                       "/anyio/", "/asyncio/", "/integrations/http/", "/json/", "/email/")),
)


def record(pid: int, seconds: float, out: Path, py_spy: str, rate: int = 200
           ) -> subprocess.Popen[bytes]:
    """Start sampling `pid` for `seconds` into `out` (folded stacks); the caller waits."""
    return subprocess.Popen([py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)),
                             "--rate", str(rate), "--format", "raw", "--full-filenames",
                             "--nonblocking", "--gil", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def layers(folded: Path, top: int = 4) -> dict[str, Any]:
    """Share of the samples per layer, and each layer's top functions (self time)."""
    per_layer: Counter[str] = Counter()
    functions: dict[str, Counter[str]] = defaultdict(Counter)
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_frame(f) for f in stack.split(";")]
        layer = _layer(frames)
        per_layer[layer] += int(count)
        function, file, _ = frames[-1]
        functions[layer][f"{function} ({_short(file)})"] += int(count)
    total = sum(per_layer.values()) or 1
    return {"samples": total, "layers": {
        layer: {"share": round(n / total, 3), "top": [
            {"function": f, "share": round(k / total, 3)}
            for f, k in functions[layer].most_common(top)]}
        for layer, n in per_layer.most_common()}}


def _layer(frames: list[tuple[str, str, str]]) -> str:
    if any(_is_commit(function, path) for function, path, _ in frames) or (
            frames[-1][0].endswith("begin") and "/db/units" in frames[-1][1]):
        return "BEGIN/COMMIT"
    for layer, marks in LAYERS:
        if any(mark in path for _, path, _ in frames for mark in marks):
            return layer
    return "other"


def _is_commit(function: str, path: str) -> bool:
    return function.rsplit(".", 1)[-1] in COMMIT_FUNCTIONS and (
        "/db/" in path or "/sqlalchemy/" in path or "group_commit" in path)


def _frame(text: str) -> tuple[str, str, str]:
    match = FRAME.match(text.strip())
    if match is None:
        return text.strip(), "", ""
    return match["function"], match["file"], match["line"] or ""


def _short(path: str) -> str:
    root = str(Path(__file__).resolve().parents[1]) + "/"
    if path.startswith(root):
        return path[len(root):]
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1]
    return Path(path).name
