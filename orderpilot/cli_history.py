"""An order's history as `orderpilot order show` prints it, readable at any terminal width.

A wide terminal gets one table row a step. Below `TABLE_WIDTH` columns (80 when the output is
piped) seven columns leave the details a few characters each, so each step is printed as a
heading (time, entity, trigger, from → to) with who did it and its details wrapped beneath. Widths
are terminal cells: rich counts a Chinese character as two, so a reason in Chinese wraps where
the terminal would. Values are printed as text, never read as rich markup.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from integrations.service.views import TransitionView

TABLE_WIDTH = 160  # the table's seven columns and ~60 cells of details fit from here
TABLE_DETAILS = 80  # characters of details a table row shows
INDENT = 4


def history_view(history: Sequence[TransitionView], width: int) -> RenderableType:
    """The history as a table on a wide terminal, else as headed steps with wrapped details."""
    return _table(history) if width >= TABLE_WIDTH else _steps(history)


def _details(step: TransitionView) -> str:
    return json.dumps(step.payload, ensure_ascii=False)


def _table(history: Sequence[TransitionView]) -> Table:
    table = Table("at", "entity", "trigger", "from", "to", "actor", "details")
    for h in history:
        table.add_row(*(Text(cell) for cell in (
            h.at.isoformat(timespec="seconds"), h.entity_id, h.trigger, h.from_state or "",
            h.to_state, h.actor, _details(h)[:TABLE_DETAILS])))
    return table


def _steps(history: Sequence[TransitionView]) -> Group:
    """Per step: time, entity, trigger and move on one line; who, then the details, beneath."""
    parts: list[RenderableType] = []
    for h in history:
        moved = f"{h.from_state} → {h.to_state}" if h.from_state else h.to_state
        parts.append(Text.assemble((h.at.isoformat(timespec="seconds"), "dim"), "  ",
                                   h.entity_id, "  ", (h.trigger, "bold"), "  ", moved))
        beneath = [Text(f"by {h.actor}")] + ([Text(_details(h))] if h.payload else [])
        parts.append(Padding(Group(*beneath), (0, 0, 0, INDENT), expand=False))
    return Group(*parts)
