"""The one font for everything the bot draws (the emergency card, the history PDF, the taper
chart): DejaVu Sans, which matplotlib ships, found through matplotlib's font manager. Nothing is
fetched. It draws Latin, Greek and Cyrillic letters with every accent ("Maria José Núñez-López")
and many symbols, but no colour emoji: `drawable` strips what the font cannot draw (an emoji, a
joiner or variation selector left behind) rather than leave a box, and tidies the spaces.

No user-facing text here; nothing is logged.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

FAMILY = "DejaVu Sans"
_SPACES = re.compile(r"[ \t]{2,}")
_LEFT_SPACE = re.compile(
    r" +([.,;:!?)]|\"(?=[\s.,;:!?)]|$))"
)  # before punctuation or a closing quote
# Joiners and selectors that only make sense next to an emoji.
_INVISIBLE = {0x200D, 0xFE0E, 0xFE0F, 0x20E3}


@cache
def font_path(bold: bool = False) -> Path:
    """The TrueType file of DejaVu Sans (bold or regular), from matplotlib's own fonts."""
    from matplotlib import font_manager

    props = font_manager.FontProperties(family=FAMILY, weight="bold" if bold else "normal")
    return Path(font_manager.findfont(props, fallback_to_default=False))


@cache
def _codepoints() -> frozenset[int]:
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    with TTFont(font_path(), lazy=True) as font:
        regular = set(font.getBestCmap())
    with TTFont(font_path(bold=True), lazy=True) as font:
        return frozenset(regular & set(font.getBestCmap()))


def can_draw(char: str) -> bool:
    return ord(char) in _codepoints()


def drawable(text: str) -> str:
    """`text` with every character the font has no glyph for removed (an emoji, say), letters
    composed first so that an accent typed as two code points is drawn as one letter."""
    text = unicodedata.normalize("NFC", text)
    kept = [c for c in text if c in "\n\t" or (ord(c) not in _INVISIBLE and can_draw(c))]
    if len(kept) == len(text):
        return text
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(kept).split("\n")]
    return _LEFT_SPACE.sub(r"\1", "\n".join(lines))  # "López 🙂." -> "López."
