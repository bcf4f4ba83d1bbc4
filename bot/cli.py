"""Command line: `python -m bot [chat|run|classify|content|evaluate|calibrate|bench]`.

With no command: the Telegram bot when TELEGRAM_BOT_TOKEN is set, otherwise the local chat.
Every command loads and validates the data first and exits non-zero with a clear message on a
bad file or setting.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot import logs
from bot.loading import DataError
from bot.settings import SettingsError, load_settings

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="baclofen-companion", description=__doc__)
    sub = p.add_subparsers(dest="command")
    sub.add_parser("chat", help="chat with the bot in this terminal (no token needed)")
    sub.add_parser("run", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    c = sub.add_parser("classify", help="print the contract's JSON decision for messages")
    c.add_argument("text", nargs="*", help="messages to classify")
    c.add_argument("--jsonl", action="store_true", help='read {"text": ...} lines on stdin')
    ev = sub.add_parser("evaluate", help="score labelled JSONL files (contract format)")
    ev.add_argument("files", nargs="+", type=Path)
    ev.add_argument("--misses", action="store_true", help="list every miss")
    ev.add_argument(
        "--cross",
        action="store_true",
        help="train the learned model without each file, then score it (leave one writer out)",
    )
    cal = sub.add_parser("calibrate", help="search matcher weights/thresholds on tests/data")
    cal.add_argument("files", nargs="*", type=Path)
    ct = sub.add_parser("content", help="content tools")
    ct.add_argument("action", choices=["check"])
    ct.add_argument("--json", action="store_true", help="print one JSON list instead")
    sub.add_parser("train", help="build the learned second opinion from the labelled data")
    b = sub.add_parser("bench", help="measure latency, throughput, start-up and memory")
    b.add_argument("--messages", type=int, default=10_000)
    return p


def _classify(args: argparse.Namespace, out: TextIO) -> int:
    from bot.core.engine import Engine
    from bot.doors.jsonl import UnreadableInput, dump, run

    if isinstance(out, io.TextIOWrapper):
        out.reconfigure(encoding="utf-8", errors="strict")  # whatever the locale says
    engine = Engine.load()
    if not args.jsonl:
        if not args.text:
            print(
                "classify: give messages as arguments, or --jsonl on standard input",
                file=sys.stderr,
            )
            return 2
        for number, text in enumerate(args.text, start=1):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:  # bytes that were not UTF-8 on the command line
                print(f"classify: argument {number} is not UTF-8 text", file=sys.stderr)
                return 2
            out.write(dump(engine.classify(text).to_json()) + "\n")
        return 0
    # Bad lines get an error object and the run goes on; a stream that is not text stops it.
    try:
        run(engine, sys.stdin.buffer, out.write, out.flush)
    except UnreadableInput as exc:
        out.flush()
        print(f"classify: standard input is not readable: {exc}", file=sys.stderr)
        return 2
    out.flush()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        token = settings.token if settings.has_token else None
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        logs.install((token, secret))  # every record cleaned on its way out (bot/logs.py)
        command = args.command or ("run" if settings.has_token else "chat")
        if command == "classify":
            return _classify(args, sys.stdout)
        if command == "chat":
            from bot.doors.console import main as chat_main

            return chat_main(settings)
        if command == "run":
            if not settings.has_token:
                print("run: set TELEGRAM_BOT_TOKEN first (without it, use 'chat')", file=sys.stderr)
                return 2
            from bot.doors.telegram import run_bot

            return run_bot(settings)
        if command == "evaluate":
            from bot.core.engine import Engine
            from bot.tools.evaluate import evaluate, read_jsonl

            if args.cross:
                from bot.tools.train import cross_evaluate

                cross_evaluate(args.files)
                return 0
            report = evaluate(Engine.load(), read_jsonl(args.files))
            print(report.summary())
            if args.misses:
                print("\n".join(report.misses))
            return 0
        if command == "calibrate":
            from bot.tools.calibrate import main as calibrate_main
            from bot.tools.train import data_files

            return calibrate_main(args.files or data_files())
        if command == "content":
            from bot.tools.content_check import main as check_main

            return check_main(as_json=args.json)
        if command == "train":
            from bot.tools.train import main as train_main

            return train_main()
        if command == "bench":
            from bot.tools.bench import main as bench_main

            return bench_main(args.messages)
    except (DataError, SettingsError) as exc:
        print(f"baclofen-companion: {exc}", file=sys.stderr)
        return 2
    _parser().print_help()
    return 2
