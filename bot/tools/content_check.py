"""`python -m bot content check`: the content library's rules, one row per answer and voice.

Rules (a violation makes the exit status 1): every required intent has an answer in all three
voices; no empty text; patient and caregiver texts have 40-130 words and a Flesch-Kincaid grade
of at most 6.0, with medians of at most 4.5 (grade) and 7.5 (New Dale-Chall); every number in an
answer appears in the text of one of its facts; every source and fact id exists (checked at
load, exit 2). Readability comes from textstat, pinned to a version that works offline.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field

import textstat

from bot.reply.content import REQUIRED_ANSWERS, VOICES, Content, unsupported_numbers
from bot.settings import load_settings

PLAIN_VOICES = ("patient", "caregiver")
MAX_GRADE = 6.0
MAX_MEDIAN_GRADE = 4.5
MAX_MEDIAN_DALE_CHALL = 7.5
WORDS = (40, 130)
SAFETY_WORDS = (20, 130)


@dataclass
class Row:
    intent: str
    voice: str
    text: str
    status: str
    reviewer: str | None
    sources: list[str]
    facts: list[str]
    grade: float
    dale_chall: float
    words: int
    problems: list[str] = field(default_factory=list)


def _measure(text: str) -> tuple[float, float, int]:
    return (
        float(textstat.flesch_kincaid_grade(text)),
        float(textstat.dale_chall_readability_score(text)),
        len(text.split()),
    )


def build_rows(content: Content) -> list[Row]:
    rows: list[Row] = []
    number = content.emergency_number(load_settings().emergency_region)
    for answer in content.answers.values():
        facts = [content.facts[f] for f in answer.facts]
        for voice in VOICES:
            text = answer.voices.get(voice).replace("{emergency_number}", number)
            grade, dale, words = _measure(text)
            row = Row(answer.id, voice, text, answer.review.status, answer.review.reviewer,
                      list(answer.sources), list(answer.facts), grade, dale, words)  # fmt: skip
            if voice in PLAIN_VOICES:
                if grade > MAX_GRADE:
                    row.problems.append(f"grade {grade} over {MAX_GRADE}")
                if not WORDS[0] <= words <= WORDS[1]:
                    row.problems.append(f"{words} words, not {WORDS[0]}-{WORDS[1]}")
            missing = unsupported_numbers(text, facts)
            if missing:
                row.problems.append(f"numbers not in its facts: {', '.join(missing)}")
            rows.append(row)
    replies = content.safety.replies
    for name in ("emergency", "urgent", "pump_line", "if_happening_now"):
        reply = getattr(replies, name)
        facts = [content.facts[f] for f in reply.facts]
        for voice in VOICES:
            text = reply.voices.get(voice).format(emergency_number=number)
            grade, dale, words = _measure(text)
            row = Row(f"safety.{name}", voice, text, "safety", None, list(reply.sources),
                      list(reply.facts), grade, dale, words)  # fmt: skip
            if voice in PLAIN_VOICES and grade > MAX_GRADE:
                row.problems.append(f"grade {grade} over {MAX_GRADE}")
            if (
                name in ("emergency", "urgent")
                and voice in PLAIN_VOICES
                and not (SAFETY_WORDS[0] <= words <= SAFETY_WORDS[1])
            ):
                row.problems.append(f"{words} words, not {SAFETY_WORDS[0]}-{SAFETY_WORDS[1]}")
            missing = unsupported_numbers(text.replace(number, ""), facts)
            if missing:
                row.problems.append(f"numbers not in its facts: {', '.join(missing)}")
            rows.append(row)
    return rows


def summary_problems(content: Content, rows: list[Row]) -> list[str]:
    problems: list[str] = []
    missing = sorted(REQUIRED_ANSWERS - content.answers.keys())
    if missing:
        problems.append(f"required answers missing: {', '.join(missing)}")
    plain = [r for r in rows if r.voice in PLAIN_VOICES and not r.intent.startswith("safety.")]
    if plain:
        median_grade = statistics.median(r.grade for r in plain)
        median_dale = statistics.median(r.dale_chall for r in plain)
        if median_grade > MAX_MEDIAN_GRADE:
            problems.append(f"median grade {median_grade} over {MAX_MEDIAN_GRADE}")
        if median_dale > MAX_MEDIAN_DALE_CHALL:
            problems.append(f"median Dale-Chall {median_dale} over {MAX_MEDIAN_DALE_CHALL}")
    return problems


def markdown(content: Content, rows: list[Row]) -> str:
    plain = [r for r in rows if r.voice in PLAIN_VOICES and not r.intent.startswith("safety.")]
    patient = [r for r in rows if r.voice == "patient" and not r.intent.startswith("safety.")]
    out = [
        "| answer | voice | FK grade | Dale-Chall | words | sources | status | problems |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.intent} | {r.voice} | {r.grade:.1f} | {r.dale_chall:.2f} | {r.words} | "
            f"{len(r.sources)} | {r.status} | {'; '.join(r.problems) or 'ok'} |"
        )
    out.append("")
    out.append(
        f"Patient and caregiver answers: {len(plain)}; median FK grade "
        f"{statistics.median(r.grade for r in plain):.1f} (patient only "
        f"{statistics.median(r.grade for r in patient):.1f}); median New Dale-Chall "
        f"{statistics.median(r.dale_chall for r in plain):.2f}; highest FK grade "
        f"{max(r.grade for r in plain):.1f}."
    )
    return "\n".join(out)


def main(as_json: bool = False) -> int:
    from bot.reply.content import load_content

    content = load_content()
    rows = build_rows(content)
    problems = summary_problems(content, rows)
    if as_json:
        print(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=1))
    else:
        print(markdown(content, rows))
    bad = [r for r in rows if r.problems]
    for r in bad:
        problems.append(f"{r.intent} ({r.voice}): {'; '.join(r.problems)}")
    if problems:
        import sys

        print("\n".join(f"content check: {p}" for p in problems), file=sys.stderr)
        return 1
    return 0
