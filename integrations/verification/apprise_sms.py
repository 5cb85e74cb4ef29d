"""SMS verification codes through apprise: any apprise URL with `{phone}` in it (an SMS
gateway such as Twilio, Vonage, an Aliyun-SMS bridge, or a plain `json://` webhook).

    ORDERPILOT_VERIFY_URL='twilio://SID:TOKEN@+15550100/{phone}'

The phone is put in the URL only at send time; logs see it masked.
"""

from __future__ import annotations

import logging

import apprise

from integrations.notifications.masking import PiiFilter
from statemachine.verification import Challenge

log = logging.getLogger("orderpilot.verification")
log.addFilter(PiiFilter())
BODY = ("【orderpilot】订单 {order} 验证码 {code}，{minutes} 分钟内有效。"
        "Your code for {order}: {code}")


class AppriseSmsVerifier:
    def __init__(self, url_template: str, minutes: int = 10):
        if "{phone}" not in url_template:
            raise ValueError("the verifier URL must contain {phone}")
        self.url_template, self.minutes = url_template, minutes

    def send(self, challenge: Challenge) -> bool:
        channel = apprise.Apprise()
        url = self.url_template.replace("{phone}", challenge.phone.lstrip("+"))
        if not channel.add(url):
            log.warning("verifier URL not usable by apprise; code for %s not sent",
                        challenge.order_id)
            return False
        ok = bool(channel.notify(title="orderpilot verification", body=BODY.format(
            order=challenge.order_id, code=challenge.code, minutes=self.minutes)))
        log.info("verification code for %s to %s: %s", challenge.order_id, challenge.phone,
                 "sent" if ok else "FAILED")
        return ok
