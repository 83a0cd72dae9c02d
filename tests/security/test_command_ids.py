"""Malformed ids in staff commands get an answer, never a database error with a traceback.

A 30-digit id used to reach PostgreSQL as an INTEGER parameter and fail inside the driver; the
staff member got no answer and the log a traceback. Ids are now bounded before any query.
"""

from __future__ import annotations

import logging

import pytest

from tests.broadcasts.kit import make_place, say
from tests.conftest import Hub

HUGE = "9" * 30


async def test_out_of_range_ids_are_answered_without_a_traceback(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    place = await make_place(hub)
    lines = [
        f"/cancel_broadcast {HUGE}", f"/confirm {HUGE}", f"/discard #{HUGE}", f"/close_complaint {HUGE} 已处理",
        f"/merchant status {HUGE}", f"/assign EN6SBS {HUGE}", f"/survey_invite {HUGE}",
        f"/record_survey {HUGE} 9999999999 入户 a=b", f"/broadcast 小区={place.community} 下单=钟点工/{HUGE}天 | 测试",
        "/cancel_broadcast 0", "/close_complaint -1 x",
    ]
    with caplog.at_level(logging.WARNING):
        for line in lines:
            answer = await say(hub, place.admin_openid, line)
            assert answer and "系统繁忙" not in answer, (line, answer)
    assert not [r for r in caplog.records if r.exc_info and r.name.startswith(("bot", "aiogram", "storage"))]
