"""A feature declares, in one place, everything it adds to the bot.

Like a discord.py Cog or an aiogram Router per module: each package under handlers/ builds one
`Feature` (its `feature.py`), and the composition root (bot/app.py) includes the features in a
`Router`. The engine then only looks things up; the scheduler only runs the due-work hooks.

    feature = Feature("cards")
    feature.command("card", "Show one exercise card", args_hint="NAME")(card_command)
    feature.action("card")(card_button)
    feature.intent("card", names_a_card, priority=60)(card_by_name)
    feature.dialog("remind", state=SetupState)(on_answer)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.engine.state_model import StateModel

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.config import Settings
    from bot.content.bundle import ContentBundle
    from bot.engine.context import DialogInput, TurnContext
    from bot.storage.models import Chat

Handler = Callable[["TurnContext"], Awaitable[None]]
DialogHandler = Callable[["TurnContext", "DialogInput"], Awaitable[None]]
IntentMatcher = Callable[[str, "ContentBundle"], bool]
# A pre-routing screen: sees the text of every inbound message (typed text, or a command's
# arguments) in every state, before any dialog, command or intent. True: it answered the
# message itself, and nothing else routes it this turn.
ScreenCheck = Callable[["TurnContext", str], Awaitable[bool]]
# Whether the person behind this group-chat event may run `coach_only` commands.
CoachCheck = Callable[["TurnContext"], Awaitable[bool]]
# (session, content, chat, was_member, now): the bot joined or left `chat` (chat.bot_is_member
# is the new state), inside the transaction that records it.
MembershipHook = Callable[
    ["AsyncSession", "ContentBundle", "Chat", bool, "datetime"], Awaitable[None]
]


@dataclass(frozen=True)
class DueWork:
    """What the scheduler's sweep hands a feature's hook on every pass."""

    sessions: async_sessionmaker[AsyncSession]
    content: ContentBundle
    settings: Settings
    now: datetime


# -> outbox rows written: a feature's due work (reminders, check-ins, club posts), run by the
# scheduler's sweep on every pass in the hook's own transactions.
SweepHook = Callable[[DueWork], Awaitable[int]]
# (data_dir, user row id) -> the files this feature keeps about that person (charts, exports),
# so /forget can delete them and /privacy list them.
PersonalFiles = Callable[[Path, int], list[Path]]
# Work a feature must start before /forget erases the person's rows, in the same turn (Strava:
# deauthorise the grant, which lives outside our database).
ForgetHook = Callable[["TurnContext"], Awaitable[None]]
# A daily job (data retention): run once at start and then every day at the given UTC time.
DailyJob = Callable[[DueWork], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    help: str
    args_hint: str = ""
    # Shown in platform command menus and /help; hidden ones still work.
    listed: bool = True
    # Policies the engine applies, so no handler repeats them:
    coach_only: bool = False  # in a group, refused unless the person is a coach
    private: bool = False  # in a group, every new reply goes to the person privately
    # The largest attached file (Inbound.upload) this command reads, in bytes; 0: it takes
    # none. The engine fetches the file before the turn's transaction, and adapters that offer
    # typed options (Discord) ask for a file instead of text.
    file_bytes: int = 0


@dataclass(frozen=True)
class Dialog:
    handler: DialogHandler
    # The model its data is stored and handled as; None: a plain dict, for a dialog not yet
    # moved onto a model (the soreness check, until its rewrite lands).
    state: type[StateModel] | None = None


@dataclass(frozen=True)
class Intent:
    name: str
    matches: IntentMatcher
    handler: Handler
    priority: int  # lower runs first; safety-relevant intents (soreness) come before others


@dataclass(frozen=True)
class Screen:
    name: str
    check: ScreenCheck
    priority: int  # lower runs first


@dataclass(frozen=True)
class Daily:
    name: str
    job: DailyJob
    hour: int
    minute: int


@dataclass
class Feature:
    """The commands, buttons, dialogs, plain-word intents, hooks and policies of one feature."""

    name: str
    commands: dict[str, Command] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    actions: dict[str, Handler] = field(default_factory=dict)
    # Button actions whose answers are personal: private in a group (Command.private).
    private_actions: set[str] = field(default_factory=set)
    dialogs: dict[str, Dialog] = field(default_factory=dict)
    intents: list[Intent] = field(default_factory=list)
    screens: list[Screen] = field(default_factory=list)
    fallback: Handler | None = None
    membership_hooks: list[MembershipHook] = field(default_factory=list)
    sweep_hooks: list[SweepHook] = field(default_factory=list)
    daily_jobs: list[Daily] = field(default_factory=list)
    personal_files: list[PersonalFiles] = field(default_factory=list)
    forget_hooks: list[ForgetHook] = field(default_factory=list)
    # Who counts as a coach beyond the platform's admins (clubs: coaches added by /coach add).
    coach_check: CoachCheck | None = None

    def command(
        self,
        name: str,
        help: str,
        *,
        args_hint: str = "",
        aliases: tuple[str, ...] = (),
        listed: bool = True,
        coach_only: bool = False,
        private: bool = False,
        file_bytes: int = 0,
    ) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            if len(set(aliases) | {name}) != len(aliases) + 1:
                raise ValueError(f"command {name!r} lists an alias twice or itself")
            for key in (name, *aliases):
                claim({**self.commands, **self.aliases}, key, "command or alias")
            self.commands[name] = Command(
                name, fn, help, args_hint, listed, coach_only, private, file_bytes
            )
            self.aliases.update(dict.fromkeys(aliases, name))
            return fn

        return register

    def action(self, name: str, *, private: bool = False) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            claim(self.actions, name, "button action")
            self.actions[name] = fn
            if private:
                self.private_actions.add(name)
            return fn

        return register

    def dialog(
        self, kind: str, *, state: type[StateModel] | None = None
    ) -> Callable[[DialogHandler], DialogHandler]:
        """The handler of the `kind` dialog's answers; `state` the model of its data."""

        def register(fn: DialogHandler) -> DialogHandler:
            claim(self.dialogs, kind, "dialog")
            self.dialogs[kind] = Dialog(fn, state)
            return fn

        return register

    def intent(
        self, name: str, matches: IntentMatcher, *, priority: int = 50
    ) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            claim({i.name: i for i in self.intents}, name, "intent")
            self.intents.append(Intent(name, matches, fn, priority))
            return fn

        return register

    def screen(self, name: str, *, priority: int = 50) -> Callable[[ScreenCheck], ScreenCheck]:
        """Look at every inbound text before routing (the soreness check's red-flag screen)."""

        def register(fn: ScreenCheck) -> ScreenCheck:
            claim({s.name: s for s in self.screens}, name, "screen")
            self.screens.append(Screen(name, fn, priority))
            return fn

        return register

    def set_fallback(self, fn: Handler) -> Handler:
        """The answer to words no intent understood (one feature in the whole bot)."""
        self.fallback = fn
        return fn

    def on_membership(self, hook: MembershipHook) -> MembershipHook:
        self.membership_hooks.append(hook)
        return hook

    def sweep(self, hook: SweepHook) -> SweepHook:
        self.sweep_hooks.append(hook)
        return hook

    def files_of(self, finder: PersonalFiles) -> PersonalFiles:
        """Declare where this feature keeps files about a person (see PersonalFiles)."""
        self.personal_files.append(finder)
        return finder

    def before_forget(self, hook: ForgetHook) -> ForgetHook:
        """Declare work to start before /forget erases this person (see ForgetHook)."""
        self.forget_hooks.append(hook)
        return hook

    def daily(self, name: str, *, hour: int, minute: int) -> Callable[[DailyJob], DailyJob]:
        def register(job: DailyJob) -> DailyJob:
            self.daily_jobs.append(Daily(name, job, hour, minute))
            return job

        return register


def claim(table: Mapping[str, object], key: str, what: str) -> None:
    if key in table:
        raise ValueError(f"{what} {key!r} registered twice")
