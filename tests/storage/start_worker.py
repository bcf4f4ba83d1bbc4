"""A bot process for the start-up race test: `python -m tests.storage.start_worker URL`.

It loads everything that does not touch the database, prints READY, waits for a line on its
standard input (so that two workers open the database at the same moment), then builds the app
exactly as `baclofen-companion` does (the migrations run there), prints STARTED and exits 0. A
failure exits non-zero with the error's type on standard output (never a value from the data).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from bot.app import build, build_dialogue
from bot.reply.messages import Message
from bot.settings import load_settings


class Silent:
    async def send(self, chat_key: str, messages: Sequence[Message]) -> list[str]:
        return []


def main(url: str) -> int:
    settings = load_settings(_env_file=None, database_url=url)
    dialogue = build_dialogue(settings)
    print("READY", flush=True)
    sys.stdin.readline()
    try:
        app = build(settings, Silent(), dialogue=dialogue)
    except Exception as exc:  # the test reports which kind of failure
        print(f"FAILED {type(exc).__name__}", flush=True)
        return 1
    asyncio.run(app.stop())
    print("STARTED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
