"""Provider payloads built from the providers' documented examples (Kuaidi100's push sample,
AfterShip's tracking webhook sample), with Chinese data, and signed the providers' way."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

KUAIDI100_SALT = "salt-for-tests"
AFTERSHIP_SECRET = "aftership-webhook-secret-for-tests"


def kuaidi100_param(number: str, state: str, when: str = "2026-11-12 16:33:19",
                    context: str = "【杭州市】已到达 杭州转运中心", company: str = "yuantong",
                    ischeck: str = "0") -> str:
    """The push `param` as Kuaidi100 documents it (lastResult with newest checkpoint first)."""
    return json.dumps({
        "status": "polling", "billstatus": "got", "message": "", "autoCheck": "0",
        "comOld": "", "comNew": "",
        "lastResult": {"message": "ok", "nu": number, "ischeck": ischeck, "condition": "00",
                       "com": company, "status": "200", "state": state, "data": [
                           {"time": when, "ftime": when, "context": context,
                            "areaCode": "330100000000", "areaName": "浙江,杭州市",
                            "status": "在途"},
                           {"time": "2026-11-11 20:10:00", "ftime": "2026-11-11 20:10:00",
                            "context": "【杭州市】圆通速递 已揽收", "status": "揽收"}]}},
        ensure_ascii=False)


def kuaidi100_form(param: str, salt: str = KUAIDI100_SALT) -> bytes:
    sign = hashlib.md5((param + salt).encode()).hexdigest().upper()
    return urlencode({"param": param, "sign": sign}).encode()


def aftership_body(number: str, tag: str, subtag: str = "", event_id: str = "evt-1",
                   slug: str = "sf-express", when: str = "2026-11-12T09:30:00+08:00") -> bytes:
    checkpoint: dict[str, Any] = {"checkpoint_time": when, "city": "杭州市",
                                  "location": "杭州转运中心", "message": "快件已到达杭州转运中心",
                                  "tag": tag, "subtag": subtag or f"{tag}_001",
                                  "country_region": "CHN"}
    return json.dumps({"event": "tracking_update", "event_id": event_id,
                       "is_tracking_first_tag": False, "ts": 1794700000,
                       "msg": {"id": "5b74f4958776db0e00b6f5ed", "tracking_number": number,
                               "slug": slug, "tag": tag, "subtag": subtag or f"{tag}_001",
                               "title": number, "checkpoints": [checkpoint]}},
                      ensure_ascii=False).encode()


def aftership_signature(body: bytes, secret: str = AFTERSHIP_SECRET) -> str:
    """Computed independently of the SDK: base64 HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
