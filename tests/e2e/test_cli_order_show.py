"""`orderpilot order show` at a terminal's width: at 80 columns (a narrow terminal, or any
piped output) each step's details are printed whole beneath it, wrapped in terminal cells (a
Chinese character takes two), instead of squeezed into a table column of a few characters."""

from __future__ import annotations

from rich.cells import cell_len
from typer.testing import CliRunner

from orderpilot import OrderPilot
from orderpilot.cli import app
from tests.factories import placed_order, stock

ADDRESS = {"province": "浙江省", "city": "杭州市", "district": "西湖区",
           "street": "文三路18号华星科技大厦7楼", "recipient": "李雷", "phone": "13800000000"}
REASON = "买家来电：收货地址填错了，楼层和门牌号都不对，请取消订单后重新下单，谢谢配合"


def shown(sqlite_url: str, order_id: str, columns: int) -> list[str]:
    result = CliRunner(env={"COLUMNS": str(columns), "NO_COLOR": "1"}).invoke(
        app, ["order", "show", order_id, "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_at_80_columns_every_step_shows_its_chinese_details_whole(sqlite_url, clock):
    # Given an order placed to a Chinese address and cancelled with a long reason in Chinese
    pilot = OrderPilot(sqlite_url, clock=clock)
    stock(pilot)
    order = placed_order(pilot, shipping_address=ADDRESS)
    pilot.orders.fire(order.id, "cancel", actor="客服:王芳", reason=REASON)
    pilot.close()
    # When it is shown on an 80-column terminal
    lines = shown(sqlite_url, order.id, 80)
    # Then no line is wider than the terminal, counting a Chinese character as two cells
    assert max(cell_len(line) for line in lines) <= 80
    # and the cancel step is a heading, with who cancelled it and the whole reason beneath
    [heading] = [n for n, line in enumerate(lines) if "  cancel  " in line]
    assert lines[heading].endswith("  cancel  awaiting_payment → cancelled")
    beneath = []
    for line in lines[heading + 1:]:
        if not line.startswith("    "):
            break  # the next step's heading
        beneath.append(line.strip())
    assert beneath[0] == "by 客服:王芳"
    assert REASON in "".join(beneath[1:])
    assert len(beneath) > 2  # the details took more than one line: wrapped, not cut


def test_a_wide_terminal_keeps_one_table_row_a_step(sqlite_url, clock):
    pilot = OrderPilot(sqlite_url, clock=clock)
    stock(pilot)
    order = placed_order(pilot, shipping_address=ADDRESS)
    pilot.orders.fire(order.id, "cancel", actor="客服:王芳", reason="地址填错")
    pilot.close()
    lines = shown(sqlite_url, order.id, 200)
    [row] = [line for line in lines if " cancel " in line]
    assert "awaiting_payment" in row and "cancelled" in row and '"reason": "地址填错"' in row
    assert max(cell_len(line) for line in lines) <= 200
