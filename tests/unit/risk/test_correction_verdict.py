"""`judge_correction`: placement's address rules on a corrected address, with what the
correction did not change (the buyer, device, IP; velocity by buyer) left out."""

from __future__ import annotations

from statemachine.risk.correction import field_of, judge_correction
from tests.unit.risk.factories import an_order, default_rules, hangzhou, quiet_signals


def test_only_the_address_and_phone_count_among_list_hits_and_velocity():
    # Given a buyer and device listed since placement, and many orders by the buyer in the hour
    signals = quiet_signals(blacklist_hits=("buyer", "device"), velocity={"buyer": 9},
                            allow_hits=("buyer",))
    facts = an_order(address=hangzhou(), phone=None)
    # Then the correction meets none of them: it changes where the order goes, not who buys
    verdict = judge_correction(facts, signals, default_rules())
    assert (verdict.blocks, verdict.holds, verdict.allowed) == ((), (), False)


def test_a_listed_address_blocks_and_names_its_field():
    signals = quiet_signals(blacklist_hits=("buyer", "address", "phone"))
    verdict = judge_correction(an_order(address=hangzhou()), signals, default_rules())
    [block] = verdict.blocks
    assert block.values["hits"] == ("address", "phone")
    assert field_of(block) == ("address", "address.phone")


def test_a_vague_address_holds_unless_allow_listed():
    locker = hangzhou("文三路18号菜鸟驿站")
    held = judge_correction(an_order(address=locker), quiet_signals(), default_rules())
    assert [r.rule for r in held.holds] == ["vague_address"] and not held.allowed
    allowed = judge_correction(an_order(address=locker),
                               quiet_signals(allow_hits=("address",)), default_rules())
    assert allowed.allowed
