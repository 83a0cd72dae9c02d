"""A fake Telegram Bot API server (aiohttp) that records calls and answers like the real one.

The real aiogram client talks to it over HTTP (`BUTLER_TELEGRAM_API_BASE`), so tests, benchmarks
and the demo exercise the same code paths as production. It keeps the messages it has "sent" so
edits behave like Telegram's (an identical edit is refused with "message is not modified"), and
it injects the faults Telegram really produces: 429 with retry_after, 403 for users who never
started the bot, and group→supergroup migration. `listeners` get every recorded call.

The update builders at the bottom produce real Update JSON to POST to our `/telegram` webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.test_utils import TestServer

BOT_ID = 700000001
BOT_USERNAME = "butler_hub_bot"

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"
MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"


@dataclass
class RecordedCall:
    """One Bot API call: method name, decoded parameters and any uploaded files."""

    method: str
    params: dict[str, Any]
    files: dict[str, int] = field(default_factory=dict)  # field name -> size in bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def chat_id(self) -> int | None:
        """The target chat, when the method has one."""
        value = self.params.get("chat_id")
        return None if value is None else int(value)

    @property
    def text(self) -> str:
        """Message text or photo caption."""
        return str(self.params.get("text") or self.params.get("caption") or "")

    def buttons(self) -> list[dict[str, Any]]:
        """Inline buttons of the reply markup, flattened."""
        markup = self.params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]


@dataclass
class _Fault:
    status: int
    description: str
    parameters: dict[str, Any] | None = None
    match: Callable[[dict[str, Any]], bool] | None = None


@dataclass
class FakeTelegramAPI:
    """Records calls; `fail()`, `rate_limit()`, `block_user()`, `migrate_chat()` inject faults."""

    token: str = "123456:TEST-fake-telegram-token"
    calls: list[RecordedCall] = field(default_factory=list)
    listeners: list[Callable[[RecordedCall], Any]] = field(default_factory=list)
    base_url: str = ""
    _faults: dict[str, deque[_Fault]] = field(default_factory=lambda: defaultdict(deque))
    _delays: dict[str, float] = field(default_factory=dict)
    _blocked: set[int] = field(default_factory=set)
    _migrated: dict[int, int] = field(default_factory=dict)
    # (chat_id, message_id) -> {"text": ..., "reply_markup": ...}
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    _message_ids: dict[int, itertools.count[int]] = field(default_factory=dict)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _update_event: asyncio.Event = field(default_factory=asyncio.Event)
    _server: TestServer | None = None

    # ---- fault injection -------------------------------------------------------------------
    def fail(
        self,
        method: str,
        status: int,
        description: str,
        *,
        times: int = 1,
        parameters: dict[str, Any] | None = None,
        match: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Answer the next `times` calls to method (those whose params satisfy `match`) with an error."""
        self._faults[method].extend([_Fault(status, description, parameters, match)] * times)

    def rate_limit(
        self,
        method: str,
        *,
        retry_after: int = 1,
        times: int = 1,
        match: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Answer the next calls with 429 Too Many Requests and a retry_after."""
        self.fail(
            method,
            429,
            f"Too Many Requests: retry after {retry_after}",
            times=times,
            parameters={"retry_after": retry_after},
            match=match,
        )

    def block_user(self, user_id: int) -> None:
        """This user never started the bot: private messages get 403."""
        self._blocked.add(int(user_id))

    def unblock_user(self, user_id: int) -> None:
        """The user pressed Start."""
        self._blocked.discard(int(user_id))

    def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup: calls to the old id get 400 with migrate_to_chat_id."""
        self._migrated[int(old_chat_id)] = int(new_chat_id)

    def delay(self, method: str, seconds: float) -> None:
        """Sleep before answering calls to method."""
        self._delays[method] = seconds

    # ---- inspection ------------------------------------------------------------------------
    def calls_to(self, method: str, *, chat_id: int | None = None) -> list[RecordedCall]:
        """Recorded calls to one method, optionally to one chat."""
        return [
            c
            for c in self.calls
            if c.method == method and (chat_id is None or c.chat_id == int(chat_id))
        ]

    def sent_to(self, chat_id: int) -> list[RecordedCall]:
        """Every send (message or photo) addressed to a chat, refused attempts (403/429) included."""
        return [
            c for c in self.calls if c.method in ("sendMessage", "sendPhoto") and c.chat_id == int(chat_id)
        ]

    async def wait_for(
        self, predicate: Callable[[], Any], *, timeout: float = 5.0, interval: float = 0.02
    ) -> Any:
        """Poll until predicate() is truthy (returns its value) or fail after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s")
            await asyncio.sleep(interval)

    # ---- polling support -------------------------------------------------------------------
    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates (polling mode)."""
        update = dict(update)
        update.setdefault("update_id", len(self._updates) + 1)
        self._updates.append(update)
        self._update_event.set()

    # ---- server ----------------------------------------------------------------------------
    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        return app

    async def start(self, port: int = 0) -> str:
        """Start on 127.0.0.1 and return the base URL (for BUTLER_TELEGRAM_API_BASE)."""
        self._server = TestServer(self.app(), host="127.0.0.1", port=port)
        await self._server.start_server()
        self.base_url = str(self._server.make_url("")).rstrip("/")
        return self.base_url

    async def close(self) -> None:
        """Stop the server."""
        if self._server is not None:
            await self._server.close()

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, int]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, int] = {}
        ctype = request.content_type
        if ctype == "application/json":
            raw = await request.text()
            params.update(json.loads(raw) if raw.strip() else {})
        elif ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):  # a nested multipart: aiogram never sends one
                    continue
                if part.filename:
                    files[part.name or "file"] = len(await part.read())
                else:
                    params[part.name or ""] = await part.text()
        elif ctype == "application/x-www-form-urlencoded":
            params.update(dict(await request.post()))
        for key, value in list(params.items()):
            # aiogram uploads as field "<random>" and sets photo="attach://<random>", as the API allows.
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
                files[key] = files.pop(value[9:])
        for key in ("reply_markup", "allowed_updates", "entities", "link_preview_options", "reply_parameters"):
            if isinstance(params.get(key), str):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(params[key])
        return params, files

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params, files = await self._read_params(request)
        call = RecordedCall(method=method, params=params, files=files)
        self.calls.append(call)
        for listener in self.listeners:
            listener(call)
        if method in self._delays:
            await asyncio.sleep(self._delays[method])
        fault = next((f for f in self._faults[method] if f.match is None or f.match(params)), None)
        if fault is not None:
            self._faults[method].remove(fault)
            return _error(fault.status, fault.description, fault.parameters)
        chat_id = call.chat_id
        if chat_id is not None and chat_id in self._migrated:
            return _error(400, MIGRATED, {"migrate_to_chat_id": self._migrated[chat_id]})
        if chat_id is not None and chat_id > 0 and chat_id in self._blocked:
            return _error(403, CANT_INITIATE)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _ok(True)
        result = handler(params, files)
        if asyncio.iscoroutine(result):
            result = await result
        return result if isinstance(result, web.Response) else _ok(result)

    # ---- method implementations -------------------------------------------------------------
    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": f"user{chat_id}"}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": f"chat {chat_id}"}

    def _new_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        message_id = next(counter)
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Butler", "username": BOT_USERNAME},
            **content,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.messages[(chat_id, message_id)] = {
            "text": content.get("text", content.get("caption", "")),
            "reply_markup": params.get("reply_markup"),
        }
        return message

    def _m_getMe(self, params: dict[str, Any], files: dict[str, int]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Butler",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_sendMessage(self, params: dict[str, Any], files: dict[str, int]) -> dict[str, Any]:
        return self._new_message(params, text=str(params.get("text", "")))

    def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, int]) -> dict[str, Any] | web.Response:
        if "photo" not in files and not params.get("photo"):
            return _error(400, "Bad Request: there is no photo in the request")
        photo = [{"file_id": f"photo{len(self.calls)}", "file_unique_id": "u1", "width": 90, "height": 90}]
        return self._new_message(params, photo=photo, caption=str(params.get("caption", "")))

    def _edit(self, params: dict[str, Any], *, text: str | None) -> dict[str, Any] | web.Response:
        if params.get("inline_message_id"):
            return True  # type: ignore[return-value]  # the Bot API answers a bare true for inline messages
        key = (int(params["chat_id"]), int(params["message_id"]))
        stored = self.messages.get(key)
        if stored is None:
            return _error(400, "Bad Request: message to edit not found")
        new_text = stored["text"] if text is None else text
        new_markup = params.get("reply_markup")
        if new_text == stored["text"] and new_markup == stored["reply_markup"]:
            return _error(400, NOT_MODIFIED)
        stored.update(text=new_text, reply_markup=new_markup)
        message: dict[str, Any] = {
            "message_id": key[1],
            "date": int(time.time()),
            "edit_date": int(time.time()),
            "chat": self._chat(key[0]),
            "text": new_text,
        }
        if new_markup:
            message["reply_markup"] = new_markup
        return message

    def _m_editMessageText(self, params: dict[str, Any], files: dict[str, int]) -> Any:
        return self._edit(params, text=str(params.get("text", "")))

    def _m_editMessageReplyMarkup(self, params: dict[str, Any], files: dict[str, int]) -> Any:
        return self._edit(params, text=None)

    async def _m_getUpdates(self, params: dict[str, Any], files: dict[str, int]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)  # keep long polls short in tests
        pending = [u for u in self._updates if u["update_id"] >= offset]
        if not pending and timeout:
            self._update_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._update_event.wait(), timeout)
            pending = [u for u in self._updates if u["update_id"] >= offset]
        return pending


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


