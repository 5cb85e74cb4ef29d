"""Kuaidi100 (快递100): subscription pushes in, waybill subscriptions out.

Push (订阅推送): Kuaidi100 POSTs a form with `param` (JSON) and, when the subscription set a
salt, `sign` = upper-case hex MD5 of `param + salt`. We answer `{"result": true, "returnCode":
"200"}`; anything else makes them push again. `lastResult.state` says where the parcel is; with
`resultv2=1` (what we subscribe with) it may be a sub-state such as 103 (已揽收) or 501 (投柜或
驿站). Every code maps to one carrier status in `STATES` (or to none: recorded only).

Subscribe (订阅): POST the poll URL with form fields `schema=json` and `param` = {company,
number, key, parameters: {callbackurl, salt, resultv2, phone}}. returnCode 200 = subscribed,
501 = already subscribed (fine: subscribing is idempotent), 500 / network = try again later,
others (bad key, bad number, no balance) = permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from integrations.carriers.tracking_updates import (
    SubscribeFailed,
    TrackingUpdate,
    TransientSubscribeError,
)
from statemachine.errors import InvalidInput
from statemachine.tracking import CarrierStatus as St

CHINA = ZoneInfo("Asia/Shanghai")  # Kuaidi100 times are Beijing time without an offset

# code → (carrier status or None for "recorded only", what Kuaidi100 calls it)
STATES: dict[str, tuple[St | None, str]] = {
    "0": (St.IN_TRANSIT, "在途 in transit"),
    "1001": (St.IN_TRANSIT, "到达派件城市 reached the delivery city"),
    "1002": (St.IN_TRANSIT, "干线 trunk line"),
    "1003": (St.IN_TRANSIT, "转递 forwarded"),
    "1": (St.PICKED_UP, "揽收 picked up"),
    "101": (St.LABEL_CREATED, "已下单 ordered"),
    "102": (St.LABEL_CREATED, "待揽收 awaiting pickup"),
    "103": (St.PICKED_UP, "已揽收 picked up"),
    "2": (St.EXCEPTION, "疑难 problem"),
    "201": (St.EXCEPTION, "超时未签收 not signed in time"),
    "202": (St.EXCEPTION, "超时未更新 no update in time"),
    "203": (St.EXCEPTION, "拒收 refused"),
    "204": (St.EXCEPTION, "派件异常 delivery exception"),
    "205": (St.EXCEPTION, "柜或驿站超时未取 not collected from locker / station"),
    "206": (St.EXCEPTION, "无法联系 recipient unreachable"),
    "207": (St.EXCEPTION, "超区 outside the delivery area"),
    "208": (St.EXCEPTION, "滞留 held up"),
    "209": (St.EXCEPTION, "破损 damaged"),
    "210": (St.EXCEPTION, "售后 after-sales"),
    "3": (St.DELIVERED, "签收 signed"),
    "301": (St.DELIVERED, "本人签收 signed by the recipient"),
    "302": (St.DELIVERED, "派件异常后签收 signed after an exception"),
    "303": (St.DELIVERED, "代签 signed by someone else"),
    "304": (St.DELIVERED, "投柜或站签收 collected from locker / station"),
    "4": (St.RETURNED, "退签 return signed by the sender"),
    "401": (None, "已销单 waybill cancelled"),
    "5": (St.OUT_FOR_DELIVERY, "派件 out for delivery"),
    "501": (St.OUT_FOR_DELIVERY, "投柜或驿站 in a locker / pickup station"),
    "6": (St.RETURNED, "退回 returning to the sender"),
    "7": (St.IN_TRANSIT, "转投 handed to another carrier"),
    "8": (St.IN_TRANSIT, "清关 customs clearance"),
    "10": (St.IN_TRANSIT, "待清关 awaiting customs clearance"),
    "11": (St.IN_TRANSIT, "清关中 in customs clearance"),
    "12": (St.IN_TRANSIT, "已清关 cleared customs"),
    "13": (St.EXCEPTION, "清关异常 customs exception"),
    "14": (St.EXCEPTION, "拒签 refused by the recipient"),
}
OK_ANSWER = {"result": True, "returnCode": "200", "message": "成功"}


def sign(param: str, salt: str) -> str:
    """Kuaidi100's push signature: MD5 of the raw `param` text followed by the salt."""
    return hashlib.md5((param + salt).encode("utf-8")).hexdigest().upper()


