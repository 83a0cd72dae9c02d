"""The event codec (issue 17): every event survives a round trip, rows written by the code before
typed events still decode, and a row that is no event of ours is refused with a reason."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from storage import events
from storage.events import (
    EventDecodeError,
    HandoffMessage,
    JobOffered,
    JobTaken,
    MerchantNote,
    OwnerNotice,
    StaffAlert,
)

SAMPLES: list[events.DomainEvent] = [
    events.JobOffered(order_id=7), events.JobReposted(order_id=7), events.JobTaken(order_id=7, assigned=True),
    events.JobProgress(order_id=7), events.JobCancelled(order_id=7), events.JobCompleted(order_id=7),
    OwnerNotice(openid="o-1", text="您的订单已完成。", notice=True, title="订单已完成",
                menu=("确认金额", "金额有误"), fields={"code": "A1"}),
    StaffAlert(text="3号楼走廊灯不亮", community_id=2, complaint_id=5, urgent=True, photo_path="/tmp/x.png"),
    HandoffMessage(text="业主：有人吗", handoff_id=9, photo_url="https://example.com/p.jpg"),
    MerchantNote(merchant_id=3, text="本月结算单已生成"),
]


def test_every_event_type_has_a_sample_and_a_distinct_class_name() -> None:
    assert {type(e) for e in SAMPLES} == set(events.EVENT_TYPES)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_round_trip(event: events.DomainEvent) -> None:
    kind, payload = events.encode(event)
    assert kind == type(event).kind
    assert events.decode(kind, _json(payload)) == event


def test_defaults_are_not_written_so_rows_look_as_before() -> None:
    assert events.encode(JobTaken(order_id=4)) == ("order.accepted", {"order_id": 4})
    assert events.encode(StaffAlert(text="日报")) == ("staff.notify", {"text": "日报"})


@pytest.mark.parametrize(("kind", "payload", "expected"), [
    ("order.created", {"order_id": 12}, JobOffered(order_id=12)),
    ("order.accepted", {"order_id": "12", "assigned": True}, JobTaken(order_id=12, assigned=True)),
    ("staff.notify", {"text": "转人工", "handoff_id": 4}, HandoffMessage(text="转人工", handoff_id=4)),
    ("staff.notify", {"text": "投诉", "complaint_id": 5, "community_id": None},
     StaffAlert(text="投诉", complaint_id=5)),
    ("owner.notify", {"openid": "o", "text": "好的", "menu": ["是", "否"], "legacy_key": 1},
     OwnerNotice(openid="o", text="好的", menu=("是", "否"))),
    ("merchant.notify", {"merchant_id": 3, "text": "您好"}, MerchantNote(merchant_id=3, text="您好")),
])
def test_rows_written_by_the_old_code_decode(kind: str, payload: dict[str, Any], expected: events.DomainEvent) -> None:
    assert events.decode(kind, payload) == expected


@pytest.mark.parametrize(("kind", "payload", "reason"), [
    ("survey.legacy_invite", {}, "unknown event kind"),
    ("order.created", {}, "lacks 'order_id'"),
    ("order.created", {"order_id": "七"}, "order_id has a bad value"),
    ("order.created", {"order_id": True}, "order_id has a bad value"),
    ("merchant.notify", {"merchant_id": 3, "text": ["not", "text"]}, "text has a bad value"),
    ("owner.notify", ["o", "text"], "not an object"),
])
def test_a_row_that_does_not_fit_is_refused_with_a_reason(kind: str, payload: Any, reason: str) -> None:
    with pytest.raises(EventDecodeError, match=reason):
        events.decode(kind, payload)


def test_events_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        JobOffered(order_id=1).order_id = 2  # type: ignore[misc]


def _json(payload: dict[str, Any]) -> dict[str, Any]:
    """As the row comes back from the database."""
    import json

    return dict(json.loads(json.dumps(payload)))
