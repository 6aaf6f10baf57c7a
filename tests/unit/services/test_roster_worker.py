"""The roster service's import and publishing, run by nameko's worker_factory."""

import pytest

from aixin.errors import Conflict, DomainError
from services.roster.keys import keys_from_environment
from services.roster.service import RosterService
from tests.unit.roster.roster_tables import make_id, write_csv
from worker_support import CAMPAIGN_DATA, envelope, outbox_types, service_worker

CIVIL_AFFAIRS = {"role": "civil_affairs", "scope": None, "name": "区民政局经办人",
                 "token_id": "t3", "correlation_id": "c3"}
CAMPAIGN_ID = CAMPAIGN_DATA["campaign_id"]
HEADER = ["序号", "姓名", "身份证号码", "保障类别", "乡镇（街道）", "村（社区）"]
TOWNSHIP = "411103102000"


def person(number: int, township: str = "商桥镇") -> list:
    return [str(number), f"张{number}", make_id("19600101", number), "农村低保",
            township, "袁湾村"]


@pytest.fixture
def worker(tmp_path, monkeypatch):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    monkeypatch.setenv("AIXIN_UPLOAD_DIR", str(uploads))
    service, database = service_worker(
        RosterService, "roster", tmp_path, keys=keys_from_environment(),
        config={"ROSTER_BATCH_SIZE": 2})
    service.on_campaign_created(envelope("campaign_created", CAMPAIGN_DATA))
    yield service, database, uploads
    database.dispose()


def upload(uploads, rows, name: str = "dibao.csv") -> dict:
    """Write a roster CSV into the upload folder, as the gateway would save it."""
    path = write_csv(uploads / name, [["低保花名册"], HEADER, *rows])
    return {"files": [{"filename": name, "path": str(path)}]}


class TestRosterWorker:
    def test_import_stores_draft(self, worker):
        service, database, uploads = worker
        payload = upload(uploads, [person(1), person(2), person(3)])
        snapshot = service.import_roster(CIVIL_AFFAIRS, CAMPAIGN_ID, payload, "key-1")
        assert snapshot["status"] == "draft"
        assert snapshot["beneficiaries"] == 3
        assert snapshot["replayed"] is False
        assert outbox_types(database) == []

    def test_imported_upload_is_deleted(self, worker):
        service, _, uploads = worker
        payload = upload(uploads, [person(1)])
        service.import_roster(CIVIL_AFFAIRS, CAMPAIGN_ID, payload, "key-1")
        assert list(uploads.iterdir()) == []

    def test_same_files_are_a_replay(self, worker):
        service, _, uploads = worker
        first = service.import_roster(CIVIL_AFFAIRS, CAMPAIGN_ID,
                                      upload(uploads, [person(1)]), "key-1")
        again = service.import_roster(CIVIL_AFFAIRS, CAMPAIGN_ID,
                                      upload(uploads, [person(1)]), "key-2")
        assert again["replayed"] is True
        assert again["snapshot_id"] == first["snapshot_id"]

    def test_publication_is_announced_in_batches(self, worker):
        service, database, uploads = worker
        payload = upload(uploads, [person(1), person(2), person(3)])
        snapshot = service.import_roster(CIVIL_AFFAIRS, CAMPAIGN_ID, payload, "key-1")
        completed = service.publish(CIVIL_AFFAIRS, CAMPAIGN_ID,
                                    snapshot["snapshot_id"], {}, "key-2")
        assert completed["beneficiary_count"] == 3
        assert completed["batch_count"] == 2
        assert completed["townships"] == [
            {"code": TOWNSHIP, "name": "商桥镇", "eligible": 3}]
        assert outbox_types(database) == ["roster_published", "roster_published",
                                          "roster_publication_completed"]

    def test_second_publication_is_rejected(self, worker):
        service, _, uploads = worker
        payload = upload(uploads, [person(1)])
        snapshot = service.import_roster(CIVIL_AFFAIRS, CAMPAIGN_ID, payload, "key-1")
        service.publish(CIVIL_AFFAIRS, CAMPAIGN_ID, snapshot["snapshot_id"], {},
                        "key-2")
        with pytest.raises(Conflict) as raised:
            service.publish(CIVIL_AFFAIRS, CAMPAIGN_ID, snapshot["snapshot_id"], {},
                            "key-3")
        assert raised.value.code == "roster_already_published"

    def test_empty_snapshot_is_not_published(self, worker):
        service, database, uploads = worker
        # Every row names a township outside the district, so none is accepted.
        payload = upload(uploads, [person(1, "城关镇"), person(2, "城关镇")])
        snapshot = service.import_roster(CIVIL_AFFAIRS, CAMPAIGN_ID, payload, "key-1")
        assert snapshot["beneficiaries"] == 0
        assert snapshot["rejected_rows"] == 2

        with pytest.raises(DomainError) as raised:
            service.publish(CIVIL_AFFAIRS, CAMPAIGN_ID, snapshot["snapshot_id"], {},
                            "key-2")
        assert raised.value.code == "roster_snapshot_empty"
        assert raised.value.http_status == 422
        assert "重新导入" in raised.value.message
        assert raised.value.details["rejected_rows"] == 2
        assert outbox_types(database) == []
        [listed] = service.list_snapshots(CIVIL_AFFAIRS, CAMPAIGN_ID)
        assert listed["status"] == "draft"

    def test_corrected_roster_publishes_after_empty_one(self, worker):
        service, _, uploads = worker
        empty = service.import_roster(CIVIL_AFFAIRS, CAMPAIGN_ID,
                                      upload(uploads, [person(1, "城关镇")]), "key-1")
        with pytest.raises(DomainError):
            service.publish(CIVIL_AFFAIRS, CAMPAIGN_ID, empty["snapshot_id"], {},
                            "key-2")
        corrected = service.import_roster(CIVIL_AFFAIRS, CAMPAIGN_ID,
                                          upload(uploads, [person(1)]), "key-3")
        completed = service.publish(CIVIL_AFFAIRS, CAMPAIGN_ID,
                                    corrected["snapshot_id"], {}, "key-4")
        assert completed["beneficiary_count"] == 1

    def test_unknown_campaign_is_not_found(self, worker):
        service, _, _ = worker
        with pytest.raises(DomainError) as raised:
            service.list_snapshots(CIVIL_AFFAIRS, "999999-2022-12")
        assert raised.value.http_status == 404
