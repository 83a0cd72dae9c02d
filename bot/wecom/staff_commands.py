"""Staff commands in the WeCom app (issue 17): the registry Telegram and WeChat staff already use.

A text that is a command ("/orders", "/broadcast …") runs through StaffCommands.run exactly as in
the Telegram staff chat, the sender identified by their WeCom userid. Authority comes only from an
active staff record carrying that userid, and the registry checks each command's role; anyone
else is told so and nothing runs. A broadcast preview arrives as its text plus a
button_interaction card (确认 / 放弃). A press runs the button's command line for the member who
pressed it, so two presses, or 确认 and 放弃 at once, are decided once by broadcast_decisions'
conditional update, as on Telegram. A report's chart is uploaded as temporary media and sent
before its text.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.registry import REFUSAL, CommandResult, is_id, parse
from bot.commands.service import StaffCommands
from bot.wecom import cards
from bot.wecom.client import WeComClient
from bot.wecom.webhook import ButtonPress
from storage import staff
from storage.broadcast_decisions import Ended
from storage.broadcasts import Broadcast, BroadcastStatus

log = logging.getLogger(__name__)

PREFIX = "sc:"  # a card button standing for a command line, as Telegram's callback data does
NOT_STAFF = "抱歉，工作人员命令仅限已登记的物业工作人员使用，您的企业微信账号未登记，命令没有执行。如需开通，请联系管理员。"
CARD_BODY = "确认后开始发送；30 分钟内有效。"
# What a preview button reads on WeCom (its card has no room for Telegram's emoji labels).
BUTTON_WORDS = {"confirm": "确认", "discard": "放弃"}
CHUNK_BYTES = 2000  # a WeCom text message carries 2,048 bytes


def chunks(text: str, limit: int = CHUNK_BYTES) -> list[str]:
    """The text in pieces of at most `limit` UTF-8 bytes, cut at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while len(line.encode()) > limit:  # one very long line: cut by characters
            cut = len(line.encode()[:limit].decode(errors="ignore"))
            pieces.append(line[:cut])
            line = line[cut:]
        current = line
    if current or not pieces:
        pieces.append(current)
    return pieces


class WeComStaffCommands:
    """Runs a WeCom member's command text or preview press, and renders the answer in the app."""

    def __init__(self, client: WeComClient, commands: StaffCommands,
                 deliver: Callable[[], Awaitable[None]] | None = None) -> None:
        self.client = client
        self.commands = commands
        self.deliver = deliver  # what the command's commit emitted leaves within this callback

    async def run(self, userid: str, line: str) -> CommandResult:
        """One command line as this member (their staff record decides what they may do)."""

        async def lookup(session: AsyncSession) -> staff.Staff | None:
            return await staff.acting(session=session, wecom_userid=userid)

        result = await self.commands.run(line, lookup=lookup, channel="wecom", reply_to=userid)
        if self.deliver is not None:
            await self.deliver()
        if result.text == REFUSAL:  # no staff record with this userid: the owners' wording would mislead
            log.info("staff command refused for wecom %s", userid)
            return CommandResult(NOT_STAFF)
        return result

    async def handle_text(self, userid: str, text: str) -> None:
        """A typed command."""
        await self.render(userid, await self.run(userid, text.strip()))

    async def handle_press(self, press: ButtonPress) -> None:
        """A preview button: run its line, then the card shows what became of the draft."""
        line = press.key[len(PREFIX):]
        result = await self.run(press.userid, line)
        if result.text != NOT_STAFF and press.response_code:
            try:  # the decision is committed: nothing here may keep the presser from hearing it
                label = await self._decided_label(line)
                await self.client.update_card([press.userid], press.response_code, replace_name=label)
            except Exception as exc:  # a used or expired code, a database hiccup: the answer matters
                log.info("wecom preview card of %s not updated: %r", press.userid, exc)
        await self.render(press.userid, result)

    async def _decided_label(self, line: str) -> str:
        """已确认 / 已放弃 / 已失效: the draft's state after the press, whichever press won."""
        parsed = parse(line)
        if parsed is None or not is_id(parsed[1]):
            return "已处理"
        async with self.commands.runtime.sessions() as session:
            row = await session.get(Broadcast, int(parsed[1].lstrip("#")))
        if row is None or row.status == BroadcastStatus.DRAFT:
            return "已处理"
        if row.confirmed_at is not None:
            return "已确认"
        ended = (row.totals or {}).get("ended", Ended.DISCARDED.value)
        return "已放弃" if ended == Ended.DISCARDED.value else "已失效"

    async def render(self, userid: str, result: CommandResult) -> None:
        """Image first (a report's chart), then the text, then a card with the buttons."""
        if result.photo_path:
            await self.image(userid, Path(result.photo_path), "")
        if result.buttons:
            confirm, cancel = (f"{PREFIX}{b.data}" for b in result.buttons[:2])
            await self.preview(userid, result.text, confirm, cancel)
            return
        await self.reply(userid, result.text)

    # --- StaffChannel's replies, images and previews (bot/channels.py) --------------------------

    async def reply(self, staff_ref: str, text: str) -> None:
        """A command's answer, in as many app messages as it needs."""
        for piece in chunks(text):
            await self.client.send_text(staff_ref, piece)

    async def image(self, staff_ref: str, path: Path, caption: str) -> None:
        """An image (uploaded as temporary media), then its caption if any."""
        if path.is_file():
            await self.client.send_image(staff_ref, path)
        if caption:
            await self.reply(staff_ref, caption)

    async def preview(self, staff_ref: str, text: str, confirm_key: str, cancel_key: str) -> None:
        """The preview's text, then a card with 确认 / 放弃 carrying the two keys."""
        await self.reply(staff_ref, text)
        title = text.split("\n", 1)[0]
        buttons = [(BUTTON_WORDS["confirm"], confirm_key), (BUTTON_WORDS["discard"], cancel_key)]
        await self.client.send_card(staff_ref, cards.command_card(title, CARD_BODY, buttons, task="sc"))
