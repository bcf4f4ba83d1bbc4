"""Shared fixtures: the engine and the dialogue are loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import build_dialogue
from bot.conversation.dialogue import Dialogue
from bot.core.engine import Engine
from bot.settings import load_settings

# Database fixtures (db_url on SQLite and PostgreSQL, store, clock, content) for every folder.
pytest_plugins = ["tests.databases"]

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
PUBLIC_SAMPLE = ROOT.parent / "shared" / "eval" / "public-sample.jsonl"


@pytest.fixture(scope="session")
def dialogue() -> Dialogue:
    return build_dialogue(load_settings(_env_file=None, emergency_region="US"))


@pytest.fixture(scope="session")
def engine(dialogue: Dialogue) -> Engine:
    return dialogue.engine


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test's exports go to a folder of its own (DATA_DIR), never the working directory."""
    folder = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(folder))
    return folder
