"""The pieces every form is built from: Env (one turn's context), Invalid, Finish and Form."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import texts
from dialogs.context import HubContext
from dialogs.state import DialogState, Flow
from nlu.result import NluResult
from storage.kv import KeyValueStore
from storage.owners import Owner


@dataclass
class Env:
    """One turn: the context, the owner, what they said, and its NLU parse (made at most once)."""

    ctx: HubContext
    owner: Owner
    text: str = ""
    _parsed: NluResult | None = field(default=None, repr=False)
    _done: bool = field(default=False, repr=False)

    @property
    def session(self) -> AsyncSession:
        """The unit of work's session."""
        return self.ctx.session

    @property
    def kv(self) -> KeyValueStore:
        """The shared key-value store."""
        return self.ctx.kv

    async def parsed(self) -> NluResult | None:
        """NLU result for the text (None without an NLU backend or text)."""
        if not self._done:
            self._done = True
            if self.ctx.nlu is not None and self.text.strip():
                self._parsed = await self.ctx.nlu.parse(self.text, now=self.ctx.now())
        return self._parsed

    async def intent(self) -> tuple[str, float]:
        """(intent, confidence); nlu_fallback when there is no parser."""
        result = await self.parsed()
        return ("nlu_fallback", 0.0) if result is None else (str(result.intent), float(result.confidence))


@dataclass(frozen=True)
class Invalid:
    """A validator's refusal, with the reason the owner is told."""

    reason: str


@dataclass
class Finish:
    """A form's last word, and optionally a dialog to start next."""

    text: str
    then: DialogState | None = None


class Form(ABC):
    """A dialog as data plus small functions: the engine asks it for steps, prompts and validation."""

    flow: ClassVar[Flow]

    async def prerequisite(self, state: DialogState, env: Env) -> DialogState | None:
        """A dialog to complete first (this one resumes after it), e.g. binding before an order."""
        return None

    @abstractmethod
    async def next_step(self, state: DialogState, env: Env) -> str | None:
        """The next slot to ask for, or None when everything is collected."""

    @abstractmethod
    async def prompt(self, state: DialogState, env: Env) -> str:
        """The question for state.step."""

    @abstractmethod
    async def accept(self, state: DialogState, text: str, env: Env) -> Any:
        """Validate the answer to state.step and store it at once; Invalid(reason) when it is not usable."""

    @abstractmethod
    async def finish(self, state: DialogState, env: Env) -> Finish:
        """Everything is collected: act on it."""

    async def prompt_again(self, state: DialogState, env: Env) -> str:
        """The question asked again after an interruption; a long one (a summary) says less."""
        return await self.prompt(state, env)

    def takes_free_text(self, state: DialogState) -> bool:
        """True when any text answers the step (so questions there are not taken as interruptions)."""
        return False

    async def on_cancel(self, state: DialogState, env: Env) -> str:
        """What to say when the owner leaves with 取消/算了."""
        return texts.CANCELLED

    async def on_hand_off(self, state: DialogState, env: Env) -> None:
        """The dialog is dropped because a person takes over; a form with work to redo later says so here."""
        return  # most forms keep what was answered and need nothing more
