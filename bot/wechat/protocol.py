"""WeChat message protocol: safe XML parsing, typed events, dedupe keys and reply rendering."""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import replace
from datetime import UTC, datetime
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from wechatpy.replies import TextReply

from dialogs.events import MEDIA_KINDS, Channel, InboundMessage, Media, MessageKind

log = logging.getLogger(__name__)


class MalformedMessage(ValueError):
    """The body is not a flat WeChat XML message (or tries DTD/entity tricks)."""


def parse_xml(body: bytes | str) -> dict[str, str]:
    """Parse a WeChat <xml> document into a flat dict, refusing DTDs and entities outright.

    Top-level fields come first; the leaves of nested blocks (ScanCodeInfo, SendLocationInfo,
    SendPicsInfo …) are added under their own tag unless the top level already has that tag.
    """
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedMessage(str(exc)) from exc
    if root.tag != "xml":
        raise MalformedMessage(f"root element is <{root.tag}>, expected <xml>")
    fields = {child.tag: (child.text or "").strip() for child in root}
    for child in root:
        for leaf in child.iter():
            if leaf is not child and len(leaf) == 0 and leaf.tag not in fields:
                fields[leaf.tag] = (leaf.text or "").strip()
    return fields


def dedupe_key(fields: dict[str, str]) -> str:
    """FromUserName+MsgId for messages; FromUserName+CreateTime+Event+EventKey for events.

    MsgId is only unique per sender as far as we can check, so the sender is part of the key: the
    same MsgId from another openid is another message. EventKey is part of an event's key because
    CreateTime has one-second resolution (two menu clicks in one second are two events, while
    WeChat's retry of one click repeats its key). A message without a MsgId is keyed by a hash of
    its content, so a retry matches and a different message in the same second does not.
    """
    sender = fields.get("FromUserName", "")
    if fields.get("MsgId"):
        return f"msg:{sender}:{fields['MsgId']}"[:128]
    if fields.get("MsgType") == "event":
        return "evt:{}:{}:{}:{}".format(
            sender, fields.get("CreateTime", ""), fields.get("Event", ""), fields.get("EventKey", ""),
        )[:128]
    digest = hashlib.sha256(repr(sorted(fields.items())).encode()).hexdigest()[:32]
    return f"hash:{sender[:64]}:{digest}"


# A CreateTime this far from our clock is logged (the window uses our time, not this one).
CREATE_TIME_SKEW_SECONDS = 600
_MESSAGE_KINDS = {
    "text": MessageKind.TEXT, "voice": MessageKind.VOICE, "image": MessageKind.IMAGE,
    "video": MessageKind.VIDEO, "shortvideo": MessageKind.SHORTVIDEO, "location": MessageKind.LOCATION,
    "link": MessageKind.LINK, "file": MessageKind.FILE,
}
_ACTION_KINDS = {
    "subscribe": MessageKind.SUBSCRIBE, "unsubscribe": MessageKind.UNSUBSCRIBE, "scan": MessageKind.SCAN,
    "click": MessageKind.CLICK, "view": MessageKind.VIEW, "view_miniprogram": MessageKind.VIEW,
    "scancode_push": MessageKind.SCANCODE, "scancode_waitmsg": MessageKind.SCANCODE,
    "pic_sysphoto": MessageKind.PICS, "pic_photo_or_album": MessageKind.PICS, "pic_weixin": MessageKind.PICS,
    "location_select": MessageKind.LOCATION_SELECT,
}


def message_kind(fields: dict[str, str]) -> MessageKind | None:
    """The owner message or owner action these fields are; None for anything else."""
    msg_type = fields.get("MsgType", "")
    if msg_type == "event":
        return _ACTION_KINDS.get(fields.get("Event", "").lower())
    return _MESSAGE_KINDS.get(msg_type)


def to_event(fields: dict[str, str], *, now: datetime | None = None) -> InboundMessage:
    """Turn parsed WeChat fields into the typed event the dialog layer understands."""
    openid = fields.get("FromUserName", "")
    if not openid:
        raise MalformedMessage("FromUserName is missing")
    received = now or datetime.now(UTC)
    _check_create_time(fields.get("CreateTime") or "0", received, openid)
    kind = message_kind(fields) or MessageKind.OTHER
    # The fields every kind shares; each kind below adds its own with dataclasses.replace, which
    # keeps each field's type checked (a splatted dict would not).
    common = InboundMessage(channel=Channel.WECHAT, user_id=openid, kind=kind,
                            dedupe_key=dedupe_key(fields), received_at=received)
    if kind == MessageKind.TEXT:
        return replace(common, text=fields.get("Content", ""))
    if kind == MessageKind.VOICE:
        # WeChat's own speech recognition; empty when the account has it switched off.
        return replace(common, text=fields.get("Recognition", ""), media=_media(kind, fields))
    if kind in (MessageKind.LOCATION, MessageKind.LOCATION_SELECT):
        # The Label is an address the map picked, not something the owner said: it stays out of
        # `text`, so it is never parsed as an intent.
        return replace(
            common,
            latitude=_float(fields.get("Location_X")), longitude=_float(fields.get("Location_Y")),
            media=Media(kind="location", title=fields.get("Label", "")[:200]),
            event_key=fields.get("EventKey", "")[:128],
        )
    if kind in MEDIA_KINDS:
        return replace(common, media=_media(kind, fields))
    return replace(common, event_key=fields.get("EventKey", "")[:128])


def _media(kind: MessageKind, fields: dict[str, str]) -> Media:
    url = fields.get("PicUrl") or fields.get("Url") or ""
    return Media(
        kind=str(kind), media_id=fields.get("MediaId", "")[:128], url=url[:1000],
        title=(fields.get("Title") or fields.get("FileName") or "")[:200],
        description=fields.get("Description", "")[:500],
    )


def _check_create_time(raw: str, received: datetime, openid: str) -> None:
    if len(raw) > 12 or not raw.lstrip("-").isdigit():
        raise MalformedMessage("CreateTime is not a timestamp")
    skew = abs(received.timestamp() - int(raw))
    if skew > CREATE_TIME_SKEW_SECONDS:
        log.info("CreateTime of a message from %s is %.0f s off our clock; using the time received",
                 openid[:6] + "…", skew)


def _float(value: str | None) -> float | None:
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def cdata_safe(text: str) -> str:
    """Split any ']]>' so echoed user text can't close the CDATA section early."""
    return text.replace("]]>", "]]]]><![CDATA[>")


def render_text_reply(*, to_openid: str, from_account: str, text: str, at: int | None = None) -> str:
    """A passive text reply in WeChat's XML, rendered by wechatpy."""
    reply = TextReply(source=cdata_safe(from_account), target=cdata_safe(to_openid), content=cdata_safe(text))
    if at is not None:
        reply.time = at
    return str(reply.render())
