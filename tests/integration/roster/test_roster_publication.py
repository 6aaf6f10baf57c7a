"""Publishing, amending and reading the roster through the gateway."""

import json

from roster_system import (RECEIVED, SAMPLE_FILES, new_id_number, roster_system,
                           valid_ids_in, wait_for)

from services.roster.keys import keys_from_environment

__all__ = ["roster_system"]

TOWN_A = "411103101000"  # 孟庙镇
TOWN_B = "411103102000"  # 商桥镇


def imported_and_published(system):
    civil_affairs = system.token("civil_affairs")
    report = system.upload("imports", SAMPLE_FILES, civil_affairs).json()
    published = system.post(f"snapshots/{report['snapshot_id']}/publish",
                            civil_affairs)
    assert published.status_code == 200, published.text
    return report, published.json(), civil_affairs


def received(event_type: str) -> list:
    return RECEIVED.get(event_type, [])


class TestPublication:
    def test_publish_sends_batches(self, roster_system):
        report, completed, _ = imported_and_published(roster_system)
        count = report["beneficiaries"]
        assert completed["beneficiary_count"] == count
        assert completed["batch_count"] == -(-count // 100)
        wait_for(lambda: received("roster_publication_completed"))
        batch_count = completed["batch_count"]
        wait_for(lambda: len(received("roster_published")) == batch_count)
        batches = received("roster_published")
        assert all(len(batch["beneficiaries"]) <= 100 for batch in batches)
        ids = {person["beneficiary_id"] for batch in batches
               for person in batch["beneficiaries"]}
        assert len(ids) == count
        townships = received("roster_publication_completed")[0]["townships"]
        eligible = {town["code"]: town["eligible"] for town in townships}
        assert eligible == {code: town["eligible"]
                            for code, town in report["townships"].items()}

    def test_events_carry_no_full_id(self, roster_system):
        imported_and_published(roster_system)
        bodies = roster_system.outbox_bodies()
        assert len(bodies) > 1
        for body in bodies:
            assert valid_ids_in(body) == []
        wait_for(lambda: received("roster_publication_completed"))
        assert valid_ids_in(json.dumps(RECEIVED, ensure_ascii=False)) == []

    def test_second_publication_rejected(self, roster_system):
        report, _, civil_affairs = imported_and_published(roster_system)
        again = roster_system.post(f"snapshots/{report['snapshot_id']}/publish",
                                   civil_affairs)
        assert again.status_code == 409
        assert again.json()["error"] == "roster_already_published"


class TestAmendments:
    def test_amendments_are_announced(self, roster_system):
        _, _, civil_affairs = imported_and_published(roster_system)
        listed = roster_system.get(f"townships/{TOWN_A}/beneficiaries",
                                   civil_affairs).json()["beneficiaries"]
        removed, moved = listed[0], listed[1]
        removal = roster_system.post("amendments", civil_affairs, {
            "kind": "remove", "reason": "moved_away",
            "beneficiary_id": removed["beneficiary_id"], "note": "迁往外区"})
        assert removal.status_code == 201, removal.text
        change = roster_system.post("amendments", civil_affairs, {
            "kind": "change", "reason": "village_changed",
            "beneficiary_id": moved["beneficiary_id"], "village": "新村"})
        assert change.status_code == 201, change.text
        addition = roster_system.post("amendments", civil_affairs, {
            "kind": "add", "reason": "wrongly_omitted", "person": {
                "id_number": new_id_number(), "name": "买买提·艾力",
                "township": "孟庙镇", "village": "新村", "category": "rural_dibao"}})
        assert addition.status_code == 201, addition.text
        assert addition.json()["beneficiary"]["name"] == "买买提·艾力"

        wait_for(lambda: len(received("roster_amended")) == 3)
        kinds = sorted(event["kind"] for event in received("roster_amended"))
        assert kinds == ["add", "change", "remove"]
        now = roster_system.get(f"townships/{TOWN_A}/beneficiaries",
                                civil_affairs).json()
        ids = {person["beneficiary_id"] for person in now["beneficiaries"]}
        assert removed["beneficiary_id"] not in ids
        assert now["count"] == len(listed)  # one removed, one added
        original = roster_system.get(f"townships/{TOWN_A}/beneficiaries",
                                     civil_affairs, original="true").json()
        assert original["beneficiaries"] == listed

    def test_invalid_addition_rejected_with_reason(self, roster_system):
        _, _, civil_affairs = imported_and_published(roster_system)
        bad_id = new_id_number()[:-1] + ("0" if new_id_number()[-1] != "0" else "1")
        response = roster_system.post("amendments", civil_affairs, {
            "kind": "add", "reason": "wrongly_omitted", "person": {
                "id_number": bad_id, "name": "张三", "township": "孟庙镇",
                "category": "城市低保"}})
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_id_checksum"
        assert bad_id not in response.text

    def test_deaths_before_and_after_publication(self, roster_system, tmp_path):
        civil_affairs = roster_system.token("civil_affairs")
        report = roster_system.upload("imports", SAMPLE_FILES, civil_affairs).json()
        snapshot_id = report["snapshot_id"]
        people = roster_system.get(f"townships/{TOWN_A}/beneficiaries", civil_affairs)
        first, second, third = people.json()["beneficiaries"][:3]
        ids = {person["beneficiary_id"]: roster_system.get(
            f"beneficiaries/{person['beneficiary_id']}/id-number", civil_affairs,
            reason="test").json()["id_number"] for person in (first, second, third)}
        deaths = tmp_path / "deaths.csv"
        deaths.write_text("姓名,身份证号码,死亡日期\n"
                          f"甲,{ids[first['beneficiary_id']]},2022-12-05\n"
                          f"乙,{ids[second['beneficiary_id']]},2023年1月9日\n",
                          encoding="utf-8")
        draft = roster_system.upload("deaths", [deaths], civil_affairs)
        assert draft.status_code == 200, draft.text
        assert [row["beneficiary_id"] for row in draft.json()["removed"]] == [
            first["beneficiary_id"]]
        assert [row["beneficiary_id"] for row in draft.json()["flagged"]] == [
            second["beneficiary_id"]]
        assert valid_ids_in(draft.text) == []

        completed = roster_system.post(f"snapshots/{snapshot_id}/publish",
                                       civil_affairs).json()
        assert completed["beneficiary_count"] == report["beneficiaries"] - 1
        later = tmp_path / "deaths-later.csv"
        later.write_text(f"身份证号码,死亡日期\n{ids[third['beneficiary_id']]},"
                         "2022/12/20\n", encoding="utf-8")
        after = roster_system.upload("deaths", [later], civil_affairs)
        assert after.status_code == 200, after.text
        assert after.json()["published"] is True
        wait_for(lambda: received("roster_amended"))
        event = received("roster_amended")[0]
        assert event["reason"] == "deceased"
        assert event["beneficiary"]["beneficiary_id"] == third["beneficiary_id"]


class TestAccess:
    def test_township_reads_only_its_own(self, roster_system):
        imported_and_published(roster_system)
        town_a = roster_system.token("township", TOWN_A)
        own = roster_system.get(f"townships/{TOWN_A}/beneficiaries", town_a)
        assert own.status_code == 200
        assert own.json()["count"] > 0
        assert valid_ids_in(own.text) == []
        other = roster_system.get(f"townships/{TOWN_B}/beneficiaries", town_a)
        assert other.status_code == 404
        other_notice = roster_system.get(f"townships/{TOWN_B}/notice.xlsx", town_a)
        assert other_notice.status_code == 404
        reveal = roster_system.get(
            f"beneficiaries/{own.json()['beneficiaries'][0]['beneficiary_id']}"
            "/id-number", town_a)
        assert reveal.status_code == 403

    def test_notice_documents(self, roster_system):
        imported_and_published(roster_system)
        town_a = roster_system.token("township", TOWN_A)
        workbook = roster_system.get(f"townships/{TOWN_A}/notice.xlsx", town_a)
        assert workbook.status_code == 200, workbook.text
        assert workbook.content[:2] == b"PK"
        document = roster_system.get(f"townships/{TOWN_A}/notice.pdf", town_a)
        assert document.status_code == 200, document.text
        assert document.content[:4] == b"%PDF"


def test_missing_keys_stop_the_start():
    valid_fernet_key = "c" * 43 + "="
    for environ, variable in (({}, "ROSTER_ENCRYPTION_KEY"),
                              ({"ROSTER_ENCRYPTION_KEY": "not-a-key"},
                               "ROSTER_ENCRYPTION_KEY"),
                              ({"ROSTER_ENCRYPTION_KEY": valid_fernet_key},
                               "ROSTER_HASH_KEY")):
        try:
            keys_from_environment(environ)
        except RuntimeError as error:
            assert variable in str(error)
        else:
            raise AssertionError("keys_from_environment accepted missing keys")
