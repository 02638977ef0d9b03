"""The router: commands, aliases, button actions, dialogs and plain words reach their owner."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_router
from bot.content.bundle import ContentBundle
from bot.content.text import normalise
from bot.engine.commands import parse_command
from bot.engine.context import TurnContext
from bot.engine.events import ReplyIntent
from bot.engine.feature import Feature
from bot.engine.payloads import action_payload
from bot.engine.router import Router
from tests.echo_dialog import echo_bot
from tests.factory import build_engine
from tests.harness import ChatHarness, FakeClock


@pytest.fixture
def echo(sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock) -> ChatHarness:
    return echo_bot(sqlite_db, content, clock)


async def _noop(ctx: TurnContext) -> None:
    return None


# --- the routing table itself ---------------------------------------------------------------


def _one(name: str, **kwargs: object) -> Feature:
    feature = Feature("extra")
    feature.command(name, "x", **kwargs)(_noop)  # type: ignore[arg-type]
    return feature


def test_a_command_two_features_claim_raises_and_changes_nothing() -> None:
    router = build_router()
    with pytest.raises(ValueError, match="'card' registered twice"):
        router.include(_one("card"))
    with pytest.raises(ValueError, match="'exercises'"):
        router.include(_one("drills", aliases=("exercises",)))
    with pytest.raises(ValueError, match="'help'"):
        router.include(_one("manual", aliases=("help",)))
    # The failed includes left the table as it was.
    help_command = router.find_command("help")
    assert help_command is not None and help_command.name == "help"
    assert "drills" not in router.commands and "manual" not in router.commands
    assert "extra" not in router.features


def test_inside_one_feature_duplicates_raise() -> None:
    feature = Feature("quiz")
    feature.command("go", "x", aliases=("start_quiz",))(_noop)
    with pytest.raises(ValueError, match="'start_quiz'"):
        feature.command("start_quiz", "x")(_noop)
    feature.action("go")(_noop)
    with pytest.raises(ValueError, match="button action 'go'"):
        feature.action("go")(_noop)

    async def step(ctx: TurnContext, answer: object) -> None:
        return None

    feature.dialog("quiz")(step)
    with pytest.raises(ValueError, match="dialog 'quiz'"):
        feature.dialog("quiz")(step)
    feature.intent("hello", lambda text, content: True)(_noop)
    with pytest.raises(ValueError, match="intent 'hello'"):
        feature.intent("hello", lambda text, content: False)(_noop)


def test_features_may_not_share_names_actions_dialogs_or_the_fallback() -> None:
    router = build_router()
    for clash, match in (
        (Feature("cards"), "feature 'cards'"),
        (Feature("b", actions={"card": _noop}), "button action 'card'"),
        (Feature("c", fallback=_noop), "second fallback"),
    ):
        with pytest.raises(ValueError, match=match):
            router.include(clash)


def test_intents_run_in_priority_order_across_features() -> None:
    first, second = Feature("first"), Feature("second")
    first.intent("late", lambda t, c: True, priority=90)(_noop)
    second.intent("early", lambda t, c: True, priority=10)(_noop)
    first.intent("middle", lambda t, c: True)(_noop)
    router = Router.of([first, second])
    assert [i.name for i in router.intents] == ["early", "middle", "late"]


def test_normalise_folds_case_punctuation_and_spaces() -> None:
    assert normalise("  Dead   BUG!! ") == "dead bug"
    assert normalise("side-plank?") == "side plank"
    assert normalise("") == ""


@pytest.mark.parametrize(
    ("text", "bot_name", "expected"),
    [
        ("/card side plank", None, ("card", "side plank")),
        ("/CARD   Plank  ", None, ("card", "Plank")),
        ("/card@CoreCoachBot plank", "corecoachbot", ("card", "plank")),
        ("/card@OtherBot plank", "CoreCoachBot", None),
        ("/start", None, ("start", "")),
        ("/card\nside plank", None, ("card", "side plank")),
        ("plank", None, None),
        ("/", None, None),
        ("/ card", None, None),
    ],
)
def test_parse_command(text: str, bot_name: str | None, expected: tuple[str, str] | None) -> None:
    assert parse_command(text, bot_name) == expected


# --- routing through the engine ---------------------------------------------------------------


async def test_commands_reach_their_handlers(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person()
    await ann.say("/help")
    for command in ("/start", "/help", "/cards", "/card NAME", "/privacy", "/cancel"):
        assert command in ann.text()
    await ann.say("/privacy")
    assert "What I keep about you" in ann.text()


async def test_alias_and_command_with_arguments(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person()
    await ann.say("/exercises")
    assert "Plank" in ann.labels() and "Dead bug" in ann.labels()
    await ann.say("/card side plank")
    assert ann.last_turn is not None
    assert ann.last_turn.replies[0].title == "Side plank"


async def test_unknown_command_suggests_the_closest(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person()
    await ann.say("/crads")
    assert "/crads" in ann.text()
    assert "Did you mean /cards?" in ann.text()
    await ann.say("/zzqxv")
    assert "Did you mean" not in ann.text()
    assert "/help" in ann.text()


async def test_button_actions_are_routed(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person()
    await ann.say("/start")
    assert ann.labels() == ["Exercise cards", "Help"]
    await ann.press("Help")
    assert "/cards" in ann.text()
    await ann.press_payload("cards:")
    assert "Plank" in ann.labels()


async def test_plain_words_name_a_card(quick_bot: ChatHarness) -> None:
    ann = quick_bot.person()
    for text, title in [
        ("plank", "Plank"),
        ("side plank", "Side plank"),
        ("Dead bug!", "Dead bug"),
    ]:
        await ann.say(text)
        assert ann.last_turn is not None
        assert ann.last_turn.replies[0].title == title, text


async def test_plain_help_and_gibberish(quick_bot: ChatHarness, content: ContentBundle) -> None:
    ann = quick_bot.person()
    await ann.say("Help!")
    assert content.texts.help_intro in ann.text()
    await ann.say("qwzx blorp flimflam")
    assert ann.text().strip() == content.texts.fallback
    assert ann.labels() == ["Help"]


async def test_free_text_inside_a_dialog_goes_to_the_dialog(echo: ChatHarness) -> None:
    ann = echo.person()
    await ann.say("/echo")
    assert ann.dialog == "echo"
    await ann.say("plank")  # outside a dialog this would be the plank card
    assert "Echo 1: plank" in ann.text()
    await ann.say("help")
    assert "Echo 2: help" in ann.text()
    assert ann.dialog == "echo"


async def test_commands_inside_a_dialog_keep_the_dialog(echo: ChatHarness) -> None:
    ann = echo.person()
    await ann.say("/echo")
    await ann.say("/card plank")
    assert ann.last_turn is not None and ann.last_turn.replies[0].title == "Plank"
    assert ann.dialog == "echo"
    await ann.say("still here")
    assert "Echo 1: still here" in ann.text()


async def test_cancel_ends_a_dialog_and_plain_words_route_again(echo: ChatHarness) -> None:
    ann = echo.person()
    await ann.say("/cancel")
    assert "nothing to cancel" in ann.text()
    await ann.say("/echo")
    await ann.say("/cancel")
    assert "stopped" in ann.text()
    assert ann.dialog is None
    await ann.say("plank")
    assert ann.last_turn is not None and ann.last_turn.replies[0].title == "Plank"


async def test_hidden_commands_work_but_are_not_listed(echo: ChatHarness) -> None:
    ann = echo.person()
    await ann.say("/help")
    assert "/echo" in ann.text()
    assert "/boom" not in ann.text()


async def test_the_private_policy_sends_a_groups_answers_privately(
    sqlite_db: AsyncEngine, content: ContentBundle, clock: FakeClock
) -> None:
    """A feature marks a command or button `private`; the engine, not the handler, keeps the
    answers out of the group."""
    personal = Feature("personal")

    @personal.command("mine", "test: something personal", private=True)
    @personal.action("mine", private=True)
    async def mine(ctx: TurnContext) -> None:
        ctx.say("your streak is 3 weeks")

    @personal.command("ours", "test: something for the group")
    async def ours(ctx: TurnContext) -> None:
        ctx.say("the club ran 300 km")

    bot = ChatHarness(build_engine(sqlite_db, content, extra=[personal], clock=clock))
    in_group = bot.person("ann", group="harriers")
    [reply] = await in_group.say("/mine")
    assert reply.intent is ReplyIntent.PRIVATE
    [reply] = await in_group.press_payload(action_payload("mine"))
    assert reply.intent is ReplyIntent.PRIVATE
    [reply] = await in_group.say("/ours")
    assert reply.intent is ReplyIntent.NEW
    [reply] = await bot.person("ann").say("/mine")
    assert reply.intent is ReplyIntent.NEW
