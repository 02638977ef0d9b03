"""/broadcast: one message from a coach to every club linked to their coach account.

Set up in a private chat (drafts never show in a group): the text, an optional exercise card
(a button that opens it) or library challenge (started in every club at once, with Join and
Done today), a preview, and a confirming tap. Each club's copy is an outbox row keyed
`club:broadcast:<broadcast id>:<chat id>`, so a repeated confirm or a crash cannot send a
club two copies; the sender delivers them at each platform's pace. When every copy has an
outcome, the sweep sends the coach a delivery report (`/broadcast status` shows it sooner).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.challenge_schema import ChallengeTemplate, ClubTexts
from bot.content.plural import fill
from bot.content.schema import Card
from bot.content.text import escape_markup
from bot.engine.context import DialogInput, TurnContext
from bot.engine.events import Button, Reply, ReplyIntent
from bot.engine.payloads import action_payload
from bot.storage.models import Broadcast, Challenge, Chat, Outbox
from handlers.clubs import challenges
from handlers.clubs.broadcast_draft import DIALOG, BroadcastDraft, Stage
from handlers.clubs.coach_link import (
    club_label,
    identity_of,
    linked_clubs,
    note_private_chat,
    private_chat_id,
)
from scheduler import outbox

START_ACTION = "bcast"
SENDING = "sending"
REPORTED = "reported"
MAX_TEXT = 1500
# A club message that could not go out within two days is reported as failed, not sent late.
STALE_AFTER = timedelta(days=2)
_NONE, _CARD, _CHALLENGE, _SEND, _CANCEL = "none", "card", "challenge", "send", "cancel"
# With an attached challenge, for clubs that already have one set (one at a time per club):
_SEND_REPLACE, _SEND_KEEP = "send_replace", "send_keep"
_CARD_BUTTON = "card"  # handlers/cards.py's action: shows one card


def delivery_prefix(broadcast_id: int) -> str:
    return f"club:broadcast:{broadcast_id}:"


def report_key(broadcast_id: int) -> str:
    return f"club:broadcast-report:{broadcast_id}"


# --- the message -----------------------------------------------------------------------------


def _draft_challenge(template: ChallengeTemplate, tz: str, now: datetime) -> Challenge:
    days = challenges.DEFAULT_DAYS
    return Challenge(
        title=template.name,
        details=template.details(),
        target_days=template.target_days,
        days=days,
        timezone=tz,
        starts_at=now,
        ends_at=challenges.ends_at(now, tz, days),
    )


def club_message(
    text: str, card: Card | None, challenge: Challenge | None, texts: ClubTexts
) -> Reply:
    body = f"**A message from your coach**\n\n{text}"
    buttons: list[list[Button]] = []
    if challenge is not None:
        body += "\n\n" + challenges.post_text(challenge, texts)
        if challenge.id is not None:
            buttons += challenges.tap_buttons(challenge.id)
    if card is not None:
        buttons.append([Button(f"Card: {card.name}", action_payload(_CARD_BUTTON, card.id))])
    return Reply(body, buttons=buttons)


# --- the dialog ------------------------------------------------------------------------------


async def broadcast_command(ctx: TurnContext) -> None:
    args = ctx.event.args.strip()
    if args.casefold() == "status":
        await status(ctx)
        return
    if ctx.in_group:
        ctx.say(
            "I set up broadcasts in a private chat, so the club never sees a draft.",
            buttons=[[ctx.action("Open a private chat", START_ACTION, private=True)]],
        )
        return
    await begin(ctx, args)


async def start_button(ctx: TurnContext) -> None:
    if ctx.in_group:
        ctx.say("Message me privately and type /broadcast.")
        return
    await begin(ctx, "")


async def _clubs_of(ctx: TurnContext) -> list[Chat]:
    identity = await identity_of(ctx)
    if identity is None:
        return []
    await note_private_chat(ctx, identity)
    return await linked_clubs(ctx, identity.account_id)


async def begin(ctx: TurnContext, text: str) -> None:
    if not await _clubs_of(ctx):
        ctx.say(ctx.content.clubs.broadcast_no_clubs)
        return
    draft = BroadcastDraft(stage=Stage.TEXT)
    ctx.start_dialog(DIALOG, draft)
    if text:
        _take_text(ctx, draft, text)
    else:
        ctx.say(ctx.content.clubs.broadcast_ask, buttons=[[ctx.choice("Cancel", _CANCEL)]])


def _take_text(ctx: TurnContext, draft: BroadcastDraft, text: str) -> None:
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        problem = (
            f"That's {len(text)} characters; please keep it under {MAX_TEXT}."
            if text
            else "Please type the message."
        )
        ctx.say(problem, buttons=[[ctx.choice("Cancel", _CANCEL)]])
        return
    # A coach's words are shown as typed: an asterisk of theirs never becomes bold.
    draft.stage, draft.text = Stage.ATTACH, escape_markup(text)
    ctx.say(
        "Attach something?",
        buttons=[
            [ctx.choice("No, just the message", _NONE)],
            [ctx.choice("An exercise card", _CARD), ctx.choice("A challenge", _CHALLENGE)],
            [ctx.choice("Cancel", _CANCEL)],
        ],
    )


async def on_answer(ctx: TurnContext, answer: DialogInput) -> None:
    draft = ctx.state(BroadcastDraft)
    if answer.choice == _CANCEL:
        ctx.end_dialog()
        ctx.say("Okay, nothing was sent.")
        return
    if draft.stage == Stage.TEXT:
        if answer.choice is None:
            _take_text(ctx, draft, answer.text or "")
        else:
            ctx.say(ctx.content.clubs.broadcast_ask, buttons=[[ctx.choice("Cancel", _CANCEL)]])
    elif draft.stage == Stage.ATTACH:
        await _on_attach(ctx, draft, answer)
    elif draft.stage == Stage.CARD:
        card = ctx.content.cards.get((answer.choice or "").removeprefix("c:"))
        if answer.choice is None or not answer.choice.startswith("c:") or card is None:
            _ask_card(ctx, "Please pick a card with the buttons.")
            return
        draft.stage, draft.card = Stage.PREVIEW, card.id
        await _preview(ctx, draft)
    elif draft.stage == Stage.CHALLENGE:
        template = ctx.content.challenges.get((answer.choice or "").removeprefix("t:"))
        if answer.choice is None or not answer.choice.startswith("t:") or template is None:
            _ask_template(ctx, "Please pick a challenge with the buttons.")
            return
        draft.stage, draft.template = Stage.PREVIEW, template.id
        await _preview(ctx, draft)
    elif answer.choice in (_SEND, _SEND_REPLACE, _SEND_KEEP):  # at the preview, the last stage
        # Nothing set in a club is replaced unless the coach said so at the preview.
        await _send(ctx, draft, replace=answer.choice == _SEND_REPLACE)
    else:
        await _preview(ctx, draft)


async def _on_attach(ctx: TurnContext, draft: BroadcastDraft, answer: DialogInput) -> None:
    if answer.choice == _CARD:
        draft.stage = Stage.CARD
        _ask_card(ctx)
    elif answer.choice == _CHALLENGE:
        draft.stage = Stage.CHALLENGE
        _ask_template(ctx)
    elif answer.choice == _NONE:
        draft.stage = Stage.PREVIEW
        await _preview(ctx, draft)
    else:
        _take_text(ctx, draft, draft.text)


def _ask_card(ctx: TurnContext, lead: str = "") -> None:
    cards = sorted(ctx.content.cards.values(), key=lambda c: c.name)
    buttons = [ctx.choice(c.name, f"c:{c.id}") for c in cards if len(c.id) <= 38]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    ctx.say(f"{lead}\n\nWhich card?".strip(), buttons=[*rows, [ctx.choice("Cancel", _CANCEL)]])


def _ask_template(ctx: TurnContext, lead: str = "") -> None:
    library = sorted(ctx.content.challenges.values(), key=lambda t: t.name)
    buttons = [[ctx.choice(t.name, f"t:{t.id}")] for t in library]
    text = (
        f"{lead}\n\nWhich challenge? It starts in every club as soon as the message arrives "
        "and runs for one week, with Join and Done today buttons."
    ).strip()
    ctx.say(text, buttons=[*buttons, [ctx.choice("Cancel", _CANCEL)]])


def _zone_for(ctx: TurnContext) -> str:
    return ctx.user.timezone or "UTC"


async def _preview(ctx: TurnContext, draft: BroadcastDraft) -> None:
    clubs = await _clubs_of(ctx)
    if not clubs:
        ctx.end_dialog()
        ctx.say(ctx.content.clubs.broadcast_no_clubs)
        return
    card = ctx.content.cards.get(draft.card or "")
    template = ctx.content.challenges.get(draft.template or "")
    challenge = _draft_challenge(template, _zone_for(ctx), ctx.now) if template else None
    message = club_message(draft.text, card, challenge, ctx.content.clubs)
    reachable = [c for c in clubs if c.bot_is_member]
    gone = [c for c in clubs if not c.bot_is_member]
    texts = ctx.content.clubs
    clubs_named = ", ".join(club_label(c) for c in reachable)
    lines = [fill(texts.broadcast_preview, count=len(reachable), clubs=clubs_named)]
    if gone:
        lines.append(
            "I'm no longer in "
            + ", ".join(club_label(c) for c in gone)
            + ", so they won't get it (they count as unreachable in the report)."
        )
    if card is not None:
        lines.append(f"Attached: a button that opens the **{card.name}** card.")
    busy = await _clubs_with_a_challenge(ctx, reachable) if template is not None else []
    if template is not None:
        lines.append("Attached: the challenge starts in each club when the message arrives.")
    if busy:
        lines.append(
            "Already set: "
            + "; ".join(f"**{title}** in {club_label(c)}" for c, title in busy)
            + ". A club runs one challenge at a time: replace theirs with this one, or keep "
            "theirs and send those clubs the message alone?"
        )
    lines += ["———", message.text]
    buttons = []
    if busy:
        buttons = [
            [ctx.choice("Send, replacing theirs", _SEND_REPLACE)],
            [ctx.choice("Send, keeping theirs", _SEND_KEEP)],
        ]
    elif reachable:
        buttons = [[ctx.choice(fill(texts.broadcast_send, count=len(reachable)), _SEND)]]
    ctx.say("\n\n".join(lines), buttons=[*buttons, [ctx.choice("Cancel", _CANCEL)]])


async def _in_the_way(ctx: TurnContext, chat: Chat) -> list[Challenge]:
    """What an attached challenge, started now for a week, would run alongside in `chat`."""
    tz = await challenges.last_timezone(ctx.session, chat) or _zone_for(ctx)
    ends = challenges.ends_at(ctx.now, tz, challenges.DEFAULT_DAYS)
    return await challenges.in_the_way(ctx.session, chat, ctx.now, ends)


async def _clubs_with_a_challenge(ctx: TurnContext, clubs: list[Chat]) -> list[tuple[Chat, str]]:
    busy = []
    for chat in clubs:
        found = await _in_the_way(ctx, chat)
        if found:
            busy.append((chat, found[0].title))
    return busy


async def _send(ctx: TurnContext, draft: BroadcastDraft, *, replace: bool) -> None:
    ctx.end_dialog()
    identity = await identity_of(ctx)
    clubs = await _clubs_of(ctx)  # as linked now, not as when the preview was shown
    if identity is None or not clubs:
        ctx.say(ctx.content.clubs.broadcast_no_clubs)
        return
    card = ctx.content.cards.get(draft.card or "")
    template = ctx.content.challenges.get(draft.template or "")
    broadcast = Broadcast(
        account_id=identity.account_id,
        created_by=ctx.user.id,
        text=draft.text[:MAX_TEXT],
        card_id=card.id if card else None,
        template_id=template.id if template else None,
        report_chat_id=private_chat_id(ctx.user, identity),
        clubs=len(clubs),
        skipped=0,
        status=SENDING,
        created_at=ctx.now,
    )
    ctx.session.add(broadcast)
    await ctx.session.flush()
    messages = []
    for chat in clubs:
        if not chat.bot_is_member:
            broadcast.skipped += 1
            continue
        challenge = None
        if template is not None:
            found = await _in_the_way(ctx, chat)
            for other in found if replace else []:
                await challenges.stop(ctx.session, other)
            if replace or not found:
                challenge = await _start_challenge(ctx, chat, template)
        messages.append(
            outbox.NewMessage.to(
                chat,
                dedupe_key=f"{delivery_prefix(broadcast.id)}{chat.id}",
                reply=club_message(broadcast.text, card, challenge, ctx.content.clubs),
                expires_at=ctx.now + STALE_AFTER,
            )
        )
    await outbox.enqueue(ctx.session, messages, now=ctx.now)
    texts = ctx.content.clubs
    lines = [fill(texts.broadcast_sending, count=len(messages))]
    if broadcast.skipped:
        lines.append(fill(texts.broadcast_skipped, count=broadcast.skipped))
    lines.append(
        "I'll send you a delivery report when every message has an outcome; "
        "/broadcast status shows the progress."
    )
    ctx.say(" ".join(lines))


async def _start_challenge(ctx: TurnContext, chat: Chat, template: ChallengeTemplate) -> Challenge:
    """The attached challenge, started in this club; the broadcast message is its post."""
    tz = await challenges.last_timezone(ctx.session, chat) or _zone_for(ctx)
    plan = challenges.Plan(
        title=template.name,
        details=template.details(),
        template_id=template.id,
        target_days=template.target_days,
        days=challenges.DEFAULT_DAYS,
        timezone=tz,
        starts_at=ctx.now,
        repeat_weekly=False,
    )
    challenge = await challenges.create(ctx.session, chat, ctx.user.id, plan, ctx.now)
    challenge.status = challenges.ACTIVE
    challenge.posted_at = ctx.now
    return challenge


# --- delivery report ----------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    pending: int
    delivered: int
    failed: int
    unreachable: int
    maybe_twice: int = 0  # delivered, but resent after a crash mid-send (see Outbox)


async def delivery_counts(session: AsyncSession, broadcast: Broadcast) -> Counts:
    rows = (
        await session.execute(
            select(Outbox.status, func.count())
            .where(Outbox.dedupe_key.startswith(delivery_prefix(broadcast.id), autoescape=True))
            .group_by(Outbox.status)
        )
    ).all()
    by_status = {status: int(count) for status, count in rows}
    maybe_twice = await session.scalar(
        select(func.count()).where(
            Outbox.dedupe_key.startswith(delivery_prefix(broadcast.id), autoescape=True),
            Outbox.status == outbox.SENT,
            Outbox.maybe_twice.is_(True),
        )
    )
    return Counts(
        pending=by_status.get(outbox.PENDING, 0),
        delivered=by_status.get(outbox.SENT, 0),
        failed=by_status.get(outbox.FAILED, 0) + by_status.get(outbox.EXPIRED, 0),
        unreachable=by_status.get(outbox.UNREACHABLE, 0) + broadcast.skipped,
        maybe_twice=int(maybe_twice or 0),
    )


def report_text(broadcast: Broadcast, counts: Counts, tz: str, texts: ClubTexts) -> str:
    sent = challenges.moment_label(broadcast.created_at, tz)
    lead = texts.report_done if counts.pending == 0 else texts.report_so_far
    head = f"{lead} " + fill(texts.broadcast_report, sent=sent, tz=tz, count=broadcast.clubs)
    lines = [
        head,
        fill(texts.report_delivered, count=counts.delivered),
        fill(texts.report_failed, count=counts.failed),
        fill(texts.report_gone, count=counts.unreachable),
    ]
    if counts.pending:
        lines.append(fill(texts.report_pending, count=counts.pending))
    if counts.maybe_twice:
        lines.append(fill(texts.report_maybe_twice, count=counts.maybe_twice))
    return "\n".join(lines)


async def status(ctx: TurnContext) -> None:
    identity = await identity_of(ctx)
    latest = (
        await ctx.session.scalar(
            select(Broadcast)
            .where(Broadcast.account_id == identity.account_id)
            .order_by(Broadcast.created_at.desc(), Broadcast.id.desc())
            .limit(1)
        )
        if identity is not None
        else None
    )
    if latest is None:
        ctx.say("You haven't sent a broadcast yet. Type /broadcast in a private chat with me.")
        return
    if latest.status == REPORTED:
        counts = Counts(0, latest.delivered, latest.failed, latest.unreachable, latest.maybe_twice)
    else:
        counts = await delivery_counts(ctx.session, latest)
    # The coach's own figures: privately, even when asked in a group.
    intent = ReplyIntent.PRIVATE if ctx.in_group else ReplyIntent.NEW
    ctx.say(report_text(latest, counts, _zone_for(ctx), ctx.content.clubs), intent=intent)
