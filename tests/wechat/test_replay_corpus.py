"""Replay the real samples (tests/wechat/corpus.py) through /wechat, in safe mode and plaintext mode.

Each sample must be classified as WeChat means it and get the behaviour its class promises:
owner messages and actions reach the dialogs (an owner row, last_message_at = time received);
platform notifications and unknown types get a quiet `success`, create no owner, write no message
log row and are counted in /metrics by kind.
"""

from __future__ import annotations

import time

from sqlalchemy import func, select

from bot.wechat.protocol import parse_xml
from dialogs import texts
from storage.base import aware
from storage.messages import InboundMessageLog
from storage.owners import Owner
from storage.workorders import WorkOrder
from tests.conftest import Hub
from tests.wechat.conftest import openid, with_sender
from tests.wechat.corpus import NOTIFICATION, OWNER_ACTION, OWNER_MESSAGE, SAMPLES, UNKNOWN

MENU_LINE = "家政管家"  # in the service menu, which a photo or a platform event must not get
SILENT_KINDS = {"unsubscribe", "view", "scancode", "pics", "location_select"}


async def _owner(hub: Hub, who: str) -> Owner | None:
    async with hub.runtime.sessions() as session:
        return await session.scalar(select(Owner).where(Owner.openid == who))


async def _count(hub: Hub, model, *where) -> int:  # type: ignore[no-untyped-def]
    async with hub.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _expected_reply(kind: str, fields: dict[str, str], content: str) -> str | None:
    """Why the reply is wrong for an owner sample of this kind (None when right)."""
    if kind in SILENT_KINDS:
        return None if content == "" else f"expected no reply, got {content!r}"
    if kind == "voice" and not fields.get("Recognition"):
        return None if content == texts.VOICE_NEEDS_TEXT else f"voice without Recognition got {content!r}"
    if kind in ("image", "video", "shortvideo", "link", "file"):
        ok = content.startswith("收到您发来的") and MENU_LINE not in content
        return None if ok else f"media got {content!r}"
    if kind == "location":
        ok = content == texts.LOCATION_NOTED.format(place=fields["Label"])
        return None if ok else f"location got {content!r}"
    if kind == "subscribe":
        return None if "欢迎" in content else f"subscribe got {content!r}"
    return None if content else "no reply"


async def test_every_sample_is_classified_and_handled_as_wechat_means_it(any_mode_hub: Hub) -> None:
    hub = any_mode_hub
    encrypted = hub.encrypted  # type: ignore[attr-defined]
    problems: list[str] = []
    started = time.time()
    for source, name, category, kind, xml in SAMPLES:
        original = parse_xml(xml)["FromUserName"]
        sender = original if original == "mphelper" else openid()
        body = with_sender(xml, sender)
        fields = parse_xml(body)
        status, reply = await hub.post(body, encrypted=encrypted)
        where = f"{source} {name}"
        if status != 200:
            problems.append(f"{where}: HTTP {status}")
            continue
        owner = await _owner(hub, sender)
        logged = await _count(hub, InboundMessageLog, InboundMessageLog.user_id == sender)
        if category in (NOTIFICATION, UNKNOWN):
            if reply != {} or owner is not None or logged:
                problems.append(f"{where}: notification reply={reply} owner={owner is not None} logged={logged}")
            continue
        assert category in (OWNER_MESSAGE, OWNER_ACTION)
        if owner is None or logged != 1:
            problems.append(f"{where}: owner={owner is not None} logged={logged}")
            continue
        if kind != "unsubscribe" and (owner.last_message_at is None or aware(owner.last_message_at).timestamp() < started - 5):
            problems.append(f"{where}: last_message_at={owner.last_message_at} is not the time received")
        wrong = _expected_reply(kind, fields, reply.get("Content", ""))
        if wrong:
            problems.append(f"{where}: {wrong}")
        if reply and reply.get("ToUserName") != sender:
            problems.append(f"{where}: reply addressed to {reply.get('ToUserName')}")
        if kind == "location" and await _count(hub, WorkOrder, WorkOrder.owner_id == owner.id):
            problems.append(f"{where}: a location opened a work order")
    assert not problems, "\n".join(problems)
    metrics = await (await hub.client.get("/metrics")).text()
    for _source, _name, category, kind, _xml in SAMPLES:
        if category in (NOTIFICATION, UNKNOWN):
            assert f'butler_wechat_notifications_total{{category="{category}",kind="{kind}"}}' in metrics, kind
