"""The terminal chat: the same engine as the platforms, with numbered choices for buttons.

Reads one message per line from standard input (a keyboard or a pipe), so scripts can drive it.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import re
import sys
from typing import TextIO

from bot.engine.commands import parse_command
from bot.engine.engine import Engine, Turn
from bot.engine.events import Actor, Button, Inbound, Place, Reply, ReplyIntent

PLATFORM = "terminal"
QUIT_COMMANDS = {"quit", "exit"}
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)


class TerminalChat:
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
        self.place = (
            Place(chat_id=f"group:{group}", is_private=False, title=group)
            if group
            else Place(chat_id=f"dm:{name}", is_private=True)
        )
        self.choices: list[Button] = []
        self.interactive = self.stdin.isatty() and not json_mode
        self.bold = self.stdout.isatty() and not json_mode

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
            if command and command[0] in QUIT_COMMANDS:
                break
            turn = await self.engine.handle(self.to_event(line))
            self.show(turn)

    def to_event(self, line: str) -> Inbound:
        """A typed line: a choice number, a button label or payload, a command, or text."""
        button = self._match_choice(line)
        if button is not None:
            return Inbound(self.actor, self.place, payload=button.payload)
        command = parse_command(line)
        if command is not None:
            return Inbound(self.actor, self.place, text=line, command=command[0], args=command[1])
        return Inbound(self.actor, self.place, text=line)

    def _match_choice(self, line: str) -> Button | None:
        if line.isdigit() and 1 <= int(line) <= len(self.choices):
            return self.choices[int(line) - 1]
        folded = line.casefold()
        for button in self.choices:
            if folded == button.label.casefold() or line == button.payload:
                return button
        return None

    def show(self, turn: Turn) -> None:
        # A turn's buttons replace the previous ones, numbered across all its replies.
        buttons = [b for reply in turn.replies for b in reply.flat_buttons()]
        if buttons:
            self.choices = buttons
        if self.json_mode:
            for reply in turn.replies:
                self._print(json.dumps(_as_json(reply, turn.dialog), ensure_ascii=False) + "\n")
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
            if reply.attachment:
                parts.append(f"[file saved at {reply.attachment}]")
            for row in reply.buttons:
                cells = []
                for button in row:
                    number += 1
                    cells.append(f"[{number}] {button.label}")
                parts.append("  " + "   ".join(cells))
            self._print("\n".join(parts) + "\n\n")

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
        "attachment": str(reply.attachment) if reply.attachment else None,
        "private": reply.intent is ReplyIntent.PRIVATE,
        "dialog": dialog,
    }


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "runner"
