"""A bad data file stops start-up with a message naming the file, the entry and the problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.core.engine import Engine
from bot.loading import DataError
from bot.reply.content import REQUIRED_ANSWERS, load_content

from .conftest import ROOT


@pytest.fixture()
def intents_copy(tmp_path: Path) -> Path:
    target = tmp_path / "intents"
    shutil.copytree(ROOT / "intents", target)
    return target


@pytest.fixture()
def content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target)
    return target


def _edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_an_intent_with_too_few_examples_is_named(intents_copy: Path) -> None:
    path = intents_copy / "medicine.yaml"
    _edit(path, lambda d: d["intents"][0].update(examples=["only one"]))
    with pytest.raises(DataError) as err:
        Engine.load(intents_copy)
    message = str(err.value)
    assert "medicine.yaml" in message and "about_baclofen" in message and "at least 15" in message


def test_a_missing_contract_intent_is_named(intents_copy: Path) -> None:
    path = intents_copy / "features.yaml"
    _edit(path, lambda d: d.update(intents=[i for i in d["intents"] if i["id"] != "greeting"]))
    with pytest.raises(DataError, match="greeting"):
        Engine.load(intents_copy)


def test_an_unknown_related_intent_is_named(intents_copy: Path) -> None:
    path = intents_copy / "pump.yaml"
    _edit(path, lambda d: d["intents"][0].update(related=["no_such_intent"]))
    with pytest.raises(DataError, match="no_such_intent"):
        Engine.load(intents_copy)


def test_broken_yaml_is_named(intents_copy: Path) -> None:
    (intents_copy / "care.yaml").write_text("intents: [\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"care\.yaml: not valid YAML"):
        Engine.load(intents_copy)


def test_a_bad_triage_pattern_is_named(intents_copy: Path) -> None:
    path = intents_copy / "rules" / "triage.yaml"
    _edit(path, lambda d: d["concepts"]["seizure"].append("(unclosed"))
    with pytest.raises(DataError, match=r"triage\.yaml"):
        Engine.load(intents_copy)


def test_an_unknown_sign_family_in_the_guards_is_named(intents_copy: Path) -> None:
    path = intents_copy / "rules" / "guards.yaml"
    _edit(path, lambda d: d.update(disclaimable=["general", "no_such_family"]))
    with pytest.raises(DataError, match=r"guards\.yaml.*no_such_family"):
        Engine.load(intents_copy)


def test_an_answer_citing_an_unknown_source_is_named(content_copy: Path) -> None:
    path = content_copy / "answers" / "medicine.yaml"
    _edit(path, lambda d: d["answers"][0]["sources"].append("NOPE-1"))
    with pytest.raises(DataError) as err:
        load_content(content_copy, REQUIRED_ANSWERS)
    assert "medicine.yaml" in str(err.value) and "NOPE-1" in str(err.value)


def test_an_answer_missing_a_voice_is_named(content_copy: Path) -> None:
    path = content_copy / "answers" / "pump.yaml"
    _edit(path, lambda d: d["answers"][0]["voices"].pop("caregiver"))
    with pytest.raises(DataError, match="caregiver"):
        load_content(content_copy, REQUIRED_ANSWERS)


def test_approved_without_a_reviewer_is_refused(content_copy: Path) -> None:
    path = content_copy / "answers" / "medicine.yaml"
    _edit(path, lambda d: d["answers"][0]["review"].update(status="approved", reviewer=None))
    with pytest.raises(DataError, match="named clinical reviewer"):
        load_content(content_copy, REQUIRED_ANSWERS)
