"""A bot process for the leader-election test: `python -m tests.reminders.leader_worker URL KEY
NAME OUT`. It joins the election and, while leader, runs the scheduler; every delivery is
appended to OUT as "NAME<TAB>chat<TAB>first line". Prints LEADER when elected."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from bot.clock import SystemClock
from bot.reminders.leader import Leadership
from bot.reminders.plans import Outgoing
from bot.reminders.scheduler import ReminderScheduler
from bot.reminders.service import Reminders
from bot.reply.messages import Message
from bot.storage.store import open_store


class FileNotifier:
    def __init__(self, name: str, path: str) -> None:
        self.name, self.path = name, path

    async def send(self, chat_key: str, messages: Sequence[Message]) -> list[str]:
        with open(self.path, "a", encoding="utf-8") as fh:
            for m in messages:
                fh.write(f"{self.name}\t{chat_key}\t{m.text.splitlines()[0]}\n")
        return ["1"]


class Plain:
    def render(self, item: Outgoing) -> list[Message]:
        return [Message(f"occurrence {item.occurrence_id}")]


async def main(url: str, key: int, name: str, out: str) -> None:
    store = open_store(url)
    reminders = Reminders(store, SystemClock(), FileNotifier(name, out), Plain())
    scheduler = ReminderScheduler(reminders)

    async def elected() -> None:
        await scheduler.start()
        print("LEADER", flush=True)

    leadership = Leadership(url, elected, scheduler.stop, key=key, poll_seconds=0.2)
    await leadership.start()
    print("STARTED", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]))
