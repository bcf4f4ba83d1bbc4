"""`python -m bot content check`: the content library's rules, one row per text a person reads.

Rows: every answer in each voice; every safety reply for each sign family and level, in each
voice and each region (the family's `also` line, the carer-strain reply and the "if this is
happening now" line too). A problem makes the exit status 1:
- plain voices (patient, caregiver): Flesch-Kincaid grade at most 6.0; answers 40-130 words;
  medians of at most 4.5 (grade) and 7.0 (New Dale-Chall), for answers and for safety replies;
- a safety reply has at most `max_lines` lines for any reader (route, age), and none of the
  phrases its family forbids;
- every number in a text appears in one of its facts; every answer that cites a fact with a
  primary source cites one of those primary sources (copies, secondary summaries and wikis are
  listed, not failed);
- the clinical corrections (`CORRECTIONS`): phrases an answer must or must not have;
- every required intent has an answer; source and fact ids exist (checked at load, exit 2).
Numbers that need a clinical check before release (phone numbers, thresholds) are listed.
Readability comes from textstat, pinned to a version that works offline.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import textstat

from bot.reply.content import REQUIRED_ANSWERS, VOICES, Content, Voices, unsupported_numbers
from bot.reply.lines import AGES, ROUTES, Reader, all_lines, fill_known, lines_for

PLAIN_VOICES = ("patient", "caregiver")
MAX_GRADE = 6.0
MAX_MEDIAN_GRADE = 4.5
MAX_MEDIAN_DALE_CHALL = 7.0
WORDS = (40, 130)
SAFETY_WORDS = (3, 130)
READERS = [
    (frozenset(r), frozenset(a))
    for r in ({"oral"}, {"pump"}, set(ROUTES))
    for a in ({"child"}, {"adult"}, set(AGES))
]


@dataclass(frozen=True)
class Correction:
    """A clinical correction from the review, as a rule on one answer's text."""

    item: str  # what the review found, in a few words
    answer: str
    voices: tuple[str, ...]
    must: str = ""  # a regular expression the text must match (case-insensitive)
    never: str = ""  # a regular expression the text must not match


# A line that speaks of confusion without sending the reader to the emergency number.
CONFUSION_NOT_AN_EMERGENCY = r"^(?!.*(emergency|\{emergency_number\})).*confus"
CORRECTIONS = (
    Correction("caregiver guide: severe withdrawal signs", "caregiver_guide", VOICES,
               must=r"high fever.*(rigid|very stiff).*confus.*(seeing|hallucinat)"),
    *(
        Correction(f"confusion: one level ({answer})", answer, VOICES,
                   never=CONFUSION_NOT_AN_EMERGENCY)
        for answer in ("withdrawal", "stopping_and_tapering", "stopping_already_stopped")
    ),
    Correction("older adults: extreme caution", "older_adults_dementia", VOICES,
               must=r"(great|extreme|very) (care|caution)"),
    Correction("older adults: kidney function", "older_adults_dementia", VOICES,
               must=r"kidney"),
    Correction("older adults: lower doses", "older_adults_dementia", VOICES,
               must=r"low(er)? dose"),
    Correction("kidney: dialysis often avoided", "kidney_problems", VOICES,
               must=r"dialysis[^\n]*(avoid|not (to )?(use|take))|(avoid|not used)[^\n]*dialysis"),
    Correction("kidney: same-day check for new confusion", "kidney_problems", VOICES,
               must=r"confus[^\n]*\n?[^\n]*(today|same day|same-day)"),
    Correction("breastfeeding: infant withdrawal when the mother stops", "pregnancy_breastfeeding",
               VOICES, must=r"(stop|stopping)[^\n]*(breastfe|baclofen)[^\n]*\n?[^\n]*withdrawal"),
    Correction("side effects: do not stop it yourself", "side_effects", VOICES,
               must=r"(do not|don't|should not) stop"),
    Correction("alcohol: nothing that suggests drinking is fine later", "interactions_alcohol",
               VOICES, never=r"until (you|they) know|at first|later"),
    Correction("alcohol: other sedating medicines named", "interactions_alcohol", VOICES,
               must=r"opioid.*(diazepam|benzodiazepine).*(sleep)"),
    Correction("taper: no duration that reads as permission", "stopping_and_tapering",
               PLAIN_VOICES, never=r"\d+ ?(-|to) ?\d+ weeks?|\bweeks?\b"),
    Correction("taper: no duration that reads as permission", "stopping_not_yet_stopped",
               PLAIN_VOICES, never=r"\d+ ?(-|to) ?\d+ weeks?|\bweeks?\b"),
    Correction("overdose: 200 mg is no reassurance in kidney disease or children", "overdose",
               ("professional",), must=r"200 mg[^\n]*(kidney|renal)[^\n]*child"),
    Correction("MRI: which pump", "pump_travel_mri", VOICES, must=r"SynchroMed"),
    Correction("pump problems: out of hours", "pump_problems", VOICES,
               must=r"(night|out of hours|after hours|weekend)"),
    Correction("forms: strengths up to date", "forms_and_strengths", ("professional",),
               must=r"15.*OZOBAX DS"),
    Correction("how to take: the label's adult maximum", "how_to_take", VOICES,
               must=r"label's (most|maximum)"),
    Correction("no source codes in replies", "emergency_plan", VOICES, never=r"\[[A-Z]"),
)  # fmt: skip


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
    region: str = ""
    lines: int = 0  # the most lines any reader sees (safety replies)
    not_primary: list[str] = field(default_factory=list)  # copies, secondary sources, wikis
    problems: list[str] = field(default_factory=list)

    @property
    def safety(self) -> bool:
        return self.intent.startswith("safety.")


