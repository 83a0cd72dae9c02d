"""Hostile or odd input to the owner-database commands gets a clear answer, never a 500."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.households import check_tag, parse_ref
from tests.broadcasts.kit import make_place, say
from tests.conftest import Hub


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_household_references_never_raise(text: str) -> None:
    ref = parse_ref(text)
    assert ref is None or ref.phone or ref.room


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_tag_check_never_raises(text: str) -> None:
    problem = check_tag(text)
    assert problem is None or isinstance(problem, str)


NASTY = [
    "/owner", "/owner ' OR 1=1 --", "/owner 1-1-1-1-1", "/owner " + "9" * 400, "/owner 0-0-0", "/owner 翠苑",
    "/owner \u200b3-2-502", "/owner 99999-999-99999", "/tag", "/tag +", "/tag 3-2-502 +", "/tag 3-2-502 -",
    "/tag 3-2-502 +" + "长" * 40, "/tag 3-2-502 +a=b", "/tag ＋有车 3-2-502", "/owners", "/owners invalid 不存在",
    "/owners invalid " + "x" * 300, "/services 不存在", "/services " + "翠" * 200,
    "/record_survey nosuch 3-2-502 入户 a=b", "/record_survey x 随便 入户",
]


@pytest.mark.parametrize("text", NASTY)
async def test_odd_commands_get_an_answer(hub: Hub, text: str) -> None:
    place = await make_place(hub)
    reply = await say(hub, place.staff_openid, text)  # asserts HTTP 200
    assert reply and "Traceback" not in reply
