"""Everything a handler may touch during one turn, and nothing platform-specific."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.engine import payloads
from bot.engine.events import Button, Inbound, Reply, ReplyIntent

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.content.bundle import ContentBundle
    from bot.engine.router import Router
    from bot.storage.models import Chat, User


@dataclass
class ActiveDialog:
    """The in-memory copy of a DialogState row; the engine writes it back after the turn."""

    kind: str
    nonce: str
    step: int = 0
    data: dict[str, Any] = field(default_factory=dict)


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
        dialog: ActiveDialog | None,
        now: datetime,
        data_dir: Path,
    ) -> None:
        self.event = event
        self.session = session
        self.content = content
        self.router = router
        self.user = user
        self.chat = chat
        self.dialog = dialog
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

    def start_dialog(self, kind: str, data: dict[str, Any] | None = None) -> ActiveDialog:
        """Begin a dialog, replacing any other this person had open in this chat."""
        if kind not in self.router.dialogs:
            raise KeyError(f"no dialog handler for {kind!r}")
        self.dialog = ActiveDialog(kind=kind, nonce=payloads.new_nonce(), data=data or {})
        return self.dialog

    def end_dialog(self) -> None:
        self.dialog = None

    async def continue_dialog(self, answer: DialogInput) -> None:
        """Give the open dialog an answer: typed or pressed, or handed over by another
        feature (a zone set by /timezone's button, for the reminder set-up waiting on it).
        Every accepted input moves the dialog on, so buttons of earlier questions go stale."""
        if self.dialog is None:
            raise RuntimeError("continue_dialog() needs an active dialog")
        self.dialog.step += 1
        await self.router.dialogs[self.dialog.kind](self, answer)

    def choice(self, label: str, value: str) -> Button:
        """A button answering the current dialog question."""
        if self.dialog is None:
            raise RuntimeError("choice() needs an active dialog")
        return Button(label, payloads.dialog_payload(self.dialog.nonce, self.dialog.step, value))

    @staticmethod
    def action(label: str, name: str, arg: str = "", *, private: bool = False) -> Button:
        """A stateless button anyone may press (its handler checks who pressed it)."""
        return Button(label, payloads.action_payload(name, arg), opens_private=private)
