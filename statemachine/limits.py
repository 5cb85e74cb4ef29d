"""Input limits: one source of truth for the API schema and the columns that store the values.

Every text a caller sends is checked at the edge (pydantic models in `integrations.service.inputs`
and `integrations.ingest.events`) against a limit defined here, and the column that keeps it
(`integrations.db.schema*`) is declared with the same constant, so a value the API accepts always
fits the store — on PostgreSQL, where a `varchar(n)` refuses a longer value, as on SQLite, which
would keep it silently. Limits count characters (PostgreSQL's `varchar(n)` does too), whatever the
script: 500 Chinese characters fit a 500 reason.

Text the stores cannot hold at all is refused at the edge as well: U+0000 (PostgreSQL text
cannot contain it) and lone UTF-16 surrogates (not encodable as UTF-8).
"""

from __future__ import annotations

import unicodedata

NAME = 64  # ids chosen by the shop: buyers, skus, warehouses, carriers (ASCII, see NAME pattern)
REF = 128  # references from outside: payment refs, tracking numbers, event ids, device ids
ACTOR = 128  # who did it: "reviewer:mei", "carrier:sf-express"
REASON = 500  # a reason or short note typed by a person or sent by a provider
LOCATION = 200  # a carrier scan's place
NOTES = 1000  # an inspection's notes
NOTE = 5000  # a free note attached to an order
IDEMPOTENCY_KEY = 200
PHONE = 32
ADDRESS_LINE = 400  # a whole address on one line
STREET = 300
REGION = 100  # province, city, district, recipient
POSTAL_CODE = 20
ADDRESS_KEY = 500  # the normalised comparison key of an address (risk control)
IP = 64
URL = 2000  # a webhook subscriber's URL, as sent (percent-encoded)

UNSTORABLE = {"\x00": "NUL (U+0000)"}


# characters that draw nothing although Unicode files them as letters or symbols: the Hangul
# fillers (the usual "blank" nickname, U+3164) and the Braille blank
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# format (zero-width space, joiners, BOM), control, and combining marks with nothing to sit on
UNSEEN = frozenset({"Cf", "Cc", "Mn", "Me"})


def invisible(text: str) -> str | None:
    """Why `text` says nothing although it is not empty: only spaces, format characters
    (zero-width space U+200B, joiners, BOM U+FEFF, word joiner U+2060), control characters,
    combining marks alone, or blank letters (Hangul filler U+3164, Braille blank U+2800). Such
    an address line or name looks blank to a person and to the address parser, but passes
    `min_length`."""
    if text and all(c.isspace() or c in BLANK_LETTERS or unicodedata.category(c) in UNSEEN
                    for c in text):
        shown = ", ".join(sorted({f"U+{ord(c):04X}" for c in text if not c.isspace()}))
        return f"expected visible text (got only invisible characters: {shown})"
    return None


def unstorable(text: str) -> str | None:
    """What in `text` no store can keep (None when it is fine)."""
    for char, name in UNSTORABLE.items():
        if char in text:
            return f"must not contain {name}"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (it contains a lone surrogate)"
    return None
