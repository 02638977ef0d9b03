"""PTB's HTTP layer on aiohttp (bot/adapters/telegram/http.py), driven through a real
python-telegram-bot Bot against the fake Bot API: answers, Telegram's errors, timeouts,
uploads and a server that is not there come out as PTB's own request class would give them
(compare tests/test_fake_telegram_api.py, which pins PTB's default behaviour down)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.adapters.telegram.http import AiohttpRequest
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.ports import free_port


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


def _bot(fake: FakeTelegramAPI, base_url: str | None = None) -> Bot:
    return Bot(
        fake.token,
        base_url=base_url or fake.base_url,
        base_file_url=fake.base_file_url,
        request=AiohttpRequest(read_timeout=2),
        get_updates_request=AiohttpRequest(pool_size=1, read_timeout=2),
    )


async def test_a_message_is_sent_and_its_answer_read(fake: FakeTelegramAPI) -> None:
    alice = fake.add_user("Alice")
    async with _bot(fake) as bot:
        assert bot.username == fake.bot.username  # getMe at initialize
        sent = await bot.send_message(alice.id, "<b>Plank</b> 3 × 45 s", parse_mode="HTML")
    [record] = fake.sent_to(alice)
    assert record.plain_text == "Plank 3 × 45 s"
    assert (sent.message_id, sent.chat.id) == (record.message_id, alice.id)


@pytest.mark.filterwarnings("ignore:.*retry_after.*")  # PTB's note on a future type change
@pytest.mark.parametrize(
    ("status", "error"),
    [(400, BadRequest), (403, Forbidden), (429, RetryAfter), (500, NetworkError)],
)
async def test_telegrams_errors_become_ptbs_error_classes(
    fake: FakeTelegramAPI, status: int, error: type[Exception]
) -> None:
    alice = fake.add_user("Alice")
    async with _bot(fake) as bot:
        fake.fail_next("sendMessage", status)
        with pytest.raises(error):
            await bot.send_message(alice.id, "hi")
        await bot.send_message(alice.id, "again")  # the connection is still usable
    assert [r.text for r in fake.sent] == ["again"]


async def test_a_slow_answer_is_a_timeout_though_the_message_may_arrive(
    fake: FakeTelegramAPI,
) -> None:
    alice = fake.add_user("Alice")
    fake.delay_next("sendMessage", 0.5)
    async with _bot(fake) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(alice.id, "slow", read_timeout=0.1)
        [record] = await fake.wait_for_sent(chat_id=alice, timeout=2)
    assert record.text == "slow"


async def test_a_photo_is_uploaded_with_its_caption(fake: FakeTelegramAPI, tmp_path: Path) -> None:
    alice = fake.add_user("Alice")
    picture = tmp_path / "plank.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    async with _bot(fake) as bot:
        message = await bot.send_photo(alice.id, picture, caption="Plank")
    [call] = [c for c in fake.calls if c.method == "sendPhoto"]
    [upload] = call.files.values()
    assert upload.data == picture.read_bytes()
    assert upload.filename == "plank.png"
    assert call.params["caption"] == "Plank"
    assert message.photo  # Telegram's answer names the stored picture


async def test_no_server_is_a_network_error(fake: FakeTelegramAPI) -> None:
    port = free_port()
    request = AiohttpRequest(connect_timeout=2)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot{fake.token}/getMe")
        assert not isinstance(caught.value, TimedOut)
    finally:
        await request.shutdown()


async def test_it_must_be_initialised_and_can_be_again_after_shutdown(
    fake: FakeTelegramAPI,
) -> None:
    request = AiohttpRequest()
    url = f"{fake.base_url}{fake.token}/getMe"
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(url, "POST")
    for _ in range(2):
        await request.initialize()
        assert (await request.post(url))["username"] == fake.bot.username
        await request.shutdown()


async def test_a_proxy_named_in_the_environment_carries_the_requests(
    fake: FakeTelegramAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY (HTTPS_PROXY for Telegram itself) is honoured, as PTB's default client does."""
    relayed: list[str] = []

    async def relay(request: web.Request) -> web.Response:
        relayed.append(str(request.url))
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method, request.url, data=await request.read(), headers=request.headers
            ) as answer,
        ):
            return web.Response(
                status=answer.status, body=await answer.read(), content_type="application/json"
            )

    proxy = web.Application()
    proxy.router.add_route("*", "/{tail:.*}", relay)
    runner = web.AppRunner(proxy)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{runner.addresses[0][1]}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        async with _bot(fake) as bot:
            await bot.send_message(fake.add_user("Alice").id, "via the proxy")
    finally:
        await runner.cleanup()
    assert [url.rsplit("/", 1)[-1] for url in relayed] == ["getMe", "sendMessage"]
    assert [r.text for r in fake.sent] == ["via the proxy"]
