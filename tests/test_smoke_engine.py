from tests.harness import ChatHarness


async def test_start_and_card_on_each_database(bot: ChatHarness) -> None:
    ann = bot.person("ann")
    await ann.say("/start")
    assert "Core Coach" in ann.text()
    await ann.press("Exercise cards")
    assert "Plank" in ann.labels()
    await ann.press("Plank")
    assert "elbows under" in ann.text().casefold()
