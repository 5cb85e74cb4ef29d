"""Alipay's trade bill (业务明细) as the merchant portal and `bill.downloadurl.query` hand it
out: GBK, `#` lines above and below the table, ids followed by a tab, Beijing times; and the
ZIP the download link serves."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))
HEADER = ("支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,"
          "终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,"
          "商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,"
          "退款批次号/请求号,服务费（元）,分润（元）,备注")
FEE_RATE = 0.006  # 0.6 %, Alipay's usual rate for 当面付


@dataclass(frozen=True)
class BillRow:
    trade_no: str
    out_trade_no: str
    kind: str  # 交易 | 退款
    fen: int  # positive; a refund row is written negative
    at: datetime
    goods: str = "orderpilot order"
    request_no: str = ""
    buyer: str = "159****5620"


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def fee_of(fen: int) -> int:
    return round(fen * FEE_RATE)


def trade_bill(rows: list[BillRow], day: date, account: str = "20880000000000010156",
               encoding: str = "gbk") -> bytes:
    """The bill of `day` with `rows`, as Alipay writes it."""
    rule = "-" * 41
    till = day + timedelta(days=1)
    lines = ["#支付宝业务明细查询", f"#账号：[{account}]",
             f"#起始日期：[{day:%Y年%m月%d日} 00:00:00]   终止日期：[{till:%Y年%m月%d日} 00:00:00]",
             f"#{rule}业务明细列表{rule}", HEADER]
    for r in rows:
        signed = r.fen if r.kind == "交易" else -r.fen
        fee = -fee_of(r.fen) if r.kind == "交易" else fee_of(r.fen)  # a refund gives the fee back
        when = r.at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(",".join([
            f"{r.trade_no}\t", f"{r.out_trade_no}\t", r.kind, r.goods, when, when, "", "", "",
            "", r.buyer, yuan(signed), yuan(signed), "0.00", "0.00", "0.00", "0.00", "0.00", "",
            "0.00", "0.00", f"{r.request_no}\t" if r.request_no else "", yuan(fee), "0.00", ""]))
    trades = [r for r in rows if r.kind == "交易"]
    refunds = [r for r in rows if r.kind == "退款"]
    trade_sum, refund_sum = yuan(sum(r.fen for r in trades)), yuan(-sum(r.fen for r in refunds))
    lines += [f"#{rule}业务明细列表结束{rule}",
              f"#交易合计：{len(trades)}笔，商家实收共{trade_sum}元，商家优惠共0.00元",
              f"#退款合计：{len(refunds)}笔，商家实收共{refund_sum}元，商家优惠共0.00元",
              f"#导出时间：[{till:%Y年%m月%d日} 09:30:12]"]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


class _GbkName(zipfile.ZipInfo):
    """A member whose name is written in GBK without the UTF-8 flag, as ZIP tools on Chinese
    Windows (and Alipay's bill downloads) write it; Python's zipfile would write UTF-8."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # noqa: N802 (zipfile's name)
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def bill_zip(detail: bytes | None, day: date, account: str = "20880000000000010156", *,
             summary: bool = True, gbk_names: bool = True) -> bytes:
    """The ZIP Alipay's download link serves: `<account>_<day>_业务明细.csv` (the detail, if
    given) and `…_业务明细(汇总).csv` (a summary), names in GBK unless `gbk_names` is off."""
    stem = f"{account}_{day:%Y%m%d}"
    files = {f"{stem}_业务明细(汇总).csv": _summary(day).encode("gbk")} if summary else {}
    if detail is not None:
        files[f"{stem}_业务明细.csv"] = detail
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bill:
        for name, data in files.items():
            info = (_GbkName if gbk_names else zipfile.ZipInfo)(name, (2026, 1, 1, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            bill.writestr(info, data)
    return buffer.getvalue()


def _summary(day: date) -> str:
    return ("#支付宝业务汇总查询\r\n#账号：[20880000000000010156]\r\n"
            f"#起始日期：[{day:%Y年%m月%d日}]\r\n门店编号,门店名称,交易订单总笔数,退款订单总笔数,"
            "订单金额（元）,商家实收（元）\r\n,,0,0,0.00,0.00\r\n#结束\r\n")
