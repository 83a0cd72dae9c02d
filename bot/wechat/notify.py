"""Outbox handlers that reach owners on WeChat (customer-service text or template notice)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox_relay import OutboxHandler, PermanentFailure, RetryLater
from bot.wechat.client import (
    NotFollowing,
    QuotaExceeded,
    WeChatAPIError,
    WeChatClient,
    WindowClosed,
)
from bot.wechat.notices import DEFAULT_FIELDS, template_data
from dialogs.guard import GuardRefused
from dialogs.handoff import window_open
from storage import owners, send_results
from storage.events import OwnerNotice


def owner_notifier(
    client: WeChatClient, *, template_id: str = "", fields: dict[str, str] | None = None, tz: str = "Asia/Shanghai"
) -> OutboxHandler:
    """Handler for `OwnerNotice` events (kind owner.notify)."""
    mapping, zone = fields or DEFAULT_FIELDS, ZoneInfo(tz)

    async def send_notice(event: OwnerNotice, session: AsyncSession) -> None:
        data = template_data(mapping=mapping, tz=zone, title=event.title or "服务通知",
                             text=event.text, fields=event.fields)
        msgid = await client.send_template(event.openid, template_id, data)
        await send_results.record_sent(session=session, msgid=msgid, kind=send_results.SendKind.TEMPLATE,
                                       openid=event.openid, source=OwnerNotice.kind)

    async def notify(event: OwnerNotice, session: AsyncSession) -> None:
        openid, text = event.openid, event.text
        owner = await owners.get_by_openid(session=session, openid=openid)
        if owner is not None and owner.blocked:
            raise PermanentFailure("the owner blocked the account (failed:user block); they must write first")
        try:
            # {menu: [...]}: one-tap answers (issue 14, 确认金额); outside the window, the words to type.
            if event.menu and await _menu(client, openid, text, list(event.menu)):
                return
            if event.notice and template_id:
                try:
                    await send_notice(event, session)
                except WeChatAPIError as exc:
                    # A template the platform refused (not granted, bad keyword …): the whole text
                    # still reaches an owner whose 48-hour window is open.
                    if exc.errcode == 45009 or owner is None or not window_open(owner):
                        raise
                    await client.send_text(openid, text)
            else:
                await client.send_text(openid, text)
        except (NotFollowing, GuardRefused) as exc:
            raise PermanentFailure(str(exc)) from exc
        except (WindowClosed, QuotaExceeded) as exc:
            if exc.errcode == 45009:
                # The daily API quota covers templates too: not an attempt (issue 15: five sweeps
                # would otherwise use up the event's attempts and drop it); the sweeper retries.
                raise RetryLater(str(exc)) from exc
            if not template_id or event.notice:
                if isinstance(exc, WindowClosed):
                    raise PermanentFailure(str(exc)) from exc
                raise  # 45047: the owner's next message reopens the quota; retry later
            # The 48-hour window closed (45015) or its message count is used up (45047): a
            # service notice may still go as a template message.
            await send_notice(event, session)

    return notify


async def _menu(client: WeChatClient, openid: str, text: str, options: list[str]) -> bool:
    """Send text with tap options; False when the customer-service window does not allow it."""
    try:
        await client.send_menu(openid, text, options)
    except (WindowClosed, QuotaExceeded):
        return False
    return True
