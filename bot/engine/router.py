"""The routing table: which feature owns which command, button action, dialog and plain words.

Features declare what they add (bot/engine/feature.py); the composition root (bot/app.py)
includes them here, and the engine only looks things up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.engine.feature import (
    CoachCheck,
    Command,
    Daily,
    Dialog,
    Feature,
    ForgetHook,
    Handler,
    Intent,
    MembershipHook,
    PersonalFiles,
    Screen,
    SweepHook,
    claim,
)

if TYPE_CHECKING:
    from bot.engine.context import TurnContext


async def platform_admin(ctx: TurnContext) -> bool:
    return ctx.event.actor.is_chat_admin is True


@dataclass
class Router:
    commands: dict[str, Command] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    actions: dict[str, Handler] = field(default_factory=dict)
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
    # The platform's word until a feature knows more (clubs add coaches granted by /coach add).
    coach_check: CoachCheck = platform_admin
    features: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, features: Iterable[Feature]) -> Router:
        router = cls()
        for feature in features:
            router.include(feature)
        return router

    def include(self, feature: Feature) -> None:
        """Add a feature's declarations; any name two features both claim is an error."""
        claim(dict.fromkeys(self.features), feature.name, "feature")
        names = {**self.commands, **self.aliases}
        for key in (*feature.commands, *feature.aliases):
            claim(names, key, "command or alias")
        for key in feature.actions:
            claim(self.actions, key, "button action")
        for key in feature.dialogs:
            claim(self.dialogs, key, "dialog")
        # One kind per model, so a model names its dialog (ctx.state, ctx.find_state).
        models = {d.state for d in self.dialogs.values() if d.state is not None}
        for dialog in feature.dialogs.values():
            if dialog.state is None:
                continue
            if dialog.state in models:
                raise ValueError(f"dialog state {dialog.state.__name__} registered twice")
            models.add(dialog.state)
        for intent in feature.intents:
            claim({i.name: i for i in self.intents}, intent.name, "intent")
        for screen in feature.screens:
            claim({s.name: s for s in self.screens}, screen.name, "screen")
        if feature.fallback is not None and self.fallback is not None:
            raise ValueError(f"feature {feature.name!r} sets a second fallback")
        if feature.coach_check is not None and self.coach_check is not platform_admin:
            raise ValueError(f"feature {feature.name!r} sets a second coach check")
        self.features.append(feature.name)
        self.commands.update(feature.commands)
        self.aliases.update(feature.aliases)
        self.actions.update(feature.actions)
        self.private_actions |= feature.private_actions
        self.dialogs.update(feature.dialogs)
        self.intents = sorted([*self.intents, *feature.intents], key=lambda i: i.priority)
        self.screens = sorted([*self.screens, *feature.screens], key=lambda s: s.priority)
        self.fallback = feature.fallback or self.fallback
        self.membership_hooks.extend(feature.membership_hooks)
        self.sweep_hooks.extend(feature.sweep_hooks)
        self.daily_jobs.extend(feature.daily_jobs)
        self.personal_files.extend(feature.personal_files)
        self.forget_hooks.extend(feature.forget_hooks)
        if feature.coach_check is not None:
            self.coach_check = feature.coach_check

    def find_command(self, name: str) -> Command | None:
        return self.commands.get(self.aliases.get(name, name))

    def listed_commands(self) -> list[Command]:
        return [c for c in self.commands.values() if c.listed]

    def files_of(self, data_dir: Path, user_id: int) -> list[Path]:
        """Every file any feature keeps about this person, as it stands now."""
        return [path for finder in self.personal_files for path in finder(data_dir, user_id)]
