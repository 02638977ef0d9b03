"""The `corecoach` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot import logsafe
from bot.adapters import StartFailed
from bot.config import ConfigError, Settings

if TYPE_CHECKING:
    from bot.app import App

# Terminal names become platform ids ("dm:NAME", "group:NAME"), which are stored in 64 chars.
MAX_NAME = 48


def _name(value: str) -> str:
    name = value.strip()
    if not name or len(name) > MAX_NAME:
        raise argparse.ArgumentTypeError(f"a name needs 1 to {MAX_NAME} characters")
    return name


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="corecoach", description="Core Coach, a core coach for runners."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser(
        "run",
        help="run the bot: the platforms whose tokens are set, else the terminal chat",
    )
    chat = sub.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--json", action="store_true", help="print each reply as one JSON line")
    chat.add_argument("--user", metavar="NAME", type=_name, help="act as this person")
    chat.add_argument(
        "--group",
        metavar="NAME",
        type=_name,
        help="talk in this group chat instead of privately",
    )
    chat.add_argument("--admin", action="store_true", help="be an admin of the --group chat")

    content = sub.add_parser("content", help="work with content files")
    content_sub = content.add_subparsers(dest="content_command", required=True)
    check = content_sub.add_parser("check", help="validate a content folder")
    check.add_argument(
        "folder", nargs="?", type=Path, help="default: the configured content folder"
    )

    sub.add_parser("migrate", help="bring the database schema up to date")

    discord = sub.add_parser("discord", help="manage the Discord application")
    discord_sub = discord.add_subparsers(dest="discord_command", required=True)
    sync = discord_sub.add_parser(
        "sync", help="register the slash commands with Discord (after adding or changing any)"
    )
    sync.add_argument(
        "--guild",
        metavar="ID",
        type=int,
        action="append",
        default=[],
        help="only in this server, instantly (repeatable; default: DISCORD_GUILD_IDS, else "
        "every server and DM)",
    )
    strava = sub.add_parser("strava", help="manage the Strava connection")
    strava_sub = strava.add_subparsers(dest="strava_command", required=True)
    strava_sub.add_parser(
        "subscribe",
        help="create Strava's webhook subscription to STRAVA_PUBLIC_URL/strava/webhook (the "
        "bot must be running there: Strava checks the URL at once)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "admin", False) and not args.group:
        parser.error("--admin needs --group (an admin of which group?)")
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"corecoach: configuration error: {exc}", file=sys.stderr)
        return 2
    logsafe.configure(settings.log_level, salt=settings.log_salt)
    if args.command == "discord" and not settings.discord_token:
        print("corecoach: set DISCORD_BOT_TOKEN to talk to Discord", file=sys.stderr)
        return 2
    if args.command == "strava":
        return _strava_subscribe(settings)
    if args.command == "content":
        return _content_check(args.folder or settings.content_dir)
    if args.command == "run" and not settings.has_platform and _stdin_is_a_device():
        # A container or service without a token: the terminal chat would read end-of-input
        # and exit 0, and a restart policy would loop on that silently.
        print(
            "corecoach run: set TELEGRAM_BOT_TOKEN or DISCORD_BOT_TOKEN (or give the terminal "
            "chat a terminal or piped input)",
            file=sys.stderr,
        )
        return 2
    try:
        return asyncio.run(_async_main(args, settings))
    except StartFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`corecoach chat | head`): stop quietly, as other tools do,
        # and keep Python from complaining again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _stdin_is_a_device() -> bool:
    """Stdin is neither a terminal nor a pipe or file: /dev/null, as `docker run` without -i
    and service managers give."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError):  # no file descriptor (replaced in a test): not a device
        return False
    return stat.S_ISCHR(mode) and not sys.stdin.isatty()


def _strava_subscribe(settings: Settings) -> int:
    from handlers.strava.api import StravaError, setup_from, subscribe

    setup = setup_from(settings)
    if setup is None or setup.verify_token is None:
        print(
            "corecoach: set STRAVA_CLIENT_ID, STRAVA_CLIENT_SECRET, STRAVA_TOKEN_KEY, "
            "STRAVA_PUBLIC_URL and STRAVA_VERIFY_TOKEN first",
            file=sys.stderr,
        )
        return 2
    try:
        subscription_id = subscribe(setup)
    except StravaError as exc:
        print(f"corecoach: Strava refused the subscription ({exc})", file=sys.stderr)
        return 1
    print(f"subscribed: Strava sends events to {setup.webhook_url} (id {subscription_id})")
    return 0


def _content_check(folder: Path) -> int:
    from bot.content.bundle import load_content
    from bot.content.plural import form

    bundle, problems = load_content(folder)
    for problem in problems:
        print(problem)
    if bundle is None:
        print(f"{form(len(problems), '# problem|# problems')} in {folder}", file=sys.stderr)
        return 1
    print(f"{folder}: content is valid ({len(bundle.cards)} cards)")
    return 0


async def _async_main(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy.exc import DBAPIError

    from bot.app import build_app
    from bot.content.bundle import ContentError

    try:
        app = await build_app(settings)
    except ContentError as exc:
        print("corecoach: the content folder has problems, so I won't start:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except (OSError, DBAPIError) as exc:
        # Not the URL itself: it may hold a password.
        reason = exc.orig if isinstance(exc, DBAPIError) else exc
        print(
            f"corecoach: cannot open the database of COACH_DATABASE_URL ({reason}); for a "
            "SQLite file, check that its folder exists and this user may write there",
            file=sys.stderr,
        )
        return 1
    try:
        if args.command == "migrate":
            print("database is up to date")
            return 0
        if args.command == "discord":
            return await _discord_sync(app, args.guild)
        if args.command == "run" and settings.has_platform:
            from bot.runner import run_platforms

            await run_platforms(app)
            return 0
        from bot.adapters.terminal import TerminalChat
        from bot.ops.health import start_ops
        from bot.runner import start_background, web_routes
        from handlers.strava.api import setup_from

        chat_args = (
            args
            if args.command == "chat"
            else argparse.Namespace(json=False, user=None, group=None, admin=False)
        )
        chat = TerminalChat(
            app.engine,
            user=chat_args.user,
            group=chat_args.group,
            admin=chat_args.admin,
            json_mode=chat_args.json,
        )
        # Reminders, check-ins and club posts appear in the open chat, as on the platforms.
        background = start_background(app, [chat])
        # Strava's callback needs the web server, which the terminal otherwise goes without.
        web = await start_ops(app, web_routes(app)) if setup_from(settings) else None
        try:
            await chat.run()
        finally:
            await background.stop()
            if web is not None:
                await web.stop()
        return 0
    finally:
        await app.close()


async def _discord_sync(app: App, guild_ids: list[int]) -> int:
    import discord

    from bot.adapters.discord import sync_commands

    try:
        synced = await sync_commands(app, guild_ids)
    except discord.LoginFailure:
        print("corecoach: Discord refused DISCORD_BOT_TOKEN", file=sys.stderr)
        return 1
    except discord.HTTPException as exc:
        print(f"corecoach: Discord said {exc.status} ({exc.code}) to the sync", file=sys.stderr)
        return 1
    for scope, names in synced.items():
        where = "globally (servers and DMs)" if scope is None else f"in server {scope}"
        print(f"synced {len(names)} commands {where}: {', '.join('/' + n for n in names)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
