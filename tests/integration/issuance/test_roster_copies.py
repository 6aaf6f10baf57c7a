"""A roster_published batch is stored alike on SQLite and on PostgreSQL.

PostgreSQL stores a batch with one statement over column arrays, SQLite with
multi-row upserts; both must leave the same rows.
"""

import pytest
from sqlalchemy import select, update

from aixin.db import Database, migrate
from services.issuance import copies
from services.issuance.models import beneficiaries, townships

CAMPAIGN_ID = "411103-2022-12"
TOWN_A, TOWN_B = "411103101000", "411103102000"


def person(number: int, township: str = TOWN_A, **changes) -> dict:
    return {"beneficiary_id": f"b{number}", "name": f"张{number}",
            "masked_id": "411103********0011", "township_code": township,
            "township_name": "孟庙镇" if township == TOWN_A else "商桥镇",
            "village": f"村{number}" if number % 2 else None,
            "categories": ["rural_dibao", "tekun"] if number % 3 == 0 else ["tekun"],
            "support_mode": "dispersed", "institution": None, **changes}


def batch(*persons) -> dict:
    return {"campaign_id": CAMPAIGN_ID, "snapshot_id": "s1", "batch_no": 1,
            "batch_count": 1, "beneficiaries": list(persons)}


@pytest.fixture
def database(database_url_for):
    url = database_url_for("issuance")
    migrate("issuance", url)
    database = Database(url)
    yield database
    database.dispose()


def apply(database, data: dict) -> None:
    with database.transaction() as session:
        copies.apply_roster_published(session, data)


def stored(database) -> tuple[dict, dict]:
    with database.reading() as session:
        people = {row.beneficiary_id: row._asdict() for row in session.execute(
            select(beneficiaries))}
        towns = {row.township_code: row._asdict() for row in session.execute(
            select(townships))}
    return people, towns


class TestRosterPublishedCopies:
    def test_batch_is_stored_with_its_townships(self, database):
        apply(database, batch(person(1), person(2, TOWN_B), person(3),
                              person(1, name="张一改")))
        people, towns = stored(database)
        assert set(people) == {"b1", "b2", "b3"}
        assert people["b1"]["name"] == "张一改"  # the last copy of a person wins
        assert people["b3"]["categories"] == ["rural_dibao", "tekun"]
        assert people["b2"]["village"] is None
        assert people["b1"]["village"] == "村1"
        assert {row["status"] for row in people.values()} == {"entitled"}
        assert towns[TOWN_A]["name"] == "孟庙镇"
        assert towns[TOWN_B]["name"] == "商桥镇"
        assert towns[TOWN_A]["amendment_delta"] == 0
        assert towns[TOWN_A]["allocated_fen"] == 0

    def test_batch_again_updates_persons_and_township_names(self, database):
        apply(database, batch(person(1), person(2, TOWN_B)))
        with database.transaction() as session:
            session.execute(update(beneficiaries).values(
                status="removed", status_reason="死亡"))
            session.execute(update(townships).where(
                townships.c.township_code == TOWN_A).values(allocated_fen=500))
        apply(database, batch(person(1, village="新村", township_name="孟庙镇新"),
                              person(2, TOWN_B, township_name="")))
        people, towns = stored(database)
        assert people["b1"]["village"] == "新村"
        assert people["b1"]["status"] == "entitled"
        assert people["b1"]["status_reason"] == "死亡"  # left as it was
        assert towns[TOWN_A]["name"] == "孟庙镇新"
        assert towns[TOWN_A]["allocated_fen"] == 500
        assert towns[TOWN_B]["name"] == "商桥镇"  # an empty name changes nothing

    def test_any_text_is_stored_unchanged(self, database):
        odd = 'O\'Neil "阿" {1,2} \\N NULL\t,'
        apply(database, batch(person(1, name=odd, village="NULL"),
                              person(2, name="", institution=odd)))
        people, _ = stored(database)
        assert people["b1"]["name"] == odd
        assert people["b1"]["village"] == "NULL"
        assert people["b2"]["name"] == ""
        assert people["b2"]["institution"] == odd

    def test_empty_batch_stores_nothing(self, database):
        apply(database, batch())
        assert stored(database) == ({}, {})
