"""One staff-command registry for WeChat and Telegram: grammar, permission and help declared once.

Commands are declared Errbot-style: the function's docstring is its help (first line = summary,
the rest = usage), the decorator carries the permission. Both transports turn a message into
`dispatch(text, ctx)`; only the rendering of the result differs (WeChat text, Telegram text +
inline buttons + photo).
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.guard import ContentGuard
from storage.kv import KeyValueStore
from storage.segments import Scope
from storage.staff import Staff, StaffRole

log = logging.getLogger(__name__)

REFUSAL = "抱歉，这个功能仅限物业工作人员使用。如需帮助，请直接留言，我们会尽快回复您。"
FORBIDDEN = "抱歉，这个命令需要管理员权限。"
_LEAD_CLAUSE = re.compile(r"[，：；（(,;:]")
UNKNOWN = "没有这个命令：/{name}。发送 /help 查看可用命令。"


class Permission(StrEnum):
    """Who may run a command."""

    STAFF = "staff"  # any registered staff member (scoped to their communities)
    ADMIN = "admin"


@dataclass(frozen=True)
class Button:
    """An inline choice (Telegram button; on WeChat the reply word is shown instead)."""

    label: str
    data: str  # a command line, e.g. "/confirm 12"
    reply_word: str = ""


@dataclass
class CommandResult:
    """What a command answers: text, optional buttons and an optional image."""

    text: str
    buttons: list[Button] = field(default_factory=list)
    photo_path: str | None = None


@dataclass
class CommandContext:
    """Everything a command may use; built per message by the transport."""

    session: AsyncSession
    kv: KeyValueStore
    guard: ContentGuard
    tz: ZoneInfo
    staff: Staff | None
    channel: str  # "wechat" or "telegram"
    reply_to: str  # openid, or the Telegram chat id
    services: dict[str, Any] = field(default_factory=dict)  # settings, broadcast sender, …
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        """Aware now in the business time zone."""
        return self.clock().astimezone(self.tz)

    @property
    def scope(self) -> Scope:
        """Communities the caller may act in (None = all, for admins)."""
        assert self.staff is not None
        if self.staff.role == StaffRole.ADMIN:
            return Scope(None)
        return Scope(frozenset(c.id for c in self.staff.communities))


Handler = Callable[[CommandContext, str], Awaitable[CommandResult]]


@dataclass(frozen=True)
class Command:
    """A registered command."""

    name: str
    handler: Handler
    permission: Permission
    aliases: tuple[str, ...] = ()
    hidden: bool = False

    @property
    def summary(self) -> str:
        """First line of the docstring."""
        return (inspect.getdoc(self.handler) or "").splitlines()[0]

    @property
    def usage(self) -> str:
        """The rest of the docstring: syntax and examples."""
        return "\n".join((inspect.getdoc(self.handler) or "").splitlines()[1:]).strip()

    def allowed(self, staff: Staff | None) -> bool:
        """Whether this caller may run it."""
        if staff is None:
            return False
        return self.permission == Permission.STAFF or staff.role == StaffRole.ADMIN


class Registry:
    """Name → command, plus the parser and permission gate every transport shares."""

    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}
        self._names: dict[str, str] = {}

    def command(
        self, name: str, *, permission: Permission = Permission.STAFF, aliases: tuple[str, ...] = (),
        hidden: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Decorator: register a handler; its docstring is the help."""

        def register(handler: Handler) -> Handler:
            if not inspect.getdoc(handler):
                raise ValueError(f"command /{name} needs a docstring (it is the help text)")
            cmd = Command(name, handler, permission, aliases, hidden)
            self.commands[name] = cmd
            for key in (name, *aliases):
                self._names[key.lower()] = name
            return handler

        return register

    def find(self, name: str) -> Command | None:
        """A command by name or alias."""
        key = self._names.get(name.lower())
        return self.commands.get(key) if key else None

    def visible_to(self, staff: Staff | None) -> list[Command]:
        """Commands a caller may use, in declaration order."""
        return [c for c in self.commands.values() if not c.hidden and c.allowed(staff)]

    async def dispatch(self, text: str, ctx: CommandContext) -> CommandResult:
        """Parse, check permission, run. Non-staff are refused before anything executes."""
        parsed = parse(text)
        if parsed is None:
            return CommandResult(UNKNOWN.format(name=text.strip()[:20]))
        name, args = parsed
        if ctx.staff is None:
            return CommandResult(REFUSAL)
        cmd = self.find(name)
        if cmd is None:
            return CommandResult(UNKNOWN.format(name=name))
        if not cmd.allowed(ctx.staff):
            return CommandResult(FORBIDDEN)
        try:
            return await cmd.handler(ctx, args)
        except UsageError as exc:
            return CommandResult(f"{exc}\n用法：\n{cmd.usage}" if cmd.usage else str(exc))


class UsageError(ValueError):
    """The arguments don't fit the command; the usage text is appended for the caller."""


MAX_ID = 2**31 - 1  # ids are INTEGER keys: a longer number would overflow the query (issue 14)


def is_id(raw: str) -> bool:
    """True for '12' or '#12' within the id range; a 30-digit number is not an id."""
    digits = raw.strip().lstrip("#")
    return digits.isdigit() and len(digits) <= 10 and 1 <= int(digits) <= MAX_ID


_COMMAND = re.compile(r"^[/／]([A-Za-z_][A-Za-z0-9_]*)(?:@(\w+))?(?:\s+(.*))?$", re.S)


def parse(text: str) -> tuple[str, str] | None:
    """('broadcast', '小区=翠苑 | …') from '/broadcast 小区=翠苑 | …' (Telegram '@bot' suffix allowed)."""
    m = _COMMAND.match(text.strip())
    if m is None:
        return None
    return m.group(1), (m.group(3) or "").strip()


def addressee(text: str) -> str | None:
    """The bot a Telegram command names ('/orders@other_bot' → 'other_bot'), or None."""
    m = _COMMAND.match(text.strip())
    return m.group(2) if m is not None else None


def looks_like_command(text: str) -> bool:
    """True for '/word…' (or the full-width slash a Chinese keyboard types)."""
    return parse(text) is not None


REGISTRY = Registry()
command = REGISTRY.command


def help_text(staff: Staff | None, topic: str = "") -> str:
    """The command list a caller may use, or one command's full usage."""
    if topic:
        cmd = REGISTRY.find(topic.lstrip("/／"))
        if cmd is None or not cmd.allowed(staff):
            return UNKNOWN.format(name=topic.lstrip("/／"))
        return f"/{cmd.name} — {cmd.summary}\n{cmd.usage}".strip()
    lines = ["可用命令（发送 /help 命令名 查看详细用法）："]
    # One short clause per command: the whole list must fit one WeChat reply (2,048 bytes).
    lines += [f"/{c.name} — {_LEAD_CLAUSE.split(c.summary, 1)[0]}" for c in REGISTRY.visible_to(staff)]
    return "\n".join(lines)
