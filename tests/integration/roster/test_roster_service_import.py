"""Importing roster files through the gateway: figures, idempotency, encryption."""

import json

from roster_system import REPO, SAMPLE_FILES, TEST_FILES, roster_system, valid_ids_in

from services.roster.models import persons, rejections, snapshots

__all__ = ["roster_system"]

EXPECTED = json.loads((REPO / "tests/data/yancheng-expected.json").read_text())


def import_files(system, files):
    civil_affairs = system.token("civil_affairs")
    response = system.upload("imports", files, civil_affairs)
    assert response.status_code == 201, response.text
    return response.json(), civil_affairs


class TestRosterImport:
    def test_figures_match_expected_file(self, roster_system):
        report, _ = import_files(roster_system, TEST_FILES)
        for key, expected in EXPECTED.items():
            assert report[key] == expected, key
        assert report["status"] == "draft"

    def test_report_lists_every_rejected_row(self, roster_system):
        report, headers = import_files(roster_system, TEST_FILES)
        commerce = roster_system.token("commerce")
        detail = roster_system.get(f"snapshots/{report['snapshot_id']}/report",
                                   commerce)
        assert detail.status_code == 200, detail.text
        body = detail.json()
        assert body["rejections_total"] == EXPECTED["rejected_rows"]
        first = body["rejections"][0]
        assert set(first) >= {"file", "row", "column", "value", "reason", "message"}
        assert valid_ids_in(detail.text) == []
        workbook = roster_system.get(f"snapshots/{report['snapshot_id']}/report.xlsx",
                                     headers)
        assert workbook.status_code == 200
        assert workbook.content[:2] == b"PK"

    def test_same_files_again_change_nothing(self, roster_system):
        first, headers = import_files(roster_system, TEST_FILES)
        outbox_before = roster_system.outbox_bodies()
        again = roster_system.upload("imports", list(reversed(TEST_FILES)), headers)
        assert again.status_code == 201, again.text
        assert again.json()["snapshot_id"] == first["snapshot_id"]
        assert again.json()["replayed"] is True
        assert len(roster_system.roster_rows(snapshots)) == 1
        assert len(roster_system.roster_rows(persons)) == EXPECTED["beneficiaries"]
        assert len(roster_system.roster_rows(rejections)) == EXPECTED["rejected_rows"]
        assert roster_system.outbox_bodies() == outbox_before

    def test_id_numbers_not_stored_in_clear(self, roster_system):
        import_files(roster_system, SAMPLE_FILES)
        rows = roster_system.roster_rows(persons)
        assert rows
        for row in rows:
            text = " ".join(str(value) for value in row)
            assert valid_ids_in(text) == [], row.beneficiary_id
            assert "*" in row.masked_id
        for row in roster_system.roster_rows(rejections):
            assert valid_ids_in(f"{row.value} {row.message}") == []

    def test_uploads_are_deleted_after_import(self, roster_system, tmp_path):
        import_files(roster_system, TEST_FILES)
        assert list((tmp_path / "uploads").iterdir()) == []
