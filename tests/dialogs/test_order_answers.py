"""The order form's answers are read from the dialog state once, typed, at the storage boundary."""

from datetime import datetime

import pytest

from dialogs.order_answers import OrderAnswers

STATE = {"service": "日常保洁", "time": "2026-12-02T09:00:00+08:00", "period": "上午",
         "address": "3号楼2单元502室", "phone": "13800000000", "confirm": True,
         "attachments": [{"kind": "image", "media_id": "m1"}]}


def test_a_finished_state_becomes_typed_answers() -> None:
    form = OrderAnswers.from_state(STATE)
    assert form.scheduled_at == datetime.fromisoformat("2026-12-02T09:00:00+08:00")
    assert form.period == "上午" and form.confirm is True
    assert form.attachments == ({"kind": "image", "media_id": "m1"},)
    assert form.notes_text == ""


def test_a_time_in_words_goes_to_the_notes() -> None:
    form = OrderAnswers.from_state({**STATE, "time": "note:下周找我", "notes": "带梯子", "period": None})
    assert form.scheduled_at is None and form.period is None
    assert form.notes_text == "带梯子；时间：下周找我"


@pytest.mark.parametrize("broken", [
    {k: v for k, v in STATE.items() if k != "phone"},
    {**STATE, "confirm": "yes"},
    {**STATE, "attachments": ["not a record"]},
])
def test_a_garbled_state_is_refused_by_name(broken: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="order"):
        OrderAnswers.from_state(broken)
