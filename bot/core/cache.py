"""A decision cache bounded by the size of what it keeps, not by how many entries.

Repeated messages ("hi", "thanks", the same question from many people) are answered from here,
since a decision is a pure function of the text and the profile. A count-bounded cache of whole
texts can be filled with a few long messages (9,000 messages of 100,000 characters held 3.2 GB);
this one counts the characters of every key it holds and forgets the oldest past its budget, and
never keeps a message longer than a tenth of the budget.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

E = TypeVar("E", bound=Hashable)
V = TypeVar("V")


class SizedCache(Generic[E, V]):
    """Least-recently-used results of `compute(text, extra)`, within `budget` characters."""

    def __init__(self, compute: Callable[[str, E], V], budget: int) -> None:
        self._compute = compute
        self._budget = budget
        self._items: OrderedDict[tuple[str, E], V] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()  # the Telegram door runs turns in threads

    @property
    def size(self) -> int:
        """Characters of text held now."""
        return self._size

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0

    def get(self, text: str, extra: E) -> V:
        key = (text, extra)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        value = self._compute(text, extra)  # outside the lock: other turns are not held up
        if len(text) * 10 <= self._budget:
            with self._lock:
                if key not in self._items:
                    self._items[key] = value
                    self._size += len(text)
                while self._size > self._budget:
                    (old, _), _ = self._items.popitem(last=False)
                    self._size -= len(old)
        return value
