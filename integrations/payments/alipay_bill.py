"""Alipay's trade bill of a day, downloaded through its open API with `python-alipay-sdk`.

`alipay.data.dataservice.bill.downloadurl.query` (bill_type=trade, bill_date=YYYY-MM-DD)
answers `bill_download_url`, valid for 30 seconds. python-alipay-sdk 3.4 has no method for this
API, so the request goes through its generic `server_api`, which signs it and checks the
answer's RSA2 signature like every `api_alipay_*` call (an answer failing the check raises
`AliPayValidationError`: its URL is never fetched). The URL leads to a ZIP named after the
account and day holding two CSVs, `…_业务明细.csv` (the detail: what we read) and
`…_业务明细(汇总).csv` (the summary); their names are GBK without the ZIP's UTF-8 flag.

Alipay writes a day's bill the next morning (usually before 09:00 Beijing time); until then it
answers a business error (`isp.bill_not_exist`): `BillNotReady`, a transient error — retry
later. The download streams to a temporary file and stops past `max_bytes`. The download URL
carries a token: messages name its host only.
"""

from __future__ import annotations

import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import date
from typing import IO, Any, Protocol
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import urlopen

from integrations.payments.statements import MAX_BYTES
from statemachine.ports import PermanentPaymentError, TransientPaymentError

METHOD = "alipay.data.dataservice.bill.downloadurl.query"
DETAIL, SUMMARY = "业务明细", "汇总"
CHUNK = 64 * 1024
UTF8_NAME = 0x800  # the ZIP flag saying a member's name is UTF-8


class AlipayCaller(Protocol):
    """What the download needs of the Alipay gateway (alipay_gateway.AlipayGateway)."""

    client: Any  # the SDK's AliPay
    max_retries: int
    retry_delay: float
    timeout_seconds: float

    def call(self, request: Callable[[], dict[str, Any]]) -> dict[str, Any]: ...


class BillNotReady(TransientPaymentError):
    """Alipay has no bill for the day yet (or none at all): ask again later."""

    code = "alipay_bill_not_ready"


class BillUnavailable(PermanentPaymentError):
    """The bill could not be had: the link was refused, the file is not the bill, too large."""

    code = "alipay_bill_unavailable"


def trade_bill(gateway: AlipayCaller, day: date, max_bytes: int = MAX_BYTES
               ) -> tuple[bytes, str]:
    """The 业务明细 CSV of Alipay's trade bill for `day` (a Beijing day) and its file name.
    A timeout or 5xx while downloading asks for a fresh URL and tries again, as often as the
    gateway retries its calls; then `TransientPaymentError`."""
    for attempt in range(gateway.max_retries + 1):
        url = bill_url(gateway, day)
        try:
            with tempfile.TemporaryFile() as spool:
                _download(url, spool, gateway.timeout_seconds, max_bytes)
                return detail_csv(spool, max_bytes)
        except _Interrupted as error:
            problem = str(error)
        if attempt < gateway.max_retries:
            time.sleep(gateway.retry_delay * 2 ** attempt)
    raise TransientPaymentError(f"{problem}; transient: run the reconciliation again")


def bill_url(gateway: AlipayCaller, day: date) -> str:
    """Ask Alipay (signed request, verified answer) where the day's trade bill is."""
    biz = {"bill_type": "trade", "bill_date": day.isoformat()}

    def ask() -> dict[str, Any]:
        answer: dict[str, Any] = gateway.client.server_api(METHOD, biz)
        if str(answer.get("sub_code", "")).lower().endswith("bill_not_exist"):
            raise BillNotReady(
                f"alipay has no trade bill for {day} yet ({answer.get('sub_code')}: "
                f"{answer.get('sub_msg') or answer.get('msg')}); Alipay writes a day's bill "
                "the next morning, usually before 09:00 Beijing time: retry later")
        return answer

    url = str(gateway.call(ask).get("bill_download_url") or "")
    if urlsplit(url).scheme not in ("http", "https"):
        raise BillUnavailable(f"alipay answered no usable bill_download_url for {day}")
    return url


def _download(url: str, spool: IO[bytes], timeout: float, max_bytes: int) -> None:
    host = urlsplit(url).netloc
    try:
        with urlopen(url, timeout=timeout) as answer:  # noqa: S310 (scheme checked above)
            declared = int(answer.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise _too_large(f"the bill at {host} ({declared} bytes)", max_bytes)
            _copy_capped(answer, spool, max_bytes, host)
    except HTTPError as error:
        error.close()  # it holds the answer's connection
        if error.code >= 500 or error.code == 429:
            raise _Interrupted(f"the bill download at {host} answered HTTP {error.code}") \
                from None
        raise BillUnavailable(
            f"the bill download link was refused (HTTP {error.code} from {host}); a link is "
            "valid for 30 seconds after Alipay hands it out: run again for a fresh one"
        ) from None
    except (URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise _Interrupted(f"the bill download from {host} failed "
                           f"({reason.__class__.__name__}: {reason})") from None


def _copy_capped(source: IO[bytes], spool: IO[bytes], max_bytes: int, host: str) -> None:
    total = 0
    while chunk := source.read(CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise _too_large(f"the bill at {host}", max_bytes)
        spool.write(chunk)
    spool.seek(0)


def detail_csv(spool: IO[bytes], max_bytes: int = MAX_BYTES) -> tuple[bytes, str]:
    """The 业务明细 file of a bill ZIP (not its 汇总 summary) and its name."""
    try:
        with zipfile.ZipFile(spool) as bill:
            members = {_name(info): info for info in bill.infolist() if not info.is_dir()}
            details = [n for n in members if DETAIL in n and SUMMARY not in n]
            if len(details) != 1:
                found = ", ".join(members) or "nothing"
                raise BillUnavailable(f"the bill ZIP holds no single {DETAIL} file (found: "
                                      f"{found})")
            info = members[details[0]]
            if info.file_size > max_bytes:
                raise _too_large(f"{details[0]} ({info.file_size} bytes unpacked)", max_bytes)
            with bill.open(info) as member:
                data = member.read(max_bytes + 1)
    except zipfile.BadZipFile:
        spool.seek(0)
        head = spool.read(40)
        raise BillUnavailable(f"the bill download is not a ZIP (it starts {head!r}); the link "
                              "may have expired: run again for a fresh one") from None
    if len(data) > max_bytes:
        raise _too_large(details[0], max_bytes)
    return data, details[0].rsplit("/", 1)[-1]


def _name(info: zipfile.ZipInfo) -> str:
    """A member's name: ZIP tools on Chinese Windows write GBK without the UTF-8 flag, which
    Python's zipfile then reads as cp437."""
    if info.flag_bits & UTF8_NAME:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _too_large(what: str, max_bytes: int) -> BillUnavailable:
    return BillUnavailable(f"{what} is larger than {max_bytes:,} bytes, the most a bill may "
                           "have here")


class _Interrupted(Exception):
    """A timeout or 5xx while downloading: worth another try with a fresh link."""

