"""The parser interface the app codes against, and the backend factory."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from nlu.result import NluResult


@runtime_checkable
class Parser(Protocol):
    """What dialogs need from an NLU backend."""

    async def parse(self, text: str, *, now: datetime | None = None) -> NluResult:
        """Intent and entities of ``text``, times resolved against ``now``."""
        ...

    async def health(self) -> str:
        """ "ok", or e.g. "down" (rasa unreachable, answers come from the fallback)."""
        ...

    async def warm_up(self) -> None:
        """Load or train models off the event loop."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


def create_parser(
    backend: str = "embedded", *, rasa_url: str = "http://127.0.0.1:5005", tz: str = "Asia/Shanghai"
) -> Parser:
    """Build a parser; no I/O or training happens here (see ``warm_up``)."""
    from nlu.embedded import EmbeddedParser

    backend = (backend or "embedded").strip().lower()
    if backend == "embedded":
        return EmbeddedParser(tz=tz)
    if backend == "rasa":
        from nlu.rasa_client import RasaParser

        return RasaParser(rasa_url, fallback=EmbeddedParser(tz=tz), tz=tz)
    raise ValueError(f"unknown NLU backend {backend!r} (expected 'embedded' or 'rasa')")
