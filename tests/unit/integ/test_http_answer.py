"""The event routes' JSON answer (orjson) is byte for byte what Starlette's JSONResponse wrote."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from integrations.http.events import Answer


def test_an_answer_is_written_as_starlette_wrote_it_chinese_text_and_number_keys_included():
    # Given an answer with Chinese text, nesting, a null, a float and keys that are numbers
    body = {"order": {"id": "o-7", "total": 410700, "risk": {"score": 0.25, "reasons": []},
                      "shipping_address": {"city": "杭州市", "street": "文三路 8 号"},
                      "note": None, "lines": [{"sku": "TEA-4", "quantity": 2}]},
            "counts": {1: "one", 2: "two"}, "duplicate": False}
    # When each writes it, Then the bytes, the status and the content type are the same
    ours, theirs = Answer(body, 201), JSONResponse(body, 201)
    assert ours.body == theirs.body
    assert ours.status_code == theirs.status_code == 201
    assert ours.headers["content-type"] == theirs.headers["content-type"] == "application/json"
