"""`/delete_my_data` leaves no row behind, on the database, and linked people are told."""

from __future__ import annotations

from sqlalchemy import inspect, text

from bot.care.service import CareService
from bot.reply.messages import Notice
from bot.storage.store import Store
from tests.databases import rows_about

from .conftest import escalation, texts
from .test_linking import ANN, BOB, PAT, link


def forget(care: CareService, store: Store, key: str) -> list[Notice]:
    """What the companion does on /delete_my_data: who to tell, then the one deletion."""
    notices = care.farewells(key)
    store.delete_person(key)
    return notices


def everything(store: Store, key: str) -> dict[str, int]:
    return {k: v for k, v in rows_about(store, key).items() if v}


def fill(care: CareService, store: Store) -> None:
    """Pat with two caregivers, a plan and an alert taken, a shared checklist and a card."""
    link(care, ANN, "Ann")
    link(care, BOB, "Bob")
    first, *_ = escalation(store, PAT, care.clock.now())
    care.acknowledge(ANN, first, "on_it")
    record = care.save_checklist(
        ANN,
        {
            "outcome": "clinic_today",
            "reason": "pump_early",
            "route": "pump",
            "cause": "no",
            "signs": ["itching"],
        },
    )
    link_id = care.patients(ANN)[0].link_id
    care.share_checklist(ANN, record, link_id, {"patient": "p", "caregiver": "c"})
    care.save_checklist(
        PAT, {"outcome": "watch", "reason": "watch", "route": "pump", "cause": "no", "signs": []}
    )
    care.set_card_field(PAT, "prescriber", "555 0100")
    care.invite(PAT, "Pat")  # an open code too
    care.join("tg:77", "WRONG-CODE1", "Guess")


def test_a_patient_deleting_leaves_no_row_and_caregivers_are_told(
    care: CareService, store: Store
) -> None:
    fill(care, store)
    assert everything(store, PAT)  # there was something to delete
    notices = forget(care, store, PAT)
    assert sorted(n.to for n in notices) == [ANN, BOB]
    assert texts(notices, ANN) == ['"Pat" deleted their data, so your link with them has ended.']
    assert everything(store, PAT) == {}
    assert care.patients(ANN) == [] and care.patients(BOB) == []
    # No table holds the key anywhere, in any column (a raw scan of every table).
    with store.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                assert PAT not in " ".join(str(v) for v in row), (table, row)


def test_a_caregiver_deleting_ends_their_links_and_leaves_no_row(
    care: CareService, store: Store
) -> None:
    fill(care, store)
    notices = forget(care, store, ANN)
    assert texts(notices, PAT) == ['"Ann" deleted their data, so your link with them has ended.']
    assert everything(store, ANN) == {}
    assert [p.name for p in care.links(PAT)] == ['"Bob"']
    with store.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                assert ANN not in " ".join(str(v) for v in row), (table, row)


def test_deleting_someone_unknown_is_harmless(care: CareService, store: Store) -> None:
    assert forget(care, store, "tg:404") == []


def test_migrations_match_the_models(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.storage.models import Base

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ours = [d for d in diff if any(t in str(d) for t in ("care_", "checklist_", "card_"))]
    assert ours == []
