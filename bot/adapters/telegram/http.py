"""python-telegram-bot's HTTP layer on aiohttp.

PTB talks to the Bot API through a `BaseRequest`; its default one is built on httpx, whose
pure-Python connection pool (httpcore, anyio) costs several times more CPU per request than
aiohttp's C-accelerated client: the benchmark's bare echo bot spends ≈ 1.7 ms of CPU per
message on httpx and ≈ 0.45 ms on this (tests/benchmarks/bench_telegram.py). Every reply,
edit and outbox message is a request, so this was most of what a busy bot spent. aiohttp is
already here for discord.py.

What stays PTB's: building the request (RequestData), reading Telegram's answer, and turning
HTTP errors into TelegramError classes (BaseRequest.post). What is ours: the HTTP call, its
timeouts, and naming transport failures the way PTB's own implementation does — TimedOut for
a timeout (the request may or may not have reached Telegram), NetworkError for the rest.
"""

from __future__ import annotations

import ssl
import urllib.request
from typing import Any

import aiohttp
import certifi
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# A timeout as PTB hands it over: seconds, None (no limit), or BaseRequest.DEFAULT_NONE (not
# given: ours applies). PTB spells the type with a private alias; `object` covers it.
Timeout = float | None | object
_URLENCODED = {"Content-Type": "application/x-www-form-urlencoded"}


class AiohttpRequest(BaseRequest):
    """One aiohttp session with its own connection pool; PTB gives the bot two of these, one
    for getUpdates (long polling holds its connection) and one for everything else."""

    def __init__(
        self,
        *,
        pool_size: int = 256,
        connect_timeout: float | None = 5.0,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = pool_size
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}  # origin → proxy URL, from the environment

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # The same trust as PTB's httpx client: certifi's roots (proxies: _proxy).
            tls = ssl.create_default_context(cafile=certifi.where())
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ssl=tls),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        write_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        connect_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        pool_timeout: Timeout = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        body: Any = None
        headers = None
        if files:
            assert request_data is not None
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            body = form
        elif request_data is not None and request_data.parameters:
            # The bytes aiohttp would make of the dict, without building a FormData for
            # every message (≈ 70 µs of CPU each).
            body = request_data.url_encoded_parameters().encode()
            headers = _URLENCODED
        timeout = self._timeout(
            read_timeout,
            write_timeout,
            connect_timeout,
            pool_timeout,
            default_write=self._media_write_timeout if files else self._write_timeout,
        )
        try:
            async with session.request(
                method, url, data=body, headers=headers, timeout=timeout, proxy=self._proxy(url)
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's timeouts subclass it
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc

    def _proxy(self, url: str) -> str | None:
        """The proxy the environment names for this URL's origin (HTTPS_PROXY, HTTP_PROXY,
        ALL_PROXY, NO_PROXY), as httpx honours them. Looked up once per origin: aiohttp's own
        trust_env would do it, and read ~/.netrc, in a worker thread for every request."""
        scheme, _, rest = url.partition("://")
        host = rest.split("/", 1)[0]
        origin = f"{scheme}://{host}"
        if origin not in self._proxies:
            hostname = host.rsplit("@", 1)[-1].split(":", 1)[0]
            proxies = urllib.request.getproxies()
            bypass = urllib.request.proxy_bypass(hostname)
            self._proxies[origin] = None if bypass else proxies.get(scheme, proxies.get("all"))
        return self._proxies[origin]

    def _timeout(
        self,
        read: Timeout,
        write: Timeout,
        connect: Timeout,
        pool: Timeout,
        *,
        default_write: float | None,
    ) -> aiohttp.ClientTimeout:
        """PTB's four timeouts in aiohttp's terms. aiohttp has no write timeout of its own,
        so the whole request is bounded by the sum of the four (None: no bound)."""
        read_s = _given(read, self._read_timeout)
        write_s = _given(write, default_write)
        connect_s = _given(connect, self._connect_timeout)
        pool_s = _given(pool, self._pool_timeout)
        parts = (read_s, write_s, connect_s, pool_s)
        total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
        waiting = None if connect_s is None or pool_s is None else connect_s + pool_s
        return aiohttp.ClientTimeout(
            total=total, connect=waiting, sock_connect=connect_s, sock_read=read_s
        )


def _given(value: Timeout, default: float | None) -> float | None:
    if value is None or isinstance(value, int | float):
        return value
    return default  # BaseRequest.DEFAULT_NONE, PTB's "not passed"