def sign_problem(param: str | None, given: str | None, salt: str | None) -> str | None:
    """None when the push is authentic, else why it is refused."""
    if not salt:
        return "no Kuaidi100 salt is configured (ORDERPILOT_TRACKING__KUAIDI100_SALT)"
    if not param or not given:
        return "form fields param and sign are required"
    if not hmac.compare_digest(sign(param, salt), given.strip().upper()):
        return "sign does not match MD5(param + salt)"
    return None


def parse_push(param: str) -> TrackingUpdate:
    """The parcel's newest state from a push; InvalidInput names what is missing."""
    try:
        body = json.loads(param)
        last = body["lastResult"]
        company, number, state = str(last["com"]), str(last["nu"]), str(last["state"])
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidInput({"param": f"expected Kuaidi100 push JSON with lastResult.com, .nu "
                                     f"and .state ({type(error).__name__}: {error})"}) from None
    status, label = STATES.get(state, (None, f"unknown state {state}"))
    data = last.get("data") or [{}]
    newest = data[0] if isinstance(data, list) else None
    if not isinstance(newest, dict):
        raise InvalidInput({"param": f"expected lastResult.data to be a list of checkpoints "
                                     f"(objects), newest first (got {str(data)[:60]!r})"})
    at = _beijing(newest.get("ftime") or newest.get("time"))
    place = newest.get("areaName") or newest.get("location")
    digest = hashlib.sha256(f"{company}|{number}|{state}|{at}|{newest.get('context')}"
                            .encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return TrackingUpdate(
        provider="kuaidi100", provider_carrier=company, tracking_no=number, code=state,
        status=status, label=label, event_id=f"kuaidi100:{digest}", occurred_at=at,
        location=str(place)[:200] if place else None,
        detail=str(newest.get("context") or "")[:300] or None)


def _beijing(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        at = datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
        at.astimezone(UTC)  # stored in UTC: a time UTC cannot hold (year 1) is no time either
    except (ValueError, OverflowError):
        return None
    return at


@dataclass(frozen=True, slots=True)
class Kuaidi100Subscriber:
    """Subscribes waybills to Kuaidi100 pushes (poll API), idempotently."""

    key: str
    salt: str
    callback_url: str
    poll_url: str = "https://poll.kuaidi100.com/poll"
    timeout: float = 10.0

    def subscribe(self, company: str, tracking_no: str, phone: str | None = None) -> str:
        """Ask for pushes about one waybill; returns a note (subscribed / already was)."""
        parameters = {"callbackurl": self.callback_url, "salt": self.salt, "resultv2": "1"}
        if phone:  # SF and some others ask for the recipient's phone (last 4 digits suffice)
            parameters["phone"] = phone[-4:]
        param = json.dumps({"company": company, "number": tracking_no, "key": self.key,
                            "parameters": parameters}, ensure_ascii=False)
        try:
            response = httpx.post(self.poll_url, data={"schema": "json", "param": param},
                                  timeout=self.timeout)
        except httpx.HTTPError as error:
            raise TransientSubscribeError(f"kuaidi100: {type(error).__name__}: {error}") \
                from None
        return _answer(response, company, tracking_no)


def _answer(response: httpx.Response, company: str, tracking_no: str) -> str:
    if response.status_code >= 500:
        raise TransientSubscribeError(f"kuaidi100: HTTP {response.status_code}")
    try:
        body = response.json()
        code = str(body.get("returnCode"))
    except (ValueError, AttributeError):
        raise TransientSubscribeError(f"kuaidi100: unreadable answer "
                                      f"{response.text[:100]!r}") from None
    if code == "200":
        return f"kuaidi100 subscribed {company} {tracking_no}"
    if code == "501":
        return f"kuaidi100 already subscribed {company} {tracking_no}"
    message = f"kuaidi100 returnCode {code}: {body.get('message')}"
    if code in ("500", "502", "503"):
        raise TransientSubscribeError(message)
    raise SubscribeFailed(message)