def _measure(text: str) -> tuple[float, float, int]:
    return (
        float(textstat.flesch_kincaid_grade(text)),
        float(textstat.dale_chall_readability_score(text)),
        len(text.split()),
    )


def _source_problems(content: Content, facts: list[str], sources: list[str]) -> list[str]:
    """Facts with a primary source of which the text cites none."""
    missing = []
    for fact_id in facts:
        primary = [
            s for s in content.facts[fact_id].sources if content.sources[s].kind == "primary"
        ]
        if primary and not set(primary) & set(sources):
            missing.append(f"{fact_id} (cite {primary[0]})")
    return [f"no primary source cited for {', '.join(missing)}"] if missing else []


def _row(content: Content, name: str, voice: str, raw: str, facts: list[str],
         sources: list[str], region: str = "", status: str = "safety",
         reviewer: str | None = None) -> Row:  # fmt: skip
    """One row: `raw` is the text with its placeholders (the numbers rule skips them; a region's
    own numbers are checked against its facts at load); it is measured with them filled."""
    text = fill_known(raw, content.region_values(region or "US"))
    grade, dale, words = _measure(text)
    row = Row(name, voice, text, status, reviewer, list(sources), list(facts), grade, dale,
              words, region)  # fmt: skip
    row.not_primary = [s for s in sources if content.sources[s].kind != "primary"]
    if voice in PLAIN_VOICES and grade > MAX_GRADE:
        row.problems.append(f"grade {grade} over {MAX_GRADE}")
    missing = unsupported_numbers(raw, [content.facts[f] for f in facts])
    if missing and facts:
        row.problems.append(f"numbers not in its facts: {', '.join(missing)}")
    row.problems.extend(_source_problems(content, facts, sources))
    return row


def _safety_texts(
    content: Content,
) -> Iterator[tuple[str, Voices, list[str], list[str], list[str]]]:
    """(name, voices, facts, sources, forbidden) for every safety text."""
    safety = content.safety
    for family_id, family in safety.families.items():
        for level in ("emergency", "urgent"):
            reply = getattr(family, level)
            if reply is not None:
                yield (f"safety.{family_id}.{level}", reply.voices, reply.facts, reply.sources,
                       family.forbidden)  # fmt: skip
        if family.variant is not None:
            reply = family.variant.emergency
            yield (f"safety.{family_id}.poison_centre_first", reply.voices, reply.facts,
                   reply.sources, family.forbidden)  # fmt: skip
        yield f"safety.{family_id}.also", family.also, [], [], []
    strain = safety.carer_strain
    yield "safety.carer_strain", strain.voices, strain.facts, strain.sources, []
    now = safety.if_happening_now
    yield "safety.if_happening_now", now.voices, now.facts, now.sources, []


def build_rows(content: Content) -> list[Row]:
    rows: list[Row] = []
    for answer in content.answers.values():
        for voice in VOICES:
            text = "\n".join(all_lines(answer.voices.get(voice)))
            row = _row(content, answer.id, voice, text, answer.facts, answer.sources,
                       status=answer.review.status, reviewer=answer.review.reviewer)  # fmt: skip
            if voice in PLAIN_VOICES and not WORDS[0] <= row.words <= WORDS[1]:
                row.problems.append(f"{row.words} words, not {WORDS[0]}-{WORDS[1]}")
            rows.append(row)
    limit = content.safety.max_lines
    for name, voices, facts, sources, forbidden in _safety_texts(content):
        for voice in VOICES:
            raw = voices.get(voice)
            for code in content.safety.regions:
                text = "\n".join(all_lines(raw, code))
                row = _row(content, name, voice, text, facts, sources, region=code)
                row.lines = max(len(lines_for(raw, Reader(r, a, code))) for r, a in READERS)
                if row.lines > limit:
                    row.problems.append(f"{row.lines} lines for some reader, more than {limit}")
                said = [p for p in forbidden if p.lower() in row.text.lower()]
                if said:
                    row.problems.append(f"says {said[0]!r}, which this family forbids")
                if voice in PLAIN_VOICES and not SAFETY_WORDS[0] <= row.words <= SAFETY_WORDS[1]:
                    row.problems.append(
                        f"{row.words} words, not {SAFETY_WORDS[0]}-{SAFETY_WORDS[1]}"
                    )
                rows.append(row)
    return rows


