"""What an owner's photo, video, link, file, voice note or shared location does.

Nothing here is parsed as text: a location's Label is an address the map picked, and a photo has
no words. Where it lands depends on where the owner is:

    hand-off open      → staff get the media itself (hub.handle forwards it)
    order being taken  → attached to the order (the job card says so; the winner can open it);
                         a location becomes the address (asked for) or an address note
    other form         → a short note, then the pending question again
    just reported 报修  → attached to that work order, and staff get it
    otherwise          → a short note on what the bot can do with it
"""

from __future__ import annotations

from dialogs import engine, people, state, texts
from dialogs.events import InboundMessage, Media, MessageKind
from dialogs.form import Env
from dialogs.state import DialogState, Flow
from storage import outbox, workorders
from storage.events import StaffAlert

# A photo or location this soon after a 报修 belongs to it (owners report, then take the picture).
REPORT_MEDIA_SECONDS = 600
MAX_ATTACHMENTS = 9  # WeChat lets an owner pick at most 9 photos at once
_KIND_LABELS = {"image": "图片", "video": "视频", "shortvideo": "小视频", "link": "链接", "file": "文件",
                "voice": "语音", "location": "位置"}


def label(media: Media) -> str:
    """How staff and the message log name a piece of media: （图片）URL, （链接）title URL …"""
    kind = _KIND_LABELS.get(media.kind, "消息")
    detail = " ".join(p for p in (media.title, media.url) if p) or (f"media_id {media.media_id}" if media.media_id else "")
    return f"（{kind}）{detail}".strip()


def describe(event: InboundMessage) -> str:
    """The text staff and the message log see for an owner message (its words, or its media)."""
    if event.text:
        return event.text
    if event.kind == MessageKind.VOICE:
        return "（语音，未识别出文字）"
    if event.media is not None:
        text = label(event.media)
        if event.latitude is not None and event.longitude is not None:
            text += f"（{event.latitude:.5f}, {event.longitude:.5f}）"
        return text
    return ""


def recent_report_key(openid: str) -> str:
    """Where the owner's latest 报修 is remembered for a few minutes."""
    return f"report:recent:{openid}"


async def remember_report(env: Env, work_order_id: int) -> None:
    """Called when a 报修 is filed, so the photo that follows is attached to it."""
    try:
        await env.kv.set(recent_report_key(env.owner.openid), str(work_order_id), ttl_seconds=REPORT_MEDIA_SECONDS)
    except state.STORE_DOWN:
        return


async def handle(event: InboundMessage, env: Env, pending: DialogState | None) -> str:
    """The reply to a non-text owner message outside a hand-off."""
    if event.kind == MessageKind.VOICE:  # voice without WeChat's recognition (text would be set)
        return await _in_form_or(pending, env, texts.VOICE_NEEDS_TEXT)
    media = event.media or Media(kind=str(event.kind))
    if pending is not None and pending.flow == Flow.ORDER:
        return await _attach_to_order(pending, env, media)
    if pending is not None:
        note = texts.LOCATION_IN_FORM if media.kind == "location" else texts.MEDIA_IN_FORM
        return await engine.answer_then_resume(pending, env, note)
    report = await _recent_report(env)
    if report is not None:
        return await _attach_to_report(report, env, event, media)
    if media.kind == "location":
        return texts.LOCATION_NOTED.format(place=media.title or "您的位置")
    return texts.MEDIA_NOTED.format(kind=_KIND_LABELS.get(media.kind, "消息"))


async def _in_form_or(pending: DialogState | None, env: Env, note: str) -> str:
    if pending is None:
        return note
    return await engine.answer_then_resume(pending, env, note)


async def _attach_to_order(pending: DialogState, env: Env, media: Media) -> str:
    if media.kind == "location":
        place = media.title or ""
        if pending.step == "address" and place:
            pending.data["address"] = place[:128]  # the question was where: the map answered it
            return await engine.start(pending, env, intro=texts.LOCATION_AS_ADDRESS.format(place=place))
        if place:
            notes = pending.data.get("notes", "")
            pending.data["notes"] = "；".join(p for p in (notes, f"位置：{place}") if p)[:200]
        return await engine.answer_then_resume(pending, env, texts.LOCATION_NOTED_IN_ORDER)
    attachments = list(pending.data.get("attachments") or [])
    if len(attachments) < MAX_ATTACHMENTS:
        attachments.append(media.to_json())
    pending.data["attachments"] = attachments
    note = texts.MEDIA_ATTACHED_ORDER.format(kind=_KIND_LABELS.get(media.kind, "文件"))
    return await engine.answer_then_resume(pending, env, note)


async def _recent_report(env: Env) -> workorders.WorkOrder | None:
    try:
        raw = await env.kv.get(recent_report_key(env.owner.openid))
    except state.STORE_DOWN:
        return None
    if not raw or not raw.isdigit():
        return None
    row = await env.session.get(workorders.WorkOrder, int(raw))
    return row if row is not None and row.owner_id == env.owner.id else None


async def _attach_to_report(row: workorders.WorkOrder, env: Env, event: InboundMessage, media: Media) -> str:
    if len(row.attachments or []) >= MAX_ATTACHMENTS:
        return texts.MEDIA_REPORT_FULL.format(id=row.id)
    row.attachments = [*(row.attachments or []), media.to_json()]  # a new list, so the JSON change is saved
    household = await people.household(env.session, env.owner)
    text = texts.STAFF_ISSUE_MEDIA.format(id=row.id, household=household, media=describe(event))
    photo_url = media.url if media.kind == "image" and media.url else ""
    outbox.emit(env.session, StaffAlert(text=text, photo_url=photo_url))
    if media.kind == "location":
        return texts.LOCATION_ADDED_TO_REPORT.format(id=row.id)
    return texts.MEDIA_ADDED_TO_REPORT.format(id=row.id, kind=_KIND_LABELS.get(media.kind, "文件"))
