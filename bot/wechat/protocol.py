"""WeChat message protocol: safe XML parsing, typed events, dedupe keys and reply rendering."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from wechatpy.replies import TextReply

from dialogs.events import Channel, InboundMessage, MessageKind


class MalformedMessage(ValueError):
    """The body is not a flat WeChat XML message (or tries DTD/entity tricks)."""


def parse_xml(body: bytes | str) -> dict[str, str]:
    """Parse a flat <xml> document into a dict, refusing DTDs and entities outright."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedMessage(str(exc)) from exc
    if root.tag != "xml":
        raise MalformedMessage(f"root element is <{root.tag}>, expected <xml>")
    return {child.tag: (child.text or "").strip() for child in root}


def dedupe_key(fields: dict[str, str]) -> str:
    """MsgId for messages; FromUserName+CreateTime+Event(+EventKey) for events (they carry no MsgId).

    EventKey is part of the key because CreateTime has one-second resolution: two different menu
    clicks in the same second are two events, while WeChat's retry of one click repeats its key.
    """
    if fields.get("MsgId"):
        return f"msg:{fields['MsgId']}"
    return "evt:{}:{}:{}:{}".format(
        fields.get("FromUserName", ""), fields.get("CreateTime", ""), fields.get("Event", ""),
        fields.get("EventKey", ""),
    )


_EVENT_KINDS = {
    "subscribe": MessageKind.SUBSCRIBE,
    "unsubscribe": MessageKind.UNSUBSCRIBE,
    "CLICK": MessageKind.CLICK,
    "LOCATION": MessageKind.LOCATION,
}


def to_event(fields: dict[str, str]) -> InboundMessage:
    """Turn parsed WeChat fields into the typed event the dialog layer understands."""
    openid = fields.get("FromUserName", "")
    if not openid:
        raise MalformedMessage("FromUserName is missing")
    msg_type = fields.get("MsgType", "")
    try:
        received = datetime.fromtimestamp(int(fields.get("CreateTime") or 0), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise MalformedMessage("CreateTime is not a timestamp") from exc
    common = {
        "channel": Channel.WECHAT,
        "user_id": openid,
        "dedupe_key": dedupe_key(fields),
        "received_at": received,
    }
    if msg_type == "text":
        return InboundMessage(kind=MessageKind.TEXT, text=fields.get("Content", ""), **common)
    if msg_type == "voice":
        # WeChat's own speech recognition; empty when the account has it switched off.
        return InboundMessage(kind=MessageKind.VOICE, text=fields.get("Recognition", ""), **common)
    if msg_type == "location":
        return InboundMessage(
            kind=MessageKind.LOCATION,
            text=fields.get("Label", ""),
            latitude=_float(fields.get("Location_X")),
            longitude=_float(fields.get("Location_Y")),
            **common,
        )
    if msg_type == "event":
        event = fields.get("Event", "")
        kind = _EVENT_KINDS.get(event, _EVENT_KINDS.get(event.lower(), MessageKind.OTHER))
        if kind == MessageKind.LOCATION:
            return InboundMessage(
                kind=kind,
                latitude=_float(fields.get("Latitude")),
                longitude=_float(fields.get("Longitude")),
                **common,
            )
        return InboundMessage(kind=kind, event_key=fields.get("EventKey", ""), **common)
    return InboundMessage(kind=MessageKind.OTHER, **common)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def cdata_safe(text: str) -> str:
    """Split any ']]>' so echoed user text can't close the CDATA section early."""
    return text.replace("]]>", "]]]]><![CDATA[>")


def render_text_reply(*, to_openid: str, from_account: str, text: str, at: int | None = None) -> str:
    """A passive text reply in WeChat's XML, rendered by wechatpy."""
    reply = TextReply(source=cdata_safe(from_account), target=cdata_safe(to_openid), content=cdata_safe(text))
    if at is not None:
        reply.time = at
    return str(reply.render())
