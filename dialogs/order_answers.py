"""The order form's answers as one typed value, read from the dialog state when the owner confirms.

The dialog state itself stays a JSON dict (it survives restarts in storage); this is the
boundary where its answers leave the dialog layer for `storage.orders`, so they are checked and
typed once here instead of being read key by key as `Any`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# `time` holds an ISO datetime, or what the owner said when it was not a time ("note:下周找我").
NOTE_PREFIX = "note:"


@dataclass(frozen=True, slots=True)
class OrderAnswers:
    """What the owner answered: service, time, where, how to reach them, and whether to place it."""

    service: str
    time: str
    address: str
    phone: str
    confirm: bool
    period: str | None = None
    notes: str = ""
    attachments: tuple[dict[str, str], ...] = ()

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> OrderAnswers:
        """The answers of a finished order dialog; ValueError if the state lacks or garbles one."""
        try:
            return cls(
                service=_text(data["service"]), time=_text(data["time"]), address=_text(data["address"]),
                phone=_text(data["phone"]), confirm=_flag(data["confirm"]),
                period=None if data.get("period") is None else _text(data["period"]),
                notes=_text(data.get("notes", "")),
                attachments=tuple(_media(m) for m in data.get("attachments") or ()),
            )
        except KeyError as exc:
            raise ValueError(f"order form has no answer for {exc.args[0]!r}") from exc

    @property
    def scheduled_at(self) -> datetime | None:
        """The booked time, or None when the owner described it in words."""
        return datetime.fromisoformat(self.time) if self.time and not self.time.startswith(NOTE_PREFIX) else None

    @property
    def notes_text(self) -> str:
        """Notes for the order: what the owner added, and the time in their words if it was no time."""
        said = self.time.removeprefix(NOTE_PREFIX) if self.time.startswith(NOTE_PREFIX) else ""
        return "；".join(p for p in (self.notes, f"时间：{said}" if said else "") if p)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text in the order form, got {type(value).__name__}")
    return value


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected yes/no in the order form, got {type(value).__name__}")
    return value


def _media(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError("an order attachment is not a media record")
    return dict(value)
