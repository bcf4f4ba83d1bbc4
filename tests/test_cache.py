"""The decision cache is bounded by what it holds, not by how many entries it has."""

from __future__ import annotations

from bot.core.cache import SizedCache
from bot.core.engine import Engine


def test_long_messages_never_fill_the_cache_past_its_budget() -> None:
    calls: list[str] = []

    def compute(text: str, extra: None) -> int:
        calls.append(text)
        return len(text)

    cache: SizedCache[None, int] = SizedCache(compute, budget=10_000)
    for i in range(200):
        cache.get(f"{i:04d}" + "x" * 900, None)  # each one new, 904 characters
        assert cache.size <= 10_000
    assert cache.get("y" * 5000, None) == 5000  # over a tenth of the budget: not kept
    assert cache.size <= 10_000 and ("y" * 5000, None) not in cache._items


def test_a_repeated_message_is_answered_from_the_cache(engine: Engine) -> None:
    first = engine.classify("what is baclofen used for?")
    assert engine.classify("what is baclofen used for?") is first


def test_a_huge_message_is_classified_but_not_kept(engine: Engine) -> None:
    text = "tell me about baclofen and my spasms please. " * 5000  # about 225,000 characters
    assert engine.classify(text).safety.value == "routine"
    assert (text, None) not in engine._cache._items
    assert engine._cache.size <= 2_000_000


def test_many_distinct_100k_character_messages_hold_at_most_the_budget() -> None:
    """The issue's case: distinct 100,000-character messages used to be kept whole (9,000 of
    them held 3.2 GB). Each text is the key; the value holds the very same string."""
    import tracemalloc

    budget = 2_000_000
    cache: SizedCache[None, str] = SizedCache(lambda text, extra: text, budget)
    tracemalloc.start()
    try:
        for i in range(1_000):
            cache.get(f"{i:05d}" + "x" * 99_995, None)
            assert cache.size <= budget
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(cache) == budget // 100_000
    assert held < 4 * budget, f"{held:,} bytes held for a budget of {budget:,} characters"
