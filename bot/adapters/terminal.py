"""The terminal chat: the same engine as the platforms, with numbered choices for buttons.

Reads one message per line from standard input (a keyboard or a pipe), so scripts can drive it.
It is also the terminal's Transport: reminders, check-ins and club posts for the chat it shows
are printed as they come (the scheduler's sender delivers them like any platform's).
"""

from __future__ import annotations

import asyncio
import getpass
import json
import re
import sys
from typing import TextIO

from bot.delivery import Delivery, DeliveryStatus, OutboundMessage
from bot.engine import payloads
from bot.engine.commands import parse_command
from bot.engine.engine import Engine, Turn
from bot.engine.events import Actor, Button, Inbound, Place, Reply, ReplyIntent

PLATFORM = "terminal"
QUIT_COMMANDS = {"quit", "exit"}
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
# ASCII digits only: str.isdigit() accepts "²", which int() then refuses.
_CHOICE_NUMBER = re.compile(r"[0-9]{1,4}")


class TerminalChat:
    platform = PLATFORM

    def __init__(
        self,
        engine: Engine,
        *,
        user: str | None = None,
        group: str | None = None,
        admin: bool = False,
        json_mode: bool = False,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
    ) -> None:
        self.engine = engine
        self.json_mode = json_mode
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        name = user or _default_user()
        self.actor = Actor(
            PLATFORM, name, display_name=name, is_chat_admin=admin if group else None
        )
        self.private = Place(chat_id=f"dm:{name}", is_private=True)
        self.place = (
            Place(chat_id=f"group:{group}", is_private=False, title=group)
            if group
            else self.private
        )
        # The sender delivers what is due for the chats this terminal shows; others wait.
        self.reachable_chats = frozenset({self.place.chat_id, self.private.chat_id})
        self.choices: list[Button] = []  # the numbered buttons of the latest turn
        self.numbers_answer = False  # the latest question takes a typed number as its answer
        # Every payload offered in this session: a script may press an older button by its
        # payload (to answer an earlier question, or to test that it is refused).
        self.offered: set[str] = set()
        self.interactive = self.stdin.isatty() and not json_mode
        self.bold = self.stdout.isatty() and not json_mode
        # Timed steps: a live progress line on a terminal; piped output just names the time,
        # so scripts never wait.
        self.live_timer = self.stdout.isatty() and not json_mode
        self._timer: asyncio.Task[None] | None = None

    async def run(self) -> None:
        if self.interactive:
            self._print("Core Coach in your terminal. Type /start, /help, or /quit to leave.\n")
        while True:
            line = await asyncio.to_thread(self._read_line)
            if line is None:
                break
            line = line.strip()
            if not line:
                continue
            command = parse_command(line)
            self._stop_timer()
            if command and command[0] in QUIT_COMMANDS:
                break
            event = self.to_event(line)
            if event.place is not self.place:
                self.place = event.place
                self._print("(now in your private chat with Core Coach)\n\n")
            turn = await self.engine.handle(event)
            self.show(turn)
        self._stop_timer()

    async def deliver(self, message: OutboundMessage) -> Delivery:
        """A proactive message (reminder, check-in, club post) for a chat this terminal shows:
        printed at once, with its buttons numbered like a reply's."""
        if message.chat_id not in self.reachable_chats:
            return Delivery(DeliveryStatus.RETRY, retry_after=60.0, error="chat not open")
        if not self.json_mode:
            where = "" if message.chat_id == self.place.chat_id else " (in your private chat)"
            self._print(f"\n🔔 Core Coach{where}:\n")
        self.show(Turn([message.reply]), proactive=True)
        return Delivery(DeliveryStatus.SENT, message_ref=f"terminal:{message.outbox_id}")

    def to_event(self, line: str) -> Inbound:
        """A typed line: a choice number, a button label or payload, a command, or text."""
        button = self._match_choice(line)
        if button is not None and button.opens_private:
            # "Continue privately" from a group: as a Telegram deep link does, the press
            # continues in the person's private chat, where its answers belong.
            return Inbound(self.actor, self.private, payload=button.payload)
        if button is not None:
            return Inbound(self.actor, self.place, payload=button.payload)
        command = parse_command(line)
        if command is not None:
            return Inbound(self.actor, self.place, text=line, command=command[0], args=command[1])
        return Inbound(self.actor, self.place, text=line)

    def _match_choice(self, line: str) -> Button | None:
        # Where a typed number answers the question (a pain score), it is never a button index.
        by_number = _CHOICE_NUMBER.fullmatch(line) and not self.numbers_answer
        if by_number and 1 <= int(line) <= len(self.choices):
            return self.choices[int(line) - 1]
        folded = line.casefold()
        for button in self.choices:
            if folded == button.label.casefold():
                return button
        # A dialog button's payload is unmistakable, so it is a press even when this run never
        # showed it: a script resuming a dialog left half-way in an earlier run.
        if line in self.offered or isinstance(payloads.parse(line), payloads.DialogPayload):
            return Button(line, line)
        return None

    def show(self, turn: Turn, *, proactive: bool = False) -> None:
        # A turn's buttons replace the previous ones, numbered across all its replies; a turn
        # without buttons clears them, so a typed number then is text (an answer), not a
        # press of a button that has scrolled away.
        self.choices = [b for reply in turn.replies for b in reply.flat_buttons()]
        self.numbers_answer = any(reply.numeric_answer for reply in turn.replies)
        self.offered.update(b.payload for b in self.choices)
        if self.json_mode:
            for reply in turn.replies:
                line = {**_as_json(reply, turn.dialog), "proactive": proactive}
                self._print(json.dumps(line, ensure_ascii=False) + "\n")
            return
        number = 0
        for reply in turn.replies:
            parts = []
            if reply.intent is ReplyIntent.PRIVATE:
                parts.append("(sent to you privately)")
            if reply.title:
                parts.append(self._bold(reply.title))
            parts.append(self._render(reply.text))
            if reply.image:
                parts.append(f"[picture saved at {reply.image}]")
            if reply.animation:
                parts.append(f"[animation saved at {reply.animation}]")
            if reply.attachment:
                parts.append(f"[file saved at {reply.attachment}]")
            if reply.countdown_seconds and not self.live_timer:
                parts.append(f"timer: {reply.countdown_seconds} s")
            for row in reply.buttons:
                cells = []
                for button in row:
                    number += 1
                    # Unnumbered where a typed number is an answer: type the label instead.
                    shown = (
                        f"[{button.label}]" if self.numbers_answer else f"[{number}] {button.label}"
                    )
                    cells.append(shown)
                parts.append("  " + "   ".join(cells))
            self._print("\n".join(parts) + "\n\n")
            if reply.countdown_seconds and self.live_timer:
                self._start_timer(reply.countdown_seconds)

    def _start_timer(self, seconds: int) -> None:
        self._stop_timer()
        self._print(_timer_line(seconds, seconds) + "\n")
        self._timer = asyncio.get_running_loop().create_task(self._tick(seconds))

    async def _tick(self, seconds: int) -> None:
        # Redraw the line above the prompt (save cursor, up one line, rewrite, restore), so
        # whatever the person is typing at the prompt stays where it is.
        for left in range(seconds - 1, -1, -1):
            await asyncio.sleep(1)
            self._print("\0337\033[1A\r" + _timer_line(left, seconds) + "\033[K\0338")
        self._print("\a")

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _render(self, text: str) -> str:
        return _BOLD.sub(lambda m: self._bold(m.group(1)), text)

    def _bold(self, text: str) -> str:
        return f"\033[1m{text}\033[0m" if self.bold else text

    def _read_line(self) -> str | None:
        if self.interactive:
            try:
                return input("> ")
            except EOFError:
                return None
        line = self.stdin.readline()
        return line if line else None

    def _print(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()


def _as_json(reply: Reply, dialog: str | None) -> dict[str, object]:
    return {
        "text": reply.text,
        "title": reply.title,
        "buttons": [{"label": b.label, "payload": b.payload} for b in reply.flat_buttons()],
        "image": str(reply.image) if reply.image else None,
        "animation": str(reply.animation) if reply.animation else None,
        "attachment": str(reply.attachment) if reply.attachment else None,
        "private": reply.intent is ReplyIntent.PRIVATE,
        "dialog": dialog,
        "countdown_seconds": reply.countdown_seconds,
    }


def _timer_line(left: int, total: int, width: int = 20) -> str:
    if left <= 0:
        return "⏱ time's up"
    filled = round(width * (total - left) / total)
    return f"⏱ {left:>3} s  [{'#' * filled}{'-' * (width - filled)}]"


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "runner"
