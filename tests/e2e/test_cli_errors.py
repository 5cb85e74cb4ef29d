"""The CLI answers a bad store URL or an unwritable output directory with one line, exit 2."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from orderpilot.cli import app

RUN = CliRunner()


@pytest.mark.parametrize("url", ["postgresql://nobody:secret@127.0.0.1:1/shop", "bogus://x",
                                 "sqlite:////no/such/dir/shop.db"])
def test_a_store_that_cannot_be_opened_is_one_line_not_a_traceback(url):
    result = RUN.invoke(app, ["order", "show", "o-1", "--db", url])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: the store at ")
    assert "Traceback" not in result.output and "secret" not in result.output


def test_an_output_directory_that_cannot_be_written_is_one_line(tmp_path):
    db = f"sqlite:///{tmp_path / 'shop.db'}"
    RUN.invoke(app, ["stock", "receive", "SKU-1", "WH-1", "5", "--db", db])
    from orderpilot import OrderPilot

    pilot = OrderPilot(db)
    pilot.orders.place(buyer_id="b-1", lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": 5}],
                       shipping_address={"province": "浙江省", "city": "杭州市",
                                         "street": "文三路 18 号"})
    pilot.close()
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    result = RUN.invoke(app, ["evidence", "o-1", "--db", db, "--out", str(blocked / "pack")])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: cannot use")
    assert "Traceback" not in result.output
