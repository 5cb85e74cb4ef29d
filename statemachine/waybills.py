"""A waybill's identity. Carriers print their numbers in capitals (SF-0000050, JDV0123…), but
people type them and tracking providers send them back in any case: `sf-0000050` on a box is
SF's waybill SF-0000050. Numbers and carrier names are therefore compared in one form, their
ASCII letters in capitals, and stored as they were given (what the person typed stays in the
history). Only ASCII: a waybill number is ASCII in practice, and both stores can capitalise
exactly those letters (SQLite's UPPER knows no others; PostgreSQL's, under COLLATE "C", none
either), so the store and Python always agree on which two numbers are one."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping

_ASCII_CAPITALS = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
# the last count a carrier's waybill numbers reach (SF-9223372036854775807): the store counts
# them per prefix in a BIGINT (db/carrier_store.py stops its counter there, and reads no typed
# number past it as one of the simulated carrier's, which says so when its numbers run out)
COUNT_MAX = 2**63 - 1


def waybill_key(text: str) -> str:
    """`text` (a tracking number or a carrier name) in the form two are compared in."""
    return text.translate(_ASCII_CAPITALS)


def carrier_names(counts: Mapping[str, int], known: Iterable[str] = ()) -> dict[str, str]:
    """The name each carrier goes by in a report, by key: the name `known` gives it (the
    catalogue's, which selection looks KPIs up by), else the form most of `counts` (parcels
    per carrier name as stored) used, the one sorting first on a tie."""
    names: dict[str, str] = {}
    for name, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        names.setdefault(waybill_key(name), name)
    names.update({waybill_key(name): name for name in known})
    return {key: names[key] for key in {waybill_key(name) for name in counts}}
