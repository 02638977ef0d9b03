"""The `corecoach` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot import logsafe
from bot.config import ConfigError, Settings


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
    chat.add_argument("--user", metavar="NAME", help="act as this person")
    chat.add_argument(
        "--group", metavar="NAME", help="talk in this group chat instead of privately"
    )
    chat.add_argument("--admin", action="store_true", help="be an admin of the --group chat")

    content = sub.add_parser("content", help="work with content files")
    content_sub = content.add_subparsers(dest="content_command", required=True)
    check = content_sub.add_parser("check", help="validate a content folder")
    check.add_argument(
        "folder", nargs="?", type=Path, help="default: the configured content folder"
    )

    sub.add_parser("migrate", help="bring the database schema up to date")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"corecoach: configuration error: {exc}", file=sys.stderr)
        return 2
    logsafe.configure(settings.log_level)
    if args.command == "content":
        return _content_check(args.folder or settings.content_dir)
    try:
        return asyncio.run(_async_main(args, settings))
    except KeyboardInterrupt:
        return 130


def _content_check(folder: Path) -> int:
    from bot.content.bundle import load_content

    bundle, problems = load_content(folder)
    for problem in problems:
        print(problem)
    if bundle is None:
        print(f"{len(problems)} problem(s) in {folder}", file=sys.stderr)
        return 1
    print(f"{folder}: content is valid ({len(bundle.cards)} cards)")
    return 0


async def _async_main(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build_app
    from bot.content.bundle import ContentError

    try:
        app = await build_app(settings)
    except ContentError as exc:
        print("corecoach: the content folder has problems, so I won't start:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    try:
        if args.command == "migrate":
            print("database is up to date")
            return 0
        if args.command == "run" and settings.has_platform:
            from bot.runner import run_platforms

            await run_platforms(app)
            return 0
        from bot.adapters.terminal import TerminalChat

        chat_args = (
            args
            if args.command == "chat"
            else argparse.Namespace(json=False, user=None, group=None, admin=False)
        )
        await TerminalChat(
            app.engine,
            user=chat_args.user,
            group=chat_args.group,
            admin=chat_args.admin,
            json_mode=chat_args.json,
        ).run()
        return 0
    finally:
        await app.close()


if __name__ == "__main__":
    raise SystemExit(main())
