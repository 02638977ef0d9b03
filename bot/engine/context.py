"""Everything a handler may touch during one turn, and nothing platform-specific."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from bot.engine import payloads
from bot.engine.events import Button, Inbound, Reply, ReplyIntent
from bot.engine.state_model import StateModel

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.content.bundle import ContentBundle
    from bot.engine.router import Router
    from bot.storage.models import Chat, User

D = TypeVar("D")
S = TypeVar("S", bound=StateModel)


@dataclass(frozen=True)
class ActiveDialog(Generic[D]):
    """The in-memory copy of a DialogState row; the engine writes it back after the turn.

    `data` is the dialog's state: an instance of the model its kind registered, which handlers
    change in place (a plain dict for a kind registered without one). Frozen, so that only the
    engine moves `step` on (continue_dialog).
    """

    kind: str
    nonce: str
    step: int
    data: D


@dataclass(frozen=True)
class DialogInput:
    """An answer to the current dialog question: a pressed choice, or typed text."""

    choice: str | None = None
    text: str | None = None


class TurnContext:
    def __init__(
        self,
        *,
        event: Inbound,
        session: AsyncSession,
        content: ContentBundle,
        router: Router,
        user: User,
        chat: Chat,
        dialog: ActiveDialog[Any] | None,
        now: datetime,
        data_dir: Path,
    ) -> None:
        self.event = event
        self.session = session
        self.content = content
        self.router = router
        self.user = user
        self.chat = chat
        self.dialog: ActiveDialog[Any] | None = dialog
        self.now = now
        # Where files the bot makes go (charts, exports): Settings.data_dir.
        self.data_dir = data_dir
        self.replies: list[Reply] = []
        self.action_arg = ""

    @property
    def in_group(self) -> bool:
        return not self.event.place.is_private

    def say(
        self,
        text: str,
        *,
        buttons: Sequence[Sequence[Button]] = (),
        title: str | None = None,
        image: Path | None = None,
        attachment: Path | None = None,
        intent: ReplyIntent = ReplyIntent.NEW,
        numeric_answer: bool = False,
    ) -> Reply:
        reply = Reply(
            text=text,
            buttons=[list(row) for row in buttons if row],
            title=title,
            image=image,
            attachment=attachment,
            intent=intent,
            numeric_answer=numeric_answer,
        )
        self.replies.append(reply)
        return reply

    @overload
    def start_dialog(self, kind: str, state: S) -> ActiveDialog[S]: ...
    @overload
    def start_dialog(
        self, kind: str, state: dict[str, Any] | None = None
    ) -> ActiveDialog[dict[str, Any]]: ...
    def start_dialog(
        self, kind: str, state: StateModel | dict[str, Any] | None = None
    ) -> ActiveDialog[Any]:
        """Begin a dialog, replacing any other this person had open in this chat (a hand-over
        from one dialog to the next). `state` is an instance of the model `kind` registered,
        or a dict (or nothing) for a kind registered without one."""
        registered = self.router.dialogs.get(kind)
        if registered is None:
            raise KeyError(f"no dialog handler for {kind!r}")
        wanted = registered.state or dict
        data = {} if state is None and wanted is dict else state
        if not isinstance(data, wanted):
            given = type(state).__name__
            raise TypeError(f"dialog {kind!r} keeps a {wanted.__name__}, not a {given}")
        self.dialog = ActiveDialog(kind, payloads.new_nonce(), 0, data)
        return self.dialog

    def end_dialog(self) -> None:
        self.dialog = None

    def state(self, model: type[S]) -> S:
        """The open dialog's state as `model`: for the handlers of the dialog that registered
        it, where another kind's dialog being open is a bug."""
        found = self.find_state(model)
        if found is None:
            kind = self.dialog.kind if self.dialog else None
            raise RuntimeError(f"the open dialog ({kind!r}) keeps no {model.__name__}")
        return found

    def set_state(self, state: StateModel) -> None:
        """Replace the open dialog's state with a new model of its kind (for handlers that
        build a changed copy instead of changing the model in place); the step stays."""
        if self.dialog is None:
            raise RuntimeError("set_state() needs an active dialog")
        wanted = self.router.dialogs[self.dialog.kind].state
        if wanted is None or not isinstance(state, wanted):
            raise TypeError(f"dialog {self.dialog.kind!r} keeps no {type(state).__name__}")
        self.dialog = replace(self.dialog, data=state)

    def find_state(self, model: type[S]) -> S | None:
        """The open dialog's state if it is a `model`: None when no dialog or another kind's
        is open (a command or button beside it)."""
        data = self.dialog.data if self.dialog is not None else None
        return data if isinstance(data, model) else None

    async def route_words(self, text: str) -> None:
        """Plain words to the feature that understands them (the intents by priority, else
        the fallback): for a turn that arrived without a dialog, and for a dialog that hands
        on words that are not its answer."""
        for intent in self.router.intents:
            if intent.matches(text, self.content):
                await intent.handler(self)
                return
        if self.router.fallback is not None:
            await self.router.fallback(self)

    async def continue_dialog(self, answer: DialogInput) -> None:
        """Give the open dialog an answer: typed or pressed, or handed over by another
        feature (a zone set by /timezone's button, for the reminder set-up waiting on it).
        Every accepted input moves the dialog on, so buttons of earlier questions go stale."""
        if self.dialog is None:
            raise RuntimeError("continue_dialog() needs an active dialog")
        self.dialog = replace(self.dialog, step=self.dialog.step + 1)
        await self.router.dialogs[self.dialog.kind].handler(self, answer)

    def choice(self, label: str, value: str) -> Button:
        """A button answering the current dialog question."""
        if self.dialog is None:
            raise RuntimeError("choice() needs an active dialog")
        return Button(label, payloads.dialog_payload(self.dialog.nonce, self.dialog.step, value))

    @staticmethod
    def action(label: str, name: str, arg: str = "", *, private: bool = False) -> Button:
        """A stateless button anyone may press (its handler checks who pressed it)."""
        return Button(label, payloads.action_payload(name, arg), opens_private=private)
