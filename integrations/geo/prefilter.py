"""jionlp's `LocationParser`, shown only the division entries whose names occur in the text.

jionlp's `get_candidates` tests every one of its ~3,560 entries (province, city, county and
their short names, old names included) against the text with `name in text`: that loop was
~half of a webhook placement's server CPU. Most entries share no name with the address. This
subclass indexes the entries by name once, finds the names present (a dict lookup per text
position and name length), and runs jionlp's own `get_candidates` and resolution on those
entries only, in jionlp's order. The answers are jionlp's, by construction:

1. An entry becomes a candidate only if one of its names occurs in the text (its count must be
   above 0), so the entries left out are exactly those jionlp would drop; the order is kept,
   and jionlp's later steps look only at the candidates and the text.
2. An entry whose only name present is its province's counts at most 1. When an entry matched
   by a city or county name counts 2 or more with its matches at distinct offsets (so jionlp's
   step 2.0 keeps it), jionlp's step 2.1 keeps only the highest count, dropping every such
   province-only entry: they are then not looked at (a province has up to 180 entries).

Import it through `integrations.geo.regions` (jionlp greets on stdout when first imported).
Not thread-safe, like jionlp's parser: jionlp writes each call's counts into the shared entries.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from jionlp.gadget.location_parser import LocationParser

Entry = list[Any]  # jionlp's [code, [prov, alias], [city, alias], [county, alias], is_new, ...]


class PrefilteredLocationParser(LocationParser):
    """`jionlp.parse_location` for province / city / county, without the scan of every name."""

    def __init__(self) -> None:
        super().__init__()
        self._prepare()  # jionlp's own table of entries, built once (jionlp does it lazily)
        self._by_name: dict[str, tuple[frozenset[int], frozenset[int]]] = {}
        self._lengths: dict[str, tuple[int, ...]] = {}  # first character → name lengths
        self._always: tuple[set[int], set[int]] = (set(), set())  # an empty name: in any text
        self._index(self.administrative_map_list)

    def _index(self, entries: list[Entry]) -> None:
        by_name: dict[str, tuple[set[int], set[int]]] = {}
        for i, entry in enumerate(entries):
            for level, names in enumerate(entry[1:4]):
                for name in names:
                    if name == "":
                        self._always[level > 0].add(i)
                    elif name is not None:
                        by_name.setdefault(name, (set(), set()))[level > 0].add(i)
        self._by_name = {n: (frozenset(p), frozenset(c)) for n, (p, c) in by_name.items()}
        lengths: dict[str, set[int]] = {}
        for name in by_name:
            lengths.setdefault(name[0], set()).add(len(name))
        self._lengths = {first: tuple(sorted(ls)) for first, ls in lengths.items()}

    def __call__(self, location_text: str, town_village: bool = False,
                 change2new: bool = True) -> dict[str, Any]:
        if town_village:  # jionlp would rebuild its table under the index
            raise NotImplementedError("the name index covers province, city and county")
        return super().__call__(location_text, False, change2new)

    def get_candidates(self, location_text: str) -> list[Entry]:
        """jionlp's candidate entries for the text, in jionlp's order (see the module doc)."""
        by_province, below = self._present(location_text)
        found = self._jionlp_candidates(below, location_text)
        if not by_province or any(entry[-2] >= 2 and _distinct(entry[-1]) for entry in found):
            return found  # (no entry by a province name only: the whole set was this one)
        return self._jionlp_candidates(by_province | below, location_text)

    def _present(self, text: str) -> tuple[set[int], set[int]]:
        """Entries with a name in the text: (by a province name only, by a city or county)."""
        by_province, below = set(self._always[0]), set(self._always[1])
        by_name, lengths = self._by_name, self._lengths
        for start, char in enumerate(text):
            for length in lengths.get(char, ()):
                hit = by_name.get(text[start:start + length])
                if hit:
                    by_province |= hit[0]
                    below |= hit[1]
        return by_province - below, below

    def _jionlp_candidates(self, indices: set[int], text: str) -> list[Entry]:
        entries = self.administrative_map_list
        view = SimpleNamespace(administrative_map_list=[entries[i] for i in sorted(indices)],
                               municipalities_cities=self.municipalities_cities,
                               _process_exception_alias=self._process_exception_alias)
        return LocationParser.get_candidates(view, text)


def _distinct(offsets: list[list[int]]) -> bool:
    """No two levels matched at one offset: jionlp's step 2.0 keeps the entry."""
    found = [offset for offset, _ in offsets if offset > -1]
    return len(found) == len(set(found))
