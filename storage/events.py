"""Typed domain events: what the domain asks a transport to deliver after its commit (issue 17).

One frozen dataclass per meaning. `encode`/`decode` are the only place an event becomes an
outbox row (kind + JSON payload) and back, so no caller writes a kind string or a payload dict.

The wire kinds are the ones the code wrote before these classes existed (`owner.notify`,
`staff.notify`, `merchant.notify`, `order.*`), with the same payload keys: rows already in a
database decode, and a row written now reads like one written then. `StaffAlert` and
`HandoffMessage` share `staff.notify`; a `handoff_id` in the payload tells them apart, which is
exactly how old hand-off rows look.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from types import NoneType, UnionType
from typing import Any, ClassVar


class DomainEvent:
    """Base of every outbound event; `kind` is its stable name in the outbox."""

    kind: ClassVar[str]


# --- jobs offered to merchants ------------------------------------------------------------------


@dataclass(frozen=True)
class JobOffered(DomainEvent):
    """A new order waits for a taker: post the job card."""

    kind: ClassVar[str] = "order.created"
    order_id: int


@dataclass(frozen=True)
class JobReposted(DomainEvent):
    """Nobody took the job in time: retire the old card and offer it again."""

    kind: ClassVar[str] = "order.reposted"
    order_id: int


@dataclass(frozen=True)
class JobTaken(DomainEvent):
    """A merchant holds the job (won the press, or staff assigned it): slip to the taker."""

    kind: ClassVar[str] = "order.accepted"
    order_id: int
    assigned: bool = False  # staff chose the merchant rather than a press on the card


@dataclass(frozen=True)
class JobProgress(DomainEvent):
    """The holder moved the job on (on the way, arrived, …): the card shows the new status."""

    kind: ClassVar[str] = "order.progress"
    order_id: int


@dataclass(frozen=True)
class JobCancelled(DomainEvent):
    """The order is off: close the card and tell the holder not to come."""

    kind: ClassVar[str] = "order.cancelled"
    order_id: int


@dataclass(frozen=True)
class JobCompleted(DomainEvent):
    """Done and paid: the merchant's settlement note."""

    kind: ClassVar[str] = "order.completed"
    order_id: int


# --- people ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnerNotice(DomainEvent):
    """A message to an owner over WeChat; `text` was rendered by dialogs (owner wording lives there)."""

    kind: ClassVar[str] = "owner.notify"
    openid: str
    text: str
    notice: bool = False  # worth a template message if the 48-hour window is closed
    title: str = ""
    menu: tuple[str, ...] = ()  # options offered as a WeChat menu message
    fields: dict[str, str] | None = None  # template fields beyond title and text


@dataclass(frozen=True)
class StaffAlert(DomainEvent):
    """Something staff should look at (a new repair, an overdue complaint, a report…)."""

    kind: ClassVar[str] = "staff.notify"
    text: str
    community_id: int | None = None  # only staff who may act there; None: everyone
    complaint_id: int | None = None  # a reply to the alert reaches this complaint's owner
    workorder_id: int | None = None
    urgent: bool = False
    photo_path: str = ""  # a local image (daily report, supplier sheet)
    photo_url: str = ""  # an owner's WeChat photo


@dataclass(frozen=True)
class HandoffMessage(DomainEvent):
    """A line in a hand-off thread: an owner talking to staff, who answer by replying to it."""

    kind: ClassVar[str] = "staff.notify"
    text: str
    handoff_id: int
    community_id: int | None = None
    photo_url: str = ""


@dataclass(frozen=True)
class MerchantNote(DomainEvent):
    """A private message to one merchant (statement ready, amount confirmed, …)."""

    kind: ClassVar[str] = "merchant.notify"
    merchant_id: int
    text: str


EVENT_TYPES: tuple[type[DomainEvent], ...] = (
    JobOffered, JobReposted, JobTaken, JobProgress, JobCancelled, JobCompleted,
    OwnerNotice, StaffAlert, HandoffMessage, MerchantNote,
)

# --- the codec -------------------------------------------------------------------------------------


class EventDecodeError(ValueError):
    """A row that is no event of ours: parked with this reason, never retried."""


def kinds(types: typing.Iterable[type[DomainEvent]]) -> set[str]:
    """The outbox kinds rows of these event types are stored under."""
    return {t.kind for t in types}


def encode(event: DomainEvent) -> tuple[str, dict[str, Any]]:
    """(kind, payload) for the outbox row; fields left at their default are not written."""
    if not dataclasses.is_dataclass(event):
        raise TypeError(f"not a domain event: {event!r}")
    payload: dict[str, Any] = {}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if value == _default(f):
            continue
        payload[f.name] = list(value) if isinstance(value, tuple) else value
    return type(event).kind, payload


def decode(kind: str, payload: Any, types: typing.Iterable[type[DomainEvent]] = EVENT_TYPES) -> DomainEvent:
    """The event a row holds; EventDecodeError if the kind is unknown or the payload does not fit."""
    candidates = [t for t in types if t.kind == kind]
    if not candidates:
        raise EventDecodeError(f"unknown event kind {kind!r}")
    if not isinstance(payload, dict):
        raise EventDecodeError(f"{kind} payload is not an object: {payload!r:.80}")
    if len(candidates) > 1:  # staff.notify: a hand-off line carries its handoff_id
        wanted = HandoffMessage if payload.get("handoff_id") else StaffAlert
        candidates = [t for t in candidates if t is wanted] or candidates[:1]
    return _build(candidates[0], payload)


def _build(cls: type[DomainEvent], payload: dict[str, Any]) -> DomainEvent:
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in payload or (payload[f.name] is None and _default(f) is not None):
            if _default(f) is _MISSING:
                raise EventDecodeError(f"{cls.kind} payload lacks {f.name!r}")
            continue
        values[f.name] = _coerce(cls.kind, f.name, hints[f.name], payload[f.name])
    # Keys we do not know (written by a newer version, or a field since dropped) are ignored.
    return cls(**values)


_MISSING = object()


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return _MISSING


def _coerce(kind: str, name: str, hint: Any, value: Any) -> Any:
    """Check a JSON value against the field's type, allowing the spellings old rows used."""
    options = typing.get_args(hint) if isinstance(hint, UnionType) else (hint,)
    if value is None and NoneType in options:
        return None
    for option in options:
        origin = typing.get_origin(option) or option
        if origin is bool and isinstance(value, bool):
            return value
        if origin is int and not isinstance(value, bool):
            if isinstance(value, int):
                return value
            if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                return int(value)  # old rows sometimes carried ids as strings
        if origin is str and isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
        if origin is tuple and isinstance(value, list | tuple):
            return tuple(str(v) for v in value)
        if origin is dict and isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
    raise EventDecodeError(f"{kind}.{name} has a bad value: {value!r:.80}")


__all__ = [
    "DomainEvent", "EVENT_TYPES", "EventDecodeError", "HandoffMessage", "JobCancelled", "JobCompleted",
    "JobOffered", "JobProgress", "JobReposted", "JobTaken", "MerchantNote", "OwnerNotice", "StaffAlert",
    "decode", "encode", "kinds",
]
