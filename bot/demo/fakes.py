"""The fake Bot API as the demo needs it: it also reports each message it creates, with its id.

The shared fake (bot/devtools/fake_telegram.py) tells listeners about a call before answering it,
so the message id it assigns is not known yet; the simulator needs that id to press buttons on the
card later. Uploaded photos are kept as bytes too, so the staff pane can show the report chart.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from bot.devtools.fake_telegram import FakeTelegramAPI

# (parameters of the send, the Message the fake returned, uploaded files by field name)
SentListener = Callable[[dict[str, Any], dict[str, Any], dict[str, bytes]], None]


@dataclass
class DemoTelegramAPI(FakeTelegramAPI):
    """FakeTelegramAPI plus `sent_listeners`, called with every message it creates."""

    sent_listeners: list[SentListener] = field(default_factory=list)
    _uploads: dict[str, bytes] = field(default_factory=dict)

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, int]]:
        if request.content_type != "multipart/form-data":
            self._uploads = {}
            return await super()._read_params(request)
        # Same decoding as the parent, keeping the bytes of uploaded files.
        params: dict[str, Any] = dict(request.query)
        uploads: dict[str, bytes] = {}
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):  # a nested multipart: aiogram never sends one
                continue
            if part.filename:
                uploads[part.name or "file"] = bytes(await part.read())
            else:
                params[part.name or ""] = await part.text()
        for key in ("reply_markup", "entities", "reply_parameters", "link_preview_options"):
            if isinstance(params.get(key), str):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(params[key])
        # No await between here and the send handler, so the uploads belong to this request.
        self._uploads = uploads
        return params, {name: len(blob) for name, blob in uploads.items()}

    def _new_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        message = super()._new_message(params, **content)
        uploads, self._uploads = self._uploads, {}
        for listener in self.sent_listeners:
            listener(params, message, uploads)
        return message