# ---- Update builders (real Bot API JSON) ---------------------------------------------------
_update_ids = itertools.count(int(time.time()) % 1_000_000 * 1000)


def user_json(user_id: int, *, first_name: str = "", username: str = "") -> dict[str, Any]:
    """A Telegram User object."""
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name or f"商家{user_id}"}
    if username:
        user["username"] = username
    return user


def chat_json(chat_id: int) -> dict[str, Any]:
    """A Chat object: positive ids are private chats, negative ones groups."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"user{chat_id}"}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": f"chat {chat_id}"}


def message_update(
    *,
    chat_id: int,
    user_id: int,
    text: str,
    message_id: int | None = None,
    reply_to: dict[str, Any] | None = None,
    first_name: str = "",
) -> dict[str, Any]:
    """An Update carrying a text message (optionally a reply to an earlier message)."""
    update_id = next(_update_ids)
    message: dict[str, Any] = {
        "message_id": message_id or update_id % 1_000_000,
        "date": int(time.time()),
        "chat": chat_json(chat_id),
        "from": user_json(user_id, first_name=first_name),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    return {"update_id": update_id, "message": message}


def bot_message_json(*, chat_id: int, message_id: int, text: str = "") -> dict[str, Any]:
    """A message the bot sent earlier (for reply_to_message / callback messages)."""
    return {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": chat_json(chat_id),
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Butler", "username": BOT_USERNAME},
        "text": text,
    }


def callback_update(
    *,
    user_id: int,
    data: str,
    chat_id: int,
    message_id: int,
    text: str = "",
    inaccessible: bool = False,
    first_name: str = "",
) -> dict[str, Any]:
    """An Update for an inline-button press; `inaccessible` mimics a message older than 48 h."""
    update_id = next(_update_ids)
    if inaccessible:
        message: dict[str, Any] = {"chat": chat_json(chat_id), "message_id": message_id, "date": 0}
    else:
        message = bot_message_json(chat_id=chat_id, message_id=message_id, text=text)
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cbq{update_id}",
            "from": user_json(user_id, first_name=first_name),
            "chat_instance": f"ci{chat_id}",
            "message": message,
            "data": data,
        },
    }