def correction_problems(content: Content) -> list[str]:
    """The clinical corrections of the review, each checked on its answer's text."""
    problems: list[str] = []
    for rule in CORRECTIONS:
        answer = content.answers.get(rule.answer)
        if answer is None:
            problems.append(f"{rule.item}: no answer {rule.answer!r}")
            continue
        for voice in rule.voices:
            text = "\n".join(all_lines(answer.voices.get(voice)))
            flags = re.IGNORECASE | re.MULTILINE | re.DOTALL
            if rule.must and not re.search(rule.must, text, flags):
                problems.append(f"{rule.item}: {rule.answer} ({voice}) lacks /{rule.must}/")
            if rule.never and re.search(rule.never, text, re.IGNORECASE | re.MULTILINE):
                problems.append(f"{rule.item}: {rule.answer} ({voice}) has /{rule.never}/")
    return problems


def _medians(rows: list[Row]) -> tuple[float, float]:
    return (
        statistics.median(r.grade for r in rows),
        statistics.median(r.dale_chall for r in rows),
    )


def _plain(rows: list[Row], safety: bool) -> list[Row]:
    return [r for r in rows if r.voice in PLAIN_VOICES and r.safety == safety
            and not r.intent.endswith((".also", ".if_happening_now"))]  # fmt: skip


def summary_problems(content: Content, rows: list[Row]) -> list[str]:
    problems: list[str] = []
    missing = sorted(REQUIRED_ANSWERS - content.answers.keys())
    if missing:
        problems.append(f"required answers missing: {', '.join(missing)}")
    for label, safety in (("answers", False), ("safety replies", True)):
        plain = _plain(rows, safety)
        if not plain:
            continue
        grade, dale = _medians(plain)
        if grade > MAX_MEDIAN_GRADE:
            problems.append(f"{label}: median grade {grade} over {MAX_MEDIAN_GRADE}")
        if dale > MAX_MEDIAN_DALE_CHALL:
            problems.append(f"{label}: median Dale-Chall {dale} over {MAX_MEDIAN_DALE_CHALL}")
    problems.extend(correction_problems(content))
    return problems


def clinical_checks(content: Content) -> list[str]:
    """Every number or threshold that needs a clinical check before release."""
    checks = [f"region {code}: {r.check}" for code, r in content.safety.regions.items()]
    checks += [f"{f.id}: {f.check}" for f in content.facts.values() if f.check]
    return checks


def markdown(content: Content, rows: list[Row]) -> str:
    out = [
        "| text | voice | region | FK grade | Dale-Chall | words | lines | sources (not primary) "
        "| status | problems |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines = str(r.lines) if r.safety else ""
        out.append(
            f"| {r.intent} | {r.voice} | {r.region} | {r.grade:.1f} | {r.dale_chall:.2f} | "
            f"{r.words} | {lines} | {len(r.sources)} ({len(r.not_primary)}) | {r.status} | "
            f"{'; '.join(r.problems) or 'ok'} |"
        )
    out.append("")
    for label, safety in (("Answers", False), ("Safety replies", True)):
        plain = _plain(rows, safety)
        grade, dale = _medians(plain)
        out.append(
            f"{label}, patient and caregiver texts: {len(plain)}; median FK grade {grade:.1f}; "
            f"median New Dale-Chall {dale:.2f}; highest FK grade {max(r.grade for r in plain):.1f}."
        )
    cited = sorted({s for r in rows for s in r.not_primary})
    out.append("")
    out.append(
        f"Sources cited that are not primary (copies, secondary, wikis): {', '.join(cited)}."
    )
    out.append("")
    out.append("Needs a clinical check before release:")
    out.extend(f"- {line}" for line in clinical_checks(content))
    return "\n".join(out)


def main(as_json: bool = False) -> int:
    from bot.reply.content import load_content

    content = load_content()
    rows = build_rows(content)
    problems = summary_problems(content, rows)
    if as_json:
        print(json.dumps({"rows": [asdict(r) for r in rows],
                          "clinical_checks": clinical_checks(content)},
                         ensure_ascii=False, indent=1))  # fmt: skip
    else:
        print(markdown(content, rows))
    for r in rows:
        if r.problems:
            where = f"{r.intent} ({r.voice}{', ' + r.region if r.region else ''})"
            problems.append(f"{where}: {'; '.join(r.problems)}")
    if problems:
        print("\n".join(f"content check: {p}" for p in problems), file=sys.stderr)
        return 1
    return 0
