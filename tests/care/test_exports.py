"""Exports a clinic can use (issue 12): the emergency card, the history PDF and the taper chart
are drawn in DejaVu Sans, so a name with accents is drawn as typed (an emoji, which the font does
not have, is left out); the card has the emergency number of the person's region, the pump line
and the day; the PDF has every row of a 100-row history over as many pages as it needs, says
who was told (or that nobody was linked), and holds the emergencies, the snoozes and the taper
plan; the chart shows mg per day; the calendar is stamped now. Files go to the person's folder
(dated, never overwritten) in the local chat, and never to disk on Telegram.

Each picture is also written to tests/care/rendered/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.app import App, build
from bot.care.flows import CareState, Who
from bot.clock import FakeClock
from bot.conversation.dialogue import Dialogue
from bot.conversation.sessions import Session
from bot.doors.console import Outbox
from bot.reminders.exports import calendar, daily_amounts, taper_chart
from bot.reminders.plans import PlanInfo, RefillPlan, TaperPlan, TaperStep
from bot.reply.fonts import can_draw, drawable
from bot.settings import load_settings
from bot.storage.models import Acknowledgement, AuditEvent, Delivery, Occurrence, Plan
from bot.storage.models import Person as PersonRow
from tests.care.test_forgotten import Typist

NAME = "Maria José Núñez-López"
TYPED = f"{NAME} 🙂"  # as she typed it, with an emoji
KEY = "console:local"
RENDERED = Path(__file__).resolve().parent / "rendered"
UTC = dt.UTC


def keep(name: str, data: bytes) -> Path:
    RENDERED.mkdir(exist_ok=True)
    path = RENDERED / name
    path.write_bytes(data)
    return path


@pytest.fixture
def app(db_url: str, clock: FakeClock, dialogue: Dialogue, data_dir: Path) -> Iterator[App]:
    settings = load_settings(_env_file=None, database_url=db_url, data_dir=data_dir)
    built = build(settings, Outbox(), clock=clock, dialogue=dialogue)
    yield built
    built.store.close()


def uk_pump(app: App, key: str = KEY) -> None:
    app.companion.sessions.save(
        key,
        Session(consent=True, role="patient", route="pump", region="UK", timezone="Europe/London"),
    )


def who(app: App, key: str = KEY) -> Who:
    return Who(key, TYPED, "patient", "999", True, "pump", "Europe/London")


# -- the font ------------------------------------------------------------------------------------


def test_every_letter_of_the_name_is_drawn_and_the_emoji_is_left_out() -> None:
    assert all(can_draw(c) for c in NAME)
    assert not can_draw("🙂")
    assert drawable(TYPED) == NAME
    assert drawable("Zoë 👨‍👩‍👧 O'Brien  ✓") == "Zoë O'Brien ✓"
    assert drawable("José") == "José"  # an accent typed as two code points, drawn as one


# -- the emergency card --------------------------------------------------------------------------


def test_the_card_has_the_number_of_the_region_the_pump_line_and_the_day(
    app: App, clock: FakeClock
) -> None:
    uk_pump(app)
    flows = app.care.flows
    flows.service.set_card_field(KEY, "name", TYPED)
    flows.service.set_card_field(KEY, "clinic", "+44 20 7946 0000")
    turn = flows.card(who(app), CareState(), "")
    text = turn.messages[0].text
    assert "In an emergency, call 999." in text  # the UK, not the bot's default 911
    assert "Has a baclofen pump. Call the pump clinic at once" in text
    assert "Pump clinic phone: +44 20 7946 0000" in text
    assert "Card made on 1 March 2026." in text
    assert f"Name: {TYPED}" in text  # the text message keeps the emoji
    image = turn.messages[1].file
    assert image is not None and image.name == "emergency-card-2026-03-01.png"
    picture = Image.open(io.BytesIO(image.data))
    assert picture.width == 900 and picture.height > 500
    pixels = np.asarray(picture.convert("RGB")).reshape(-1, 3)
    reds = int((pixels == (180, 20, 30)).all(axis=1).sum())
    assert reds > 20_000  # the title bar and the emergency line
    keep("card.png", image.data)


def test_the_caregivers_note_is_shown_to_the_patient_not_to_the_caregiver(app: App) -> None:
    uk_pump(app)
    uk_pump(app, "console:ann")
    service = app.care.flows.service
    note = "Your linked caregivers can see this card."
    assert note not in [m.text for m in app.care.flows.card(who(app), CareState(), "").messages]
    app.store.link_caregiver(KEY, "console:ann", app.clock.now())
    patient = [m.text for m in app.care.flows.card(who(app), CareState(), "").messages]
    carer = app.care.flows.card(who(app, "console:ann"), CareState(), "").messages
    assert note in patient
    assert note not in [m.text for m in carer]
    assert any(m.text.startswith("Emergency card for") for m in carer)
    assert service.caregiver_names(KEY)


# -- the history PDF -----------------------------------------------------------------------------


def hundred_rows(app: App, clock: FakeClock) -> list[dt.datetime]:
    """A taper plan, and 100 events: alerts nobody else got, emergencies, snoozes."""
    start = clock.now()
    taper = TaperPlan(
        (
            TaperStep("20 mg", (dt.time(8), dt.time(14), dt.time(20)), dt.date(2026, 3, 1), 7),
            TaperStep("10 mg", (dt.time(8), dt.time(20)), dt.date(2026, 3, 8), 7),
        )
    )
    moments = [start - dt.timedelta(hours=3 * n) for n in range(100)]
    with app.store.tx() as db:
        person = app.store.person(db, KEY, start)
        assert person is not None
        plan = Plan(person_id=person.id, kind="taper", status="active", data=taper.to_data(),
                    created_at=start, updated_at=start)  # fmt: skip
        db.add(plan)
        db.flush()
        for n, at in enumerate(moments):
            if n % 3 == 0:
                occ = Occurrence(plan_id=plan.id, person_id=person.id, kind="taper_caregiver",
                                 group_key=f"d{n}", due_at=at, level=3, priority=30,
                                 status="sent", late=False, payload={})  # fmt: skip
                db.add(occ)
                db.flush()
                db.add(Delivery(occurrence_id=occ.id, person_id=person.id, level=3,
                                recipient=KEY, state="sent", attempts=1, claimed_at=at,
                                sent_at=at))  # fmt: skip
            elif n % 3 == 1:
                db.add(AuditEvent(at=at, actor=KEY, kind="safety_alert", person_id=person.id,
                                  detail={"caregivers": 0}))  # fmt: skip
            else:
                db.add(Acknowledgement(person_id=person.id, plan_id=plan.id, group_key=f"d{n}",
                                       action="snooze", by=KEY, at=at))  # fmt: skip
    return moments


def test_the_history_pdf_has_every_row_of_a_hundred_over_pages_and_says_what_happened(
    app: App, clock: FakeClock
) -> None:
    import pypdfium2 as pdfium

    uk_pump(app)
    app.care.flows.service.set_name(KEY, TYPED)
    moments = hundred_rows(app, clock)
    turn = app.care.flows.history_press(who(app), CareState(), "pdf:0")
    file = turn.messages[0].file
    assert file is not None and file.name == "history-2026-03-01.pdf"
    keep("history.pdf", file.data)
    pdf = pdfium.PdfDocument(file.data)
    pages = len(pdf)
    text = ""
    try:
        for number in range(pages):
            page = pdf[number]
            text += page.get_textpage().get_text_range() + "\n"
            if number < 2 or number == pages - 1:
                out = io.BytesIO()
                page.render(scale=1.4).to_pil().save(out, format="PNG")
                keep(f"history-page-{number + 1}.png", out.getvalue())
            page.close()
    finally:
        pdf.close()
    assert pages >= 3
    flat = " ".join(text.split())
    zone = dt.timezone(dt.timedelta(0))  # London is on GMT on these days
    for at in moments:  # every row, none left off
        assert at.astimezone(zone).strftime("%Y-%m-%d %H:%M") in flat
    assert f'history for "{NAME}"' in flat  # accents kept, the emoji left out, quoted as given
    assert "caregivers told" not in flat
    assert flat.count(f'Sent to "{NAME}".') == 34  # the alerts, to her alone
    assert flat.count("A message sounded like an emergency.") == 33
    assert flat.count("No caregiver was linked, so no one else was told.") == 34 + 33
    assert flat.count("Reminder snoozed") == 33
    assert "Step 1: 20 mg, at 08:00, 14:00, 20:00, from 2026-03-01 to 2026-03-07" in flat
    assert "Step 2: 10 mg, at 08:00, 20:00, from 2026-03-08 to 2026-03-14" in flat
    assert f"Page {pages} of {pages}" in flat
    assert "... and" not in flat


# -- the taper chart and the calendar ------------------------------------------------------------


def test_the_taper_chart_shows_mg_per_day(app: App) -> None:
    taper = TaperPlan(
        (
            TaperStep("20 mg", (dt.time(8), dt.time(14), dt.time(20)), dt.date(2026, 3, 1), 7),
            TaperStep("10mg", (dt.time(8), dt.time(20)), dt.date(2026, 3, 8), 7),
            TaperStep("5 mg", (dt.time(20),), dt.date(2026, 3, 15), 7),
        )
    )
    words = app.dialogue.reminder_flows.words
    assert daily_amounts(taper) == ([60.0, 20.0, 5.0], "mg")  # not 20 -> 10 -> 5 per dose
    png = taper_chart(taper, words)
    assert Image.open(io.BytesIO(png)).size[0] > 600
    keep("taper-chart.png", png)
    mixed = TaperPlan((TaperStep("1 tablet", (dt.time(8),), dt.date(2026, 3, 1), 3),
                       TaperStep("5 ml", (dt.time(8),), dt.date(2026, 3, 4), 3)))  # fmt: skip
    assert daily_amounts(mixed) is None  # mixed units: drawn as doses per day instead
    assert words.text("chart_y_label", unit="mg") == "mg per day"
    for typed in ("60 mg a day", "2 x 10 mg", "1/2 tablet"):  # never multiplied into a number
        worded = TaperPlan((TaperStep(typed, (dt.time(8), dt.time(20)), dt.date(2026, 3, 1), 3),))
        assert daily_amounts(worded) is None, typed


def test_the_calendar_is_stamped_with_the_injected_now(app: App, clock: FakeClock) -> None:
    from icalendar import Calendar

    refill = RefillPlan(dt.date(2026, 3, 20), dt.date(2026, 3, 26))
    plans = [PlanInfo(1, "refill", "active", refill.to_data())]
    clock.set(dt.datetime(2026, 3, 5, 10, 30, 15, tzinfo=UTC))
    cal = Calendar.from_ical(calendar(plans, "UTC", app.dialogue.reminder_flows.words, clock.now()))
    stamps = {e.decoded("dtstamp") for e in cal.walk("VEVENT")}
    assert stamps == {dt.datetime(2026, 3, 5, 10, 30, 15, tzinfo=UTC)}


# -- where the files go --------------------------------------------------------------------------


async def test_the_local_chat_keeps_files_in_the_persons_folder_dated_and_shows_the_path(
    app: App, data_dir: Path
) -> None:
    chat = Typist(app)
    await chat.type("/start")
    for label in ("I agree", "I take baclofen", "A pump", "UK (999)"):
        await chat.press(label)
    await chat.type("London")
    first = await chat.type("/card")
    second = await chat.type("/card")
    folder = app.files.folder(KEY)
    names = [p.name for p in app.files.files(KEY)]
    assert names == ["emergency-card-2026-03-01-2.png", "emergency-card-2026-03-01.png"]
    assert str(folder / "emergency-card-2026-03-01.png") in first
    assert str(folder / "emergency-card-2026-03-01-2.png") in second
    assert folder.parent == data_dir / "exports" and KEY not in str(folder)
    assert not list(Path.cwd().glob("emergency-card*.png"))
    with app.store.tx() as db:  # the person exists, with their region
        assert db.query(PersonRow).filter_by(key=KEY).one().region == "UK"
