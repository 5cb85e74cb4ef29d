"""A merchant's own history with the buyers' addresses: an optional address column (ColumnMap
`address`) places each order at the address the file gives, parsed as placements parse it."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.replay.olist import ColumnMap
from integrations.replay.runner import ReplayOptions, replay
from orderpilot import OrderPilot
from statemachine.errors import InvalidInput

SAMPLE = Path(__file__).parents[2] / "fixtures" / "orders_cn_addresses.csv"
# a Chinese shop's export: its own column names, the address on one line
CHINESE_EXPORT = ColumnMap(ref="订单编号", customer="买家", status="订单状态",
                           purchased_at="下单时间", approved_at="付款时间",
                           handed_over_at="发货时间", delivered_at="签收时间",
                           promised_by="承诺送达", address="收货地址")


def addresses(url: str) -> dict[str, dict]:
    """Each buyer's order: the address it was placed with, as placement parsed it."""
    pilot = OrderPilot(url)
    try:
        with pilot.context.tx(readonly=True) as tx:
            numbers = [r[0] for r in tx.store.sql.all("SELECT id FROM orders ORDER BY id")]
            placed = [tx.store.get_order(n) for n in numbers]
    finally:
        pilot.close()
    return {o.buyer_id: o.attrs["address"] for o in placed}


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk", "per-transition"])
def test_each_order_is_placed_at_the_chinese_address_its_row_gives(any_url, bulk):
    # Given a shop's CSV whose last column holds each buyer's address, one row without one
    # When it is replayed with that column mapped
    report = replay(SAMPLE, ReplayOptions(any_url, bulk=bulk, columns=CHINESE_EXPORT))
    # Then every row is placed and runs to the state its history leads to
    assert (report.rows_read, report.rows_replayed) == (5, 5)
    assert report.orders_by_state == {"completed": 2, "shipped": 1, "cancelled": 1, "paid": 1}
    # and each order has its row's address, read by province, city and district
    found = {buyer: (a.get("province"), a.get("city"), a.get("district"), a.get("region_code"))
             for buyer, a in addresses(any_url).items()}
    assert {b: found[b] for b in ("b-hz", "b-sh", "b-sz", "b-bj")} == {
        "b-hz": ("浙江省", "杭州市", "西湖区", "330106"),
        "b-sh": ("上海市", "上海市", "浦东新区", "310115"),
        "b-sz": ("广东省", "深圳市", "南山区", "440305"),
        "b-bj": ("北京市", "北京市", "朝阳区", "110105")}
    # and the row with an empty address cell ships to the replay's stand-in, as without one
    assert found["b-none"][:3] == (None, "replay", None)


def test_a_mapped_address_column_the_file_lacks_is_named_before_anything_is_written(tmp_path):
    # Given the Olist-style fixture, which has no address column
    olist = Path(__file__).parents[2] / "fixtures" / "orders_small.csv"
    # When it is replayed with an address column mapped
    with pytest.raises(InvalidInput) as refused:
        replay(olist, ReplayOptions(f"sqlite:///{tmp_path / 'r.db'}",
                                    columns=ColumnMap(address="收货地址")))
    # Then the error names the missing column, and no store was even opened
    assert "收货地址" in str(refused.value)
    assert not (tmp_path / "r.db").exists()
