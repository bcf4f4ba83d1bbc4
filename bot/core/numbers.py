"""Numbers read as values: temperatures, blood pressure, doses counted, measuring slips, ages.

Triage's word rules see "39.2" or "190/110" as strings; this module reads them as quantities
and names what they mean ("a high temperature", "a blood pressure well above usual", "several
doses at once", "ten times the dose", "a young child"). Each finding is a span of the
normalised text under a concept name of `intents/rules/triage.yaml`, so negation, history and
hypotheticals apply to it exactly as to words. The limits are the contract's (39 °C / 102 °F);
this module holds no advice and never decides a level.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# The concept names this module produces (triage.yaml may use them like any concept).
CONCEPTS = (
    "number_high_fever",  # 39 °C / 102 °F or more
    "number_fever",  # 38 °C / 100.4 °F or more
    "number_high_bp",  # systolic well above usual (or 150 and over)
    "number_many_doses",  # several tablets or doses, or days' worth, taken at once
    "number_measuring_slip",  # several times the dose by volume or strength ("5 ml instead of 0.5")
    "number_double",  # about twice the dose ("20 mg instead of 10")
    "number_young_child",  # an age under 13
    "number_slow_breathing",  # respiratory rate of 10 or less
    "number_low_oxygen",  # oxygen saturation under 92%
    "number_low_gcs",  # Glasgow coma scale 12 or less
    "number_refill_overdue",  # a refill due on a day of the month that "today" is past
    "number_refill_at_risk",  # the clinic's first date comes after the pump's alarm date
)

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "a couple": 2, "couple": 2, "a few": 3, "few": 3, "several": 4, "half a": 0.5,
    "half": 0.5, "a dozen": 12, "dozen": 12,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip

_NUMBER_WORDS = "|".join(sorted([*_UNITS, *_TENS, "hundred"], key=len, reverse=True))
_WORDY = re.compile(
    rf"\b(?:(?:a|one) hundred(?: and)? )?(?:(?:{'|'.join(_TENS)})(?: |-)?)?"
    rf"(?:{'|'.join(sorted(_UNITS, key=len, reverse=True))})?(?: point (?:\w+))?\b"
)
_NUM = r"(\d+(?:\.\d+)?)"
_SPOKEN_YEAR = re.compile(
    r"\b(?:nineteen|twenty) (?:oh \w+|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)\b"
)


def _value(text: str) -> float | None:
    """A number written in digits or words ("39.5", "thirty nine point five", "a hundred and
    two"), or None."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    words = text.replace("-", " ").split()
    if not words:
        return None
    total = 0.0
    seen = False
    i = 0
    if words[:2] in (["a", "hundred"], ["one", "hundred"]):
        total, seen, i = 100.0, True, 2
        if i < len(words) and words[i] == "and":
            i += 1
    while i < len(words):
        w = words[i]
        if w in _TENS:
            total += _TENS[w]
        elif w in _UNITS and w not in ("a", "few"):
            total += _UNITS[w]
        elif w == "point" and i + 1 < len(words):
            decimal = _UNITS.get(words[i + 1]) if not words[i + 1].isdigit() else int(words[i + 1])
            if decimal is None:
                break
            total += float(f"0.{int(decimal)}")
            i += 1
        else:
            return None
        seen = True
        i += 1
    return total if seen else None


@dataclass(frozen=True)
class Finding:
    concept: str
    start: int
    end: int


# A number (digits or words) as a regex group.
_N = rf"(\d+(?:\.\d+)?|(?:(?:a|one) hundred (?:and )?)?(?:{_NUMBER_WORDS})(?:[ -](?:{_NUMBER_WORDS}))?(?: point \w+)?)"  # noqa: E501

_TEMPERATURE = [
    # "temp 39.2", "temperature of 102", "fever 38 , 5", "febrile 39", "t 39.4", "pyrexial 38.6"
    re.compile(
        rf"\b(?:temperature|temp|temps|fever|febrile|pyrexial|t|spiking|spiked|hot|thermometer|"
        rf"reading|reads|says|measured|running)"
        rf"(?: \w+){{0,3}}? {_N}(?: , (\d))?(?: ?(?:degrees|c|f|celsius|fahrenheit)\b)?"
    ),
    # "she's 39.6", "he is 102.4": a number with one decimal in a fever's range is a temperature
    re.compile(
        r"\b(?:is|s|was|at|hit|hits|reached|up to|now|of|reading|and|about|around|am|m|are|re)\b "
        r"(3[5-9]\.\d|4[0-3]\.\d|9[5-9]\.\d|10[0-9]\.\d)\b()()"
    ),
    # a bare "39.2" or "102.5" standing alone between commas, or at a sentence's start or end
    re.compile(r"(?:^|, |\. |: )(3[5-9]\.\d|4[0-3]\.\d|9[5-9]\.\d|10[0-9]\.\d)(?= ,| \.|$)()()"),
    # "39.5 c", "102.4f", "38 , 5 degrees", "a hundred and two degrees"
    re.compile(rf"\b{_N}(?: , (\d))? ?(c|f|celsius|fahrenheit|degrees)\b"),
]
_BP = [
    re.compile(r"\b(\d{2,3}) ?(?:/|over) ?(\d{2,3})\b"),
    re.compile(r"\b(?:systolic|sbp|sys)(?: \w+){0,2}? (\d{2,3})\b"),
]
_USUAL = re.compile(r"\b(?:usual|usually|normal|normally|baseline|base line|runs|typically)\b")
# "10 mg tablets" names a strength, not a count.
_NOT_A_STRENGTH = r"(?! ?(?:mg|ml|mls|mcg|g|milligrams?|micrograms?|millilitres?|milliliters?)\b)"
_DOSE_UNIT = (
    r"(?:tablets?|tabs?|pills?|capsules?|doses?|sachets?|caps|baclofen|"
    r"of (?:them|those|these)|"
    r"of (?:his|her|my|the|their) (?:\w+ )?(?:tablets?|pills?|baclofen|meds))"
)
_MANY = [
    # "took 4 tablets", "swallowed six of his pills", "had 3 doses"
    re.compile(
        rf"\b(?:took|taken|swallowed|ate|eaten|had|has had|given|gave|ingested|"
        rf"downed|chewed|necked|popped|consumed) (?:\w+ ){{0,3}}?{_N}{_NOT_A_STRENGTH} "
        rf"(?:\w+ ){{0,3}}?{_DOSE_UNIT}\b"
    ),
    # "4 tablets at once", "6 pills in one go"
    re.compile(
        rf"\b{_N}{_NOT_A_STRENGTH} (?:\w+ ){{0,3}}?{_DOSE_UNIT} (?:\w+ ){{0,2}}(?:at once|"
        rf"at the same time|"
        rf"in one go|together|all at once|in one hit|within an hour|in an hour|in (?:\d+|a|an|one|"
        rf"two|three|half an) (?:hrs?|hours?|h|minutes|mins))\b"
    ),
    # "took extra, like 6 extra", "2 extra last night": doses beyond the usual one
    re.compile(
        rf"\b{_N}{_NOT_A_STRENGTH} extra(?= ?(?:[,.;!?]|$|{_DOSE_UNIT}|(?:and|just|but|last|"
        rf"tonight|today|this|by|in|at|on|so|to|now|yesterday|earlier)\b))( doses)?"
    ),
    # "a week's worth", "3 days of tablets", "two days doses at once"
    re.compile(
        rf"\b(?:a|one|{_N}) (?:days?|weeks?|months?) (?:worth|supply|of (?:\w+ ){{0,2}}"
        rf"(?:tablets|doses|pills|medicine|baclofen)|doses|tablets|pills)\b"
    ),
]
_REGIMEN = re.compile(r"\b(?:a|per|each|every) (?:day|night|morning|evening)\b|\bdaily\b|\btimes\b")
# A number of days, hours or times is not a dose ("taper over 5 days instead of 2 weeks").
_NOT_A_DOSE = r"(?! ?(?:days?|weeks?|wks?|hours?|hrs?|minutes?|mins?|months?|years?|times|am|pm)\b)"
# An amount's unit, when written ("5 ml", "10mg", "2 tablets"); one group.
_AMOUNT_UNIT = (
    r"(ml|mls|mg|milligrams?|millilitres?|milliliters?|cc|mcg|micrograms?|tsp|teaspoons?|"
    r"tablespoons?|tablets?|tabs?)?"
)
_INSTEAD = re.compile(
    rf"\b{_N} ?{_AMOUNT_UNIT}{_NOT_A_DOSE} "
    rf"(?:(?:[\w,/]+ ){{0,4}}?)(?:instead of|rather than|not|when it should be|when it should have "
    rf"been|should have been|should be|not the|when the dose is|but the dose is|dose is|"
    rf"prescribed|supposed to be|is supposed|supposed|meant to be|was meant to be|"
    rf"meant to give|was meant to give|supposed to give|should have given|meant to take) "
    rf"(?:the |a |his |her |my )?(?:\w+ ){{0,2}}?{_N} ?{_AMOUNT_UNIT}\b{_NOT_A_DOSE}"
)
# The same slip told the other way round: "meant to give 1ml ... and gave 10ml".
_MEANT = re.compile(
    rf"\b(?:meant|supposed|was meant|was supposed|should have|wanted) to (?:give|take|draw up|draw|"
    rf"measure|have) (?:\w+ ){{0,2}}?{_N} ?{_AMOUNT_UNIT}{_NOT_A_DOSE} (?:[\w,]+ ){{0,8}}?"
    rf"(?:gave|given|took|taken|drew up|drawn up|drew|measured|had|pushed|put) "
    rf"(?:\w+ ){{0,2}}?{_N} ?{_AMOUNT_UNIT}\b{_NOT_A_DOSE}"
)
_TIMES = re.compile(
    r"\b(?:(\d+|two|three|four|five|six|seven|eight|nine|ten|twenty|hundred) ?(?:x|times)) "
    r"(?:(?:\w+ ){0,3}(?:the |his |her |my |their |a )?(?:usual |normal |right |prescribed |"
    r"correct )?(?:dose|amount|dosage)\b|(?:my|his|her|their|the) (?:normal|usual)\b|"
    r"what (?:he|she|they|i|you) (?:usually|normally) "
    r"(?:has|have|gets|get|takes|take)\b)"
)
_AGE = [
    re.compile(r"\b(\d{1,2}) ?(?:yo|y o|yrs?|years?|year|y)(?: old)?\b"),
    re.compile(r"\b(\d{1,2}) ?(?:months?|mths?|mo|m o)(?: old)?\b"),
    # days and weeks are a duration ("stopped 5 days ago") unless said of age
    re.compile(r"\b(\d{1,2}) ?(?:weeks?|wks?|days?)(?: |-)old\b"),
    re.compile(
        r"\b(?:baby|newborn|infant|bub|bubs|baba)(?: is| of)? (\d{1,2}) ?(?:weeks?|wks?|days?)\b"
    ),
    re.compile(r"\baged? (\d{1,2})\b"),
    re.compile(r"\b(\d{1,2}) ?(?:yo|y o)\b"),
    # "he is 5, not on any meds", "my son (3) ...": a bare small number after a child's pronoun
    re.compile(r"\b(?:he is|she is|hes|shes|he s|she s) (\d{1,2})(?= ,| \.| and|$)"),
    # "our Alfie (2) might have had one": a name, the age in brackets, then what happened
    re.compile(
        r"\b(?:our|my|his|her|their) [a-z]+ (\d{1,2})(?= (?:might|may|must|has|had|have|is|was|"
        r"just|got|swallowed|ate|took|drank|chewed|seems|looks|found|grabbed|licked|sucked)\b)"
    ),
]
_AGE_WORDS = re.compile(
    rf"\b({_NUMBER_WORDS}) (?:year|years|yr|yrs)(?: old|-old)\b|\b({_NUMBER_WORDS}) "
    r"(?:month|months|week|weeks) old\b"
)
_RATE = re.compile(r"\b(?:rr|resp rate|respiratory rate|resps|breaths?)(?: \w+){0,2}? (\d{1,2})\b")
_SATS = re.compile(r"\b(?:sats|spo2|o2 sats|oxygen|saturation|saturations)(?: \w+){0,2}? (\d{2})\b")
_GCS = re.compile(r"\bgcs(?: \w+){0,2}? (\d{1,2})\b")


def _temperature_c(value: float, unit: str | None) -> float | None:
    """The temperature in °C, guessing the scale from the number when no unit is given."""
    if unit in ("f", "fahrenheit") or ((unit is None or unit == "degrees") and 95 <= value <= 110):
        return (value - 32) * 5 / 9
    if 34 <= value <= 43:
        return value
    return None


def _units_ml(unit: str | None) -> float:
    """How many ml one unit is (0 for mass and tablets: compared only with the same unit)."""
    return {"tsp": 5.0, "teaspoon": 5.0, "teaspoons": 5.0, "tablespoon": 15.0,
            "tablespoons": 15.0}.get(unit or "", 1.0)  # fmt: skip


def _same_kind(a: str | None, b: str | None) -> bool:
    volume = {"ml", "mls", "millilitre", "millilitres", "milliliter", "milliliters", "cc", "tsp",
              "teaspoon", "teaspoons", "tablespoon", "tablespoons"}  # fmt: skip
    mass = {"mg", "milligram", "milligrams"}
    micro = {"mcg", "microgram", "micrograms"}
    tablets = {"tablet", "tablets", "tab", "tabs"}
    for kind in (volume, mass, micro, tablets):
        if (a in kind or a is None) and (b in kind or b is None):
            return True
    return False


def read_numbers(text: str) -> Iterator[Finding]:
    """Every finding in normalised text (lower case, words separated by single spaces)."""
    if not any(ch.isdigit() for ch in text) and not _WORDY.search(text):
        return
    # A year said aloud ("in twenty nineteen") is not nineteen of anything: blanked, offsets kept.
    text = _SPOKEN_YEAR.sub(lambda m: "~" * len(m.group()), text)
    readers = (
        _temperatures,
        _blood_pressures,
        _dose_counts,
        _measuring,
        _strengths,
        _ages,
        _observations,
        _refill_dates,
    )
    for reader in readers:
        yield from reader(text)


def _temperatures(text: str) -> Iterator[Finding]:
    for pattern in _TEMPERATURE:
        for m in pattern.finditer(text):
            value = _value(m.group(1))
            if value is None:
                continue
            if m.group(2):
                value = float(f"{int(value)}.{m.group(2)}")
            unit = m.group(3) if m.lastindex and m.lastindex >= 3 else None
            celsius = _temperature_c(value, unit)
            if celsius is None:
                continue
            if celsius >= 39.0 - 1e-9 or (value >= 102 and celsius < 44):
                yield Finding("number_high_fever", m.start(), m.end())
            if celsius >= 38.0:
                yield Finding("number_fever", m.start(), m.end())


def _blood_pressures(text: str) -> Iterator[Finding]:
    for m in _BP[0].finditer(text):
        systolic, diastolic = int(m.group(1)), int(m.group(2))
        if not (60 <= systolic <= 300 and 30 <= diastolic <= 200 and systolic > diastolic):
            continue
        if _USUAL.search(text[max(0, m.start() - 25) : m.start()]):
            continue  # this reading is the usual one
        usual = _usual_systolic(text, m.end())
        if systolic >= 150 or (usual is not None and systolic >= usual + 30):
            yield Finding("number_high_bp", m.start(), m.end())
    for m in _BP[1].finditer(text):
        if int(m.group(1)) >= 150:
            yield Finding("number_high_bp", m.start(), m.end())


_TAKEN_BEFORE = re.compile(
    r"\b(?:took|taken|taking|swallowed|ate|eaten|had|has had|given|gave|giving|downed|necked|"
    r"popped|chewed|emptied|got into|gulped|drank|swallow|take|give)\b"
)
_TAKEN_AFTER = re.compile(
    r"\b(?:at once|in one go|together|all at once|by mistake|accidentally|in error|at the same "
    r"time|gone|missing|taken|swallowed)\b"
)


def _dose_counts(text: str) -> Iterator[Finding]:
    for pattern in _MANY:
        for m in pattern.finditer(text):
            count = _value(m.group(1)) if m.group(1) else 1.0
            span = m.group(0)
            days = re.search(r"\b(days?|weeks?|months?)\b", span)
            if days and re.search(r"worth|supply|doses|tablets|pills|of", span):
                longer = days.group(1).startswith(("week", "month"))
                # A supply is not a dose ("flying with 6 weeks of tablets"): only when taken.
                taken = _TAKEN_BEFORE.search(
                    text[max(0, m.start() - 60) : m.start()].split(".")[-1]
                )
                taken = taken or _TAKEN_AFTER.search(text[m.end() : m.end() + 40].split(".")[0])
                if taken and (count or 0) >= 1 and (longer or (count or 0) >= 2):
                    yield Finding("number_many_doses", m.start(), m.end())
                continue
            after = text[m.end() : m.end() + 24]
            if count is None or count > 500 or _REGIMEN.search(span + after):
                continue
            extra = re.search(r"\bextra\b", span) is not None
            if extra:
                count += 1  # "2 extra": three doses in all
            doses = extra or re.search(r"\b(doses?|sachets?)\b", span) is not None
            if count >= (3 if doses else 4):
                yield Finding("number_many_doses", m.start(), m.end())
            elif count >= 2 and doses:
                yield Finding("number_double", m.start(), m.end())


def _measuring(text: str) -> Iterator[Finding]:
    pairs = [(m, m.group(1), m.group(2), m.group(3), m.group(4)) for m in _INSTEAD.finditer(text)]
    # "meant to give 1ml ... and gave 10ml": the same slip told the other way round
    pairs += [(m, m.group(3), m.group(4), m.group(1), m.group(2)) for m in _MEANT.finditer(text)]
    for m, given_text, unit_a, meant_text, unit_b in pairs:
        given, meant = _value(given_text), _value(meant_text)
        if given is None or meant is None or meant <= 0 or not _same_kind(unit_a, unit_b):
            continue
        ratio = given * _units_ml(unit_a) / (meant * _units_ml(unit_b))
        if ratio >= 3:
            yield Finding("number_measuring_slip", m.start(), m.end())
        elif ratio >= 1.5:
            yield Finding("number_double", m.start(), m.end())
    for m in _TIMES.finditer(text):
        times = _value(m.group(1)) or 0
        if times >= 3:
            yield Finding("number_measuring_slip", m.start(), m.end())
        elif times >= 2:
            yield Finding("number_double", m.start(), m.end())


# A liquid's strength: "25mg/5ml", "5 mg in 5 ml", "1 mg per ml".
_STRENGTH = re.compile(
    r"\b(\d+(?:\.\d+)?) ?mg ?(?:/|per|in|each|every|for) ?(?:(\d+(?:\.\d+)?) ?)?(?:ml|mls)\b"
)
# Two strengths only count as a mix-up when the message says one was given or switched.
_GIVEN_OR_SWITCHED = re.compile(
    r"\b(?:given|gave|giving|give|took|taken|taking|had|drew|drawn|drawing|measured|"
    r"switched|changed|swapped|new|different|instead|should|supposed|meant|wrong)\b"
)


def _strengths(text: str) -> Iterator[Finding]:
    """Two liquid strengths in one message, one several times the other, with something
    given or switched ("the old one was 5mg in 5ml ... the new says 25mg per 5ml"): the same
    volume of the stronger one is several times the dose."""
    found = [
        (float(m.group(1)) / float(m.group(2) or 1), m.start(), m.end())
        for m in _STRENGTH.finditer(text)
        if float(m.group(2) or 1) > 0
    ]
    if len(found) < 2 or not _GIVEN_OR_SWITCHED.search(text):
        return
    low, high = min(f[0] for f in found), max(f[0] for f in found)
    if low <= 0:
        return
    ratio = high / low
    strongest = max(found)
    if ratio >= 3:
        yield Finding("number_measuring_slip", strongest[1], strongest[2])
    elif ratio >= 1.5:
        yield Finding("number_double", strongest[1], strongest[2])


_DURATION_WORDS = frozenset(
    [
        "every",
        "each",
        "per",
        "for",
        "in",
        "after",
        "within",
        "about",
        "over",
        "last",
        "next",
        "past",
        "than",
        "around",
        "almost",
        "nearly",
        "lasts",
        "lasting",
        "took",
        "takes",
    ]
)


def _ages(text: str) -> Iterator[Finding]:
    for pattern in _AGE:
        for m in pattern.finditer(text):
            years = int(m.group(1))
            if re.search(r"month|mth|mo\b|m o|week|wk|day", m.group(0)):
                years = 0
            later = text[m.end() : m.end() + 10]
            before = text[max(0, m.start() - 12) : m.start()].split()[-1:]
            if before and before[0] in _DURATION_WORDS and "old" not in m.group(0):
                continue  # "every 6 months", "for 2 weeks": a duration, not an age
            if years < 13 and not re.search(r"\b(ago|since|for|later|after|pregnant)\b", later):
                yield Finding("number_young_child", m.start(), m.end())
    for m in _AGE_WORDS.finditer(text):
        value = _value(m.group(1) or m.group(2) or "")
        if value is not None and value < 13:
            yield Finding("number_young_child", m.start(), m.end())


def _observations(text: str) -> Iterator[Finding]:
    for m in _RATE.finditer(text):
        if int(m.group(1)) <= 10:
            yield Finding("number_slow_breathing", m.start(), m.end())
    for m in _SATS.finditer(text):
        if 50 <= int(m.group(1)) < 92:
            yield Finding("number_low_oxygen", m.start(), m.end())
    for m in _GCS.finditer(text):
        if 3 <= int(m.group(1)) <= 12:
            yield Finding("number_low_gcs", m.start(), m.end())


_DAY = r"(\d{1,2})(?:st|nd|rd|th)?\b"
_REFILL_DAY = re.compile(
    rf"\b(?:refill|appointment|appt)(?: \w+){{0,6}}? (?:on|was|for|is|due)(?: the)? {_DAY}"
)
_TODAY = re.compile(rf"\b(?:today is|today s|it is now|now it is|it is|its)(?: the)? {_DAY}")
_ALARM_DAY = re.compile(
    rf"\balarm(?: date (?:the )?{_DAY}|"  # "alarm date 16th"
    rf"(?: date)?(?: \w+){{0,6}}? (?:is|on|for|of|says)(?: the)? {_DAY})"
)
_CLINIC_DAY = re.compile(
    rf"\b(?:until|till|not before|earliest|soonest|sooner|first|next|only|slot|booked for|"
    rf"book us for|see (?:him|her|us|me|them))(?: \w+){{0,4}}? (?:the |on the |is the |on )?{_DAY}"
)


_WEEKDAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_ALARM_WEEKDAY = re.compile(
    rf"\balarm(?: date)?(?: \w+){{0,4}}? (?:is|on|for|says|of)(?: this| on| the)? {_WEEKDAY}\b"
)
_CLINIC_NEXT_WEEK = re.compile(
    rf"\b(?:earliest|soonest|first|offered|offer|only|slot|can do|can only do|booked)"
    rf"(?: \w+){{0,4}}? next {_WEEKDAY}\b|\bnext {_WEEKDAY}(?: \w+){{0,3}}? "
    rf"(?:earliest|soonest|first|slot|appointment|refill)"
)


def _refill_dates(text: str) -> Iterator[Finding]:
    """Two days of the month compared: a refill due on the 3rd when "today is the 9th", or the
    clinic's first slot on the 20th when the alarm date is the 16th (same month assumed)."""
    if "refill" not in text and "alarm" not in text:
        return
    today = _TODAY.search(text)
    for m in _REFILL_DAY.finditer(text):
        due = int(m.group(1))
        if today and 1 <= due < int(today.group(1)) <= 31:
            yield Finding("number_refill_overdue", m.start(), m.end())
    weekday = _ALARM_WEEKDAY.search(text)
    if weekday and "next " + weekday.group(1) not in text:
        # The alarm date is a day of this week; the clinic's first slot is "next <day>".
        for m in _CLINIC_NEXT_WEEK.finditer(text):
            yield Finding("number_refill_at_risk", m.start(), m.end())
    alarm = _ALARM_DAY.search(text)
    if alarm:
        alarm_day = int(alarm.group(1) or alarm.group(2))
        for m in _CLINIC_DAY.finditer(text):
            if 1 <= alarm_day < int(m.group(1)) <= 31:
                yield Finding("number_refill_at_risk", m.start(), m.end())


def _usual_systolic(text: str, after: int) -> int | None:
    """A 'usual' blood pressure given near a reading ("190/110, usually 100/60")."""
    window = text[max(0, after - 80) : after + 60]
    m = re.search(
        r"(?:usual|usually|normal|normally|baseline|runs)(?: \w+){0,3}? (\d{2,3})", window
    )
    return int(m.group(1)) if m else None
