"""`find_region` gives jionlp's own answer: the prefiltered parser against `jionlp.parse_location`.

The prefilter (integrations/geo/prefilter.py) shows jionlp's parser only the division entries
whose names occur in the text. Compared here, Region by Region (province, city, district, code
and the detail left), with jionlp's parser scanning every name, on the test corpus and on
addresses written from jionlp's own division table (address_variants.py).
"""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from integrations.geo.regions import Region, find_region, region_by_jionlp
from tests.unit.geo.address_variants import TRAPS, corpus

CORPUS = Path(__file__).parents[2] / "fixtures" / "cn_addresses.csv"
with CORPUS.open(encoding="utf-8") as _handle:
    CSV_TEXTS = [r["text"] or r["province_in"] + r["city_in"] + r["district_in"] + r["street_in"]
                 for r in csv.DictReader(_handle)]


def first_seen(text: str) -> Region:
    """find_region without its cache by text."""
    return find_region.__wrapped__(text)


def differences(texts: list[str]) -> list[tuple[str, Region, Region]]:
    return [(t, new, old) for t in texts if (new := first_seen(t)) != (old := region_by_jionlp(t))]


def test_every_corpus_address_gets_jionlps_region():
    assert differences(CSV_TEXTS) == []


def test_the_traps_get_jionlps_region():
    # Given names inside street names, a district alone, landmarks, Latin and empty text
    # When both finders read them
    # Then they agree, including where jionlp leaves the code out or guesses
    assert differences(list(TRAPS)) == []


def test_a_sample_of_every_form_from_jionlps_own_table_gets_jionlps_region():
    texts = corpus(seed=10, every=80)
    assert len(texts) > 350
    assert differences(texts) == []


@pytest.mark.slow
@pytest.mark.soak  # ~3 min, nearly all of it jionlp's own scan: kept out of CI's budget
def test_every_county_in_every_form_and_every_old_name_gets_jionlps_region():
    texts = corpus(seed=11)  # ~27,700 addresses; the fast sample above runs in CI
    assert len(texts) > 27_000
    assert differences(texts) == []


def test_the_ambiguous_and_the_reordered_keep_their_known_answers():
    assert find_region("朝阳区建国路88号").code is None
    assert find_region("西湖区文三路18号, 杭州市").code == "330106"
    assert find_region("").code is None


def test_threads_finding_regions_at_once_get_the_answers_of_one_thread():
    # Given the answers found one at a time
    texts = CSV_TEXTS + list(TRAPS)
    alone = [first_seen(t) for t in texts]
    # When eight threads find them at once, each in its own order
    with ThreadPoolExecutor(8) as pool:
        runs = list(pool.map(lambda k: [first_seen(t) for t in texts[k:] + texts[:k]],
                             range(0, 8 * 29, 29)))
    # Then every thread got the same answers
    for k, run in zip(range(0, 8 * 29, 29), runs, strict=True):
        assert run == alone[k:] + alone[:k]
