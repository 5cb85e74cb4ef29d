"""PII masking for anything that leaves the store as text: logs, messages, events, artifacts.

What is personal here: phone numbers, the street part of an address and the recipient's name,
IP addresses, e-mail addresses and resident identity card numbers (身份证号: cross-border
orders need one for customs, and buyers type it into notes and after-sales reasons). Three
layers, so that free text is covered as well as fields:

1. fields named for PII (`phone`, `street`, `recipient`, `ip`, `address`, …) are masked
   whatever they hold;
2. every other text is scanned for phones (Chinese mobiles however written: `139.8765.4321`,
   `+86 139 8765 4321`, `phone13987654321`; other numbers of 8–15 digits), identity card
   numbers (18 characters whose birth date and check character are valid), IP and e-mail
   addresses;
3. the values the order itself holds (its street, recipient, phone, IP — `known_pii`) are
   masked wherever they appear, e.g. a street quoted in a cancel reason or a risk reason.

Phones keep the first 3 and last 4 digits of their national number (+86 139 8765 4321 →
139****4321; +1 415 555 0100 → +1 41****0100: at least 4 digits hidden); addresses keep the
region (country, province, city, district) and lose the street, the recipient's name and
most of the postcode; IPs keep their network (183.156.*.*); an identity card number its first
3 and last 4 characters (110***********123X: the birth date and the place of birth go).
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import phonenumbers

from integrations.geo.phones import CHINA, national_digits, read_number

KEEP = ("country", "province", "city", "district")
# separators as typed, in half or full width (an input method's full-width mode: －．（）)
# and the typographic dashes
SEP = r"[\s.\-()－—–．（）]{0,2}"
# a Chinese mobile number (1[3-9] + 9 digits), with or without +86, however it is spaced, even
# glued to letters ("phone13987654321"); never a run of digits inside a longer number
CN_MOBILE = re.compile(rf"(?<!\d)(?:(?:\+|00)?86{SEP})?1[3-9]\d(?:{SEP}\d){{8}}(?!\d)")
# other numbers: not inside a word or an id (o-1234, SF1234567890123), but glued to Chinese or
# Japanese words, as those are written without spaces ("座机010-65529988转123")
_WORD = r"[^\W\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]"  # a word character, not kana or Han
PHONE = re.compile(rf"(?<!{_WORD})(?<!-)[+＋]?\d[\d \-.()－—–．（）]{{6,}}\d(?!{_WORD}|-)")
# (not after "//": a URL's host is a server, not a person, and the console's links must work)
IPV4 = re.compile(r"(?<![\d.])(?<!//)(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}(?![\d.])")
IPV6 = re.compile(r"(?<![:\w])([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})(?::[0-9a-fA-F]{0,4}){2,6}"
                  r"(?![:\w])")
# a resident identity card number (GB 11643): region (6 digits), birth date, sequence (3),
# check character; spaced in groups or not, glued to Chinese words, not inside a longer run
ID_CARD = re.compile(r"(?<![0-9A-Za-z])([1-8]\d{5}) ?((?:18|19|20)\d{2}(?:0[1-9]|1[0-2])"
                     r"(?:0[1-9]|[12]\d|3[01])) ?(\d{3}[\dXx])(?![0-9A-Za-z])")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
EMAIL = re.compile(r"([\w.+-])[\w.+-]*@([\w-]+\.[\w.-]+)")
DATE = re.compile(r"\d{4}[-－]\d{2}[-－]\d{2}")
# what every pattern above needs to change a text: four digits (an IPv4; a phone is masked
# from 8, an identity card has 18), a colon (IPv6) or an @ (e-mail). A text without any of
# them is left as it is without running the six patterns: most of an access log line
# (`POST`, `HTTP/1.1`, `/v1/shop/orders`) is such text, and every request logs one.
MAY_HOLD_PII = re.compile(r"\d(?:\D*\d){3}|[:@]")
PII_FIELDS = re.compile(r"(^|_)(phone|mobile|tel|street|recipient|line|address|ip|email|"
                        r"contact|id_card|id_number|id_no)(_|$)")


def mask_phone(phone: str | None) -> str | None:
    """The phone with its national number's middle hidden: 138****8000 for a Chinese number
    however written (+86, 0086, 86 or none: the country code is not part of the number), the
    country code kept elsewhere (+1 41****0100). Text phonenumbers cannot read as a number is
    masked as a run of digits."""
    if not phone:
        return phone
    number = read_number(phone)
    if number is None or not phonenumbers.is_possible_number(number):
        return _hide_digits(re.sub(r"\D", "", phone))
    hidden = _hide_digits(national_digits(number))  # a Chinese landline keeps its trunk 0
    return hidden if number.country_code == CHINA else f"+{number.country_code} {hidden}"


def _hide_digits(digits: str) -> str:
    """The last 4 digits and up to the first 3, with at least 4 hidden between them
    (13800138000 → 138****8000, 4155550100 → 41****0100); a short number keeps its last 2."""
    if len(digits) >= 8:
        lead = min(3, len(digits) - 8)
        return f"{digits[:lead]}{'*' * (len(digits) - lead - 4)}{digits[-4:]}"
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


def mask_address(address: Mapping[str, Any] | None) -> dict[str, Any]:
    """The address with only the region readable."""
    masked: dict[str, Any] = {}
    for key, value in (address or {}).items():
        if key in KEEP or value is None:
            masked[key] = value
        elif key == "phone":
            masked[key] = mask_phone(str(value))
        elif key == "postal_code":
            masked[key] = str(value)[:3] + "***"
        else:
            masked[key] = _hide(str(value))
    return masked


def mask_text(text: str, known: Iterable[str] = ()) -> str:
    """Mask phones, IP and e-mail addresses in free text, and any of the `known` values."""
    if MAY_HOLD_PII.search(text):
        # IPs first: a dotted IPv4 with 8 or more digits would otherwise pass for a phone
        text = IPV4.sub(lambda m: f"{m.group(1)}.{m.group(2)}.*.*", text)
        text = IPV6.sub(lambda m: f"{m.group(1)}:{m.group(2)}:*", text)
        text = ID_CARD.sub(_id_card, text)
        text = CN_MOBILE.sub(lambda m: mask_phone(m.group(0)) or "", text)
        text = PHONE.sub(_phone_like, text)
        text = EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    for value in sorted(set(known), key=len, reverse=True):
        if len(value) >= 2:
            text = text.replace(value, _hide(value))
    return text


def mask_doc(doc: Any, known: Iterable[str] = (), key: str = "") -> Any:
    """A JSON-like document with every PII field and every text in it masked."""
    known = tuple(known)
    if isinstance(doc, Mapping):
        return {k: mask_doc(v, known, str(k)) for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        return [mask_doc(v, known, key) for v in doc]
    if not isinstance(doc, str):
        return doc
    if PII_FIELDS.search(key.lower()):
        return _pii_field(key.lower(), doc)
    return mask_text(doc, known)


def mask_url(url: str, *, keep_path: bool = False) -> str:
    """The URL as an error, a log or a screen may show it: never its password.

    An apprise route (the default) keeps its scheme and its host only when the host reads as
    a server (a dot in it, localhost): apprise services carry their tokens anywhere else
    (`mailto://ops:pw@…`, `slack://TokenA/TokenB/TokenC`, `tgram://bot-token/chat`).
    A store URL (`keep_path=True`) keeps user, host, port and database, the password as ***
    and no query (it may hold one too)."""
    parts = urlsplit(url.strip())
    try:
        host, port = parts.hostname or "", parts.port
    except ValueError:  # a port that is not a number: a token with a colon in it
        host, port = "", None
    if not parts.scheme:
        return "…"  # not a URL: it may be a token pasted alone
    scheme = parts.scheme
    if not keep_path:
        server = host if "." in host or host == "localhost" else ""
        return f"{scheme}://{server or '…'}"
    user = f"{parts.username}{':***' if parts.password is not None else ''}@" \
        if parts.username else ""
    at = f"{host}:{port}" if port else host
    return f"{scheme}://{user}{at}{parts.path}" + ("?…" if parts.query else "")


def known_pii(attrs: Mapping[str, Any] | None) -> list[str]:
    """The personal values an order holds (its `attrs`), to be masked wherever they appear."""
    attrs = attrs or {}
    values = [attrs.get("phone"), attrs.get("recipient_phone"), attrs.get("ip"),
              attrs.get("email")]
    for address in (attrs.get("shipping_address"), attrs.get("address")):
        if isinstance(address, Mapping):
            values += [address.get(k) for k in ("street", "line", "recipient", "phone", "note")]
    return [str(v) for v in values if v]


def _pii_field(key: str, value: str) -> str:
    if re.search(r"phone|mobile|tel", key):
        return mask_phone(value) or value
    if re.search(r"(^|_)ip(_|$)", key):
        return mask_text(value)
    if "email" in key:
        return EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", value)
    return _hide(value)


def _hide(value: str) -> str:
    return value[:1] + "***" if value else value


def _id_card(match: re.Match[str]) -> str:
    """Masked if the check character fits (ISO 7064 MOD 11-2): an 18-digit waybill or order
    number that happens to hold a date passes one time in eleven, not always."""
    number = "".join(match.groups()).upper()
    total = sum(int(d) * w for d, w in zip(number[:17], ID_WEIGHTS, strict=True))
    check = "10X98765432"[total % 11]
    if number[-1] != check:
        return match.group(0)
    return f"{number[:3]}{'*' * 11}{number[-4:]}"


def _phone_like(match: re.Match[str]) -> str:
    run = match.group(0)
    digits = sum(ch.isdigit() for ch in run)
    if DATE.match(run) or not 8 <= digits <= 15:
        return run
    return mask_phone(run) or run


class PiiFilter(logging.Filter):
    """A logging filter that masks phones, IPs and e-mails (URL-encoded ones too) in every
    record's final message and in its traceback (a PostgreSQL error's DETAIL quotes the
    failing row: "Failing row contains (…, 13987654321, …)")."""

    def filter(self, record: logging.LogRecord) -> bool:
        # unquoted first: apprise logs the URLs it loads (a buyer's carries their contact)
        record.msg, record.args = _masked(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


def _masked(record: logging.LogRecord) -> tuple[Any, Any]:
    """The record's message and arguments masked. Arguments stay arguments where they can:
    a formatter may read them (uvicorn's access log unpacks its five); numbers are kept."""
    args = record.args
    if isinstance(args, tuple) and args:
        masked = tuple(a if isinstance(a, int | float) else mask_text(unquote(str(a)))
                       for a in args)
        msg = mask_text(unquote(str(record.msg)))
        try:
            msg % masked  # noqa: B018 - the message still formats with them
        except (TypeError, ValueError):
            pass
        else:
            return msg, masked
    return mask_text(unquote(record.getMessage())), None


def pii_log_config(base: Mapping[str, Any]) -> dict[str, Any]:
    """A `logging.config.dictConfig` dict (e.g. uvicorn's) with PiiFilter on every handler."""
    config = copy.deepcopy(dict(base))
    config.setdefault("filters", {})["pii"] = {"()": f"{__name__}.PiiFilter"}
    for handler in config.get("handlers", {}).values():
        handler["filters"] = [*handler.get("filters", []), "pii"]
    return config
