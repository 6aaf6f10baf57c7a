"""Service workers built with nameko's worker_factory on a migrated SQLite file.

The RPC and event-handler methods run as nameko would run them, without a broker:
the database is real, the clock stands still, and other dependencies are mocks.
"""

from datetime import datetime

from nameko.testing.services import worker_factory

from aixin.clock import CAMPAIGN_TZ, FixedClock
from aixin.db import Database, migrate
from aixin.nameko_kit import ServiceDatabase
from aixin.outbox import build_event
from aixin.plumbing import outbox

ACTOR = {"role": "commerce", "scope": None, "name": "区商务局经办人", "token_id": "t1",
         "correlation_id": "c1"}
NOW = datetime(2023, 1, 5, 9, 0, tzinfo=CAMPAIGN_TZ)
CAMPAIGN_DATA = {
    "campaign_id": "411103-2022-12", "campaign_no": 1, "name": "郾城区爱心消费券",
    "district_code": "411103", "district_name": "郾城区", "face_value_fen": 30000,
    "snapshot_month": "2022-12", "funds_due": "2023-01-13",
    "spring_festival": "2023-01-22", "redemption_deadline": "2023-02-28",
    "joint_audit_date": "2023-03-06", "clearing_deadline": "2023-03-31",
    "spare_share_percent": 0, "cash_equivalent_categories": ["cash"],
}


def service_worker(service_class, service: str, tmp_path, **dependencies):
    """Return (worker, database) for ``service_class`` on a fresh SQLite database."""
    url = f"sqlite:///{tmp_path / f'{service}.db'}"
    migrate(service, url)
    database = Database(url)
    worker = worker_factory(service_class, db=ServiceDatabase(database, None),
                            clock=FixedClock(NOW), **dependencies)
    return worker, database


def envelope(event_type: str, data: dict) -> dict:
    return build_event(event_type, data, NOW)


def outbox_types(database) -> list[str]:
    with database.reading() as session:
        return [row.event_type for row in session.execute(
            outbox.select().order_by(outbox.c.position))]
