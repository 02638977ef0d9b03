"""Running clubs: weekly core challenges, the leaderboard and the opt-in distance board,
coaches, and broadcasts to every
linked club; the bot joining or leaving a club's chat; the sweep that posts on schedule."""

from __future__ import annotations

from bot.engine.feature import Feature
from handlers.clubs import (
    board,
    broadcast,
    broadcast_draft,
    challenge_draft,
    challenge_setup,
    challenges,
    commands,
    roles,
    sweep,
)

feature = Feature("clubs", coach_check=roles.is_coach)
feature.command(
    "challenge", "Club challenge: see the current one, or set one (coaches)", args_hint="[new]"
)(commands.challenge_command)
feature.command("leaderboard", "This week's club challenge standings")(commands.leaderboard_command)
feature.command("board", "This week's club distance board (opt in with its buttons)")(
    board.board_command
)
feature.action(board.ACTION)(board.board_tap)
feature.command("coach", "Coach tools: add, remove, list, link", args_hint="[add|list|link]")(
    commands.coach_command
)
feature.command("broadcast", "Coaches: one message to all your linked clubs", args_hint="[status]")(
    broadcast.broadcast_command
)
feature.dialog(challenge_draft.DIALOG, state=challenge_draft.ChallengeDraft)(
    challenge_setup.on_answer
)
feature.dialog(broadcast_draft.DIALOG, state=broadcast_draft.BroadcastDraft)(broadcast.on_answer)
feature.action(challenges.JOIN_ACTION)(challenges.join_tap)
feature.action(challenges.DONE_ACTION)(challenges.done_tap)
feature.action(challenges.RESUME_ACTION)(commands.resume_tap)
feature.action(challenges.STOP_ACTION)(commands.stop_tap)
feature.action(challenges.NEW_ACTION)(commands.new_challenge_tap)
feature.action(broadcast.START_ACTION)(broadcast.start_button)
feature.on_membership(commands.on_membership)
feature.sweep(sweep.sweep_hook)
