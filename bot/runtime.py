"""Build the shared pieces once (engine, content, dialogue) for any door."""

from __future__ import annotations

from pathlib import Path

from bot.content import load_content
from bot.core import Engine
from bot.dialogue import Dialogue
from bot.intents import KNOWLEDGE_IDS
from bot.settings import Settings

REQUIRED_ANSWERS = frozenset(KNOWLEDGE_IDS) | {"contact_care_team"}


def build_dialogue(
    settings: Settings, intents_dir: Path | None = None, content_dir: Path | None = None
) -> Dialogue:
    """Load and validate `intents/` and `content/`; raise DataError naming any bad file."""
    engine = Engine.load(intents_dir)
    content = load_content(content_dir, REQUIRED_ANSWERS)
    return Dialogue(
        engine,
        content,
        default_region=settings.emergency_region,
        approved_only=settings.approved_answers_only,
    )
