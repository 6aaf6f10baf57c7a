"""The reporting read model: figures from events, weekly windows, rebuild, scope."""

import base64
import io

import eventlet
import openpyxl
import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import delete, func, select

from aixin import events
from aixin.clock import FileClock
from aixin.db import Database
from aixin.errors import InvalidInput, NotFound
from aixin.outbox import BrokerPublisher, build_event
from services.reporting.models import event_log, open_flags, vouchers
from services.reporting.service import ReportingService
from tests.integration.reporting.campaign_events import (CAMPAIGN_ID, EAST,
                                                         FACE_VALUE_LINE, WEST, at,
                                                         campaign_events,
                                                         flags_changed)

BUREAU = {"role": "finance", "scope": None, "name": "finance"}
ADMIN = {"role": "admin", "scope": None, "name": "admin"}


def wait_for(predicate, timeout: float = 20.0):
    with eventlet.Timeout(timeout):
        while True:
            value = predicate()
            if value:
                return value
            eventlet.sleep(0.1)


def count_logged(url: str) -> int:
    database = Database(url)
    with database.reading() as session:
        count = session.execute(select(func.count()).select_from(event_log)).scalar()
    database.dispose()
    return count


def publish_all(amqp_uri: str, items, repeat: int = 1) -> None:
    publishers = {}
    for event_type, data in items:
        producer = events.spec_of(event_type).producer
        publisher = publishers.setdefault(producer, BrokerPublisher(amqp_uri, producer))
        envelope = build_event(event_type, data, at(3, 25))
        for _ in range(repeat):
            publisher.publish(envelope)
    for publisher in publishers.values():
        publisher.close()


@pytest.fixture
def reporting(runner_factory, amqp_uri, database_url_for, tmp_path):
    clock_path = tmp_path / "clock.json"
    FileClock(clock_path).set(at(3, 25))
    config = {"AMQP_URI": amqp_uri, "AIXIN_CLOCK": f"file:{clock_path}",
              "REPORTING_DATABASE_URL": database_url_for("reporting")}
    runner = runner_factory(config, ReportingService)
    runner.start()
    items = campaign_events()
    publish_all(amqp_uri, items, repeat=2)
    wait_for(lambda: count_logged(config["REPORTING_DATABASE_URL"]) == len(items))
    with ServiceRpcProxy("reporting", config) as proxy:
        yield proxy, config


def by_code(summary):
    return {row["code"]: row for row in summary["townships"]}


class TestReadModel:
    def test_township_figures(self, reporting):
        proxy, _ = reporting
        summary = proxy.campaign_summary(BUREAU, CAMPAIGN_ID)
        east, west = by_code(summary)[EAST], by_code(summary)[WEST]
        assert east["name"] == "东镇"
        assert east["eligible"] == 3
        assert east["printed"] == 4
        assert east["issued"] == 4
        assert east["late_issued"] == 1
        assert east["voided"] == 1
        assert east["handed_out"] == 3
        assert east["redeemed_count"] == 1
        assert east["redeemed_fen"] == 30000
        assert east["paid_by_person_fen"] == 1250
        assert east["allocated_fen"] == 90000
        assert east["refund_fen"] is None
        assert west["approved_count"] == 1
        assert west["approved_fen"] == 25000
        assert west["rejected_count"] == 1
        assert west["reimbursed_fen"] == 25000
        assert west["refund_fen"] == 35000
        assert west["redemption_rate"] == 1.0
        assert summary["totals"]["redeemed_fen"] == 85000
        assert summary["totals"]["handed_out"] == 5
        assert summary["totals"]["handout_rate"] == 1.0

    def test_village_figures(self, reporting):
        proxy, _ = reporting
        villages = proxy.village_progress(BUREAU, CAMPAIGN_ID, EAST, with_names=True)
        rows = {row["village"]: row for row in villages["villages"]}
        assert rows["东村"]["eligible"] == 2
        assert rows["东村"]["handed_out"] == 2
        assert rows["东村"]["unredeemed"] == 1
        assert [p["serial"] for p in rows["东村"]["unredeemed_beneficiaries"]] == ["E2"]
        assert rows["南村"]["handed_out"] == 1
        assert rows["南村"]["late_issued"] == 1
        west = proxy.village_progress(BUREAU, CAMPAIGN_ID, WEST)
        assert {row["village"] for row in west["villages"]} == {"西村", "西镇敬老院"}

    def test_weekly_report_week_boundaries(self, reporting):
        proxy, _ = reporting
        report = proxy.weekly_report(BUREAU, CAMPAIGN_ID, monday="2023-01-16")
        assert report["week_start"] == "2023-01-09"
        assert report["week_end"] == "2023-01-15"
        east = {row["unit"]: row for row in report["rows"]}[EAST]
        # E1 on Sunday 23:59:59 and E3 (voided on Friday) fall in the week.
        assert east["handed_out_week"] == 2
        assert east["handed_out_total"] == 1
        west = {row["unit"]: row for row in report["rows"]}[WEST]
        assert west["redeemed_week"] == 1
        assert west["redeemed_amount_week_fen"] == 25000
        following = proxy.weekly_report(BUREAU, CAMPAIGN_ID, monday="2023-01-23")
        east_next = {row["unit"]: row for row in following["rows"]}[EAST]
        # E2 at 00:30 on Monday 16 January counts. E4 on Monday 23 January does not.
        assert east_next["handed_out_week"] == 1
        assert east_next["handed_out_total"] == 2
        assert east_next["late_total"] == 0
        assert following["totals"]["redeemed_total"] == 2

    def test_weekly_report_rejects_other_days(self, reporting):
        proxy, _ = reporting
        with pytest.raises(InvalidInput):
            proxy.weekly_report(BUREAU, CAMPAIGN_ID, monday="2023-01-17")

    def test_weekly_report_by_village(self, reporting):
        proxy, _ = reporting
        township = {"role": "township", "scope": EAST, "name": "east"}
        report = proxy.weekly_report(township, CAMPAIGN_ID, monday="2023-01-23")
        assert report["unit_label"] == "村（社区）"
        assert {row["name"] for row in report["rows"]} == {"东村", "南村"}

    def test_township_reads_only_own(self, reporting):
        proxy, _ = reporting
        township = {"role": "township", "scope": EAST, "name": "east"}
        summary = proxy.campaign_summary(township, CAMPAIGN_ID)
        assert list(by_code(summary)) == [EAST]
        with pytest.raises(NotFound):
            proxy.campaign_summary(township, CAMPAIGN_ID, WEST)
        joint = proxy.joint_report(township, CAMPAIGN_ID)
        assert [row["code"] for row in joint["rows"]] == [EAST]

    def test_joint_report_and_documents(self, reporting):
        proxy, _ = reporting
        joint = proxy.joint_report(BUREAU, CAMPAIGN_ID)
        rows = {row["code"]: row for row in joint["rows"]}
        assert rows[EAST]["refund_fen"] == 60000
        assert rows[WEST]["refund_fen"] == 35000
        assert joint["totals"]["unredeemed"] == 2
        xlsx = proxy.joint_report_document(BUREAU, CAMPAIGN_ID, "xlsx")
        assert base64.b64decode(xlsx["content_b64"])[:2] == b"PK"
        pdf = proxy.joint_report_document(BUREAU, CAMPAIGN_ID, "pdf")
        assert base64.b64decode(pdf["content_b64"])[:4] == b"%PDF"
        weekly = proxy.weekly_report_xlsx(BUREAU, CAMPAIGN_ID, monday="2023-01-23")
        assert weekly["filename"].endswith(".xlsx")

    def test_open_flags_per_township(self, reporting):
        proxy, _ = reporting
        summary = proxy.campaign_summary(BUREAU, CAMPAIGN_ID)
        assert by_code(summary)[EAST]["open_flags"] == 1
        assert by_code(summary)[WEST]["open_flags"] == 2
        # The flag over vouchers of both townships counts once for the district.
        assert summary["totals"]["open_flags"] == 2
        joint = proxy.joint_report(BUREAU, CAMPAIGN_ID)
        assert [row["open_flags"] for row in joint["rows"]] == [1, 2]
        assert joint["totals"]["open_flags"] == 2

    def test_open_flags_in_weekly_report(self, reporting):
        proxy, _ = reporting
        report = proxy.weekly_report(BUREAU, CAMPAIGN_ID, monday="2023-01-23")
        rows = {row["unit"]: row for row in report["rows"]}
        assert rows[EAST]["open_flags"] == ["商品清单重复出现：两笔核销的商品清单完全相同"]
        assert len(rows[WEST]["open_flags"]) == 2
        assert report["open_flags_count"] == 2
        assert len(report["totals"]["open_flags"]) == 2
        township = {"role": "township", "scope": WEST, "name": "west"}
        own = proxy.weekly_report(township, CAMPAIGN_ID, monday="2023-01-23")
        villages = {row["name"]: row["open_flags"] for row in own["rows"]}
        assert len(villages["西镇敬老院"]) == 2
        assert villages["西村"] == []
        assert own["open_flags_count"] == 2

    def test_open_flags_in_weekly_xlsx(self, reporting):
        proxy, _ = reporting
        document = proxy.weekly_report_xlsx(BUREAU, CAMPAIGN_ID, monday="2023-01-23")
        workbook = openpyxl.load_workbook(
            io.BytesIO(base64.b64decode(document["content_b64"])))
        figures = list(workbook["周报"].iter_rows(values_only=True))
        header = figures[2]
        flags_column = header.index("未关闭标记")
        by_name = {row[0]: row for row in figures[3:] if row[0]}
        assert by_name["东镇"][flags_column] == 1
        assert by_name["西镇"][flags_column] == 2
        assert by_name["合计"][flags_column] == 2
        listed = list(workbook["未关闭标记"].iter_rows(min_row=3, values_only=True))
        assert sorted(row[0] for row in listed if row[0]) == ["东镇", "西镇", "西镇"]

    def test_older_flag_list_changes_nothing(self, reporting):
        proxy, config = reporting
        before = proxy.campaign_summary(BUREAU, CAMPAIGN_ID)
        stale = flags_changed(1, at(3, 24), FACE_VALUE_LINE)
        publish_all(config["AMQP_URI"], [("cashout_flags_changed", stale)])
        url = config["REPORTING_DATABASE_URL"]
        wait_for(lambda: count_logged(url) == len(campaign_events()) + 1)
        assert proxy.campaign_summary(BUREAU, CAMPAIGN_ID) == before
        newest = flags_changed(3, at(3, 24))
        publish_all(config["AMQP_URI"], [("cashout_flags_changed", newest)])
        wait_for(lambda: count_logged(url) == len(campaign_events()) + 2)
        assert proxy.campaign_summary(BUREAU, CAMPAIGN_ID)["totals"]["open_flags"] == 0

    def test_time_series(self, reporting):
        proxy, _ = reporting
        series = proxy.time_series(BUREAU, CAMPAIGN_ID)["days"]
        days = {day["date"]: day for day in series}
        assert days["2023-01-15"]["issued"] == 1
        assert days["2023-01-16"]["issued"] == 1
        assert days["2023-02-01"]["redeemed_fen_total"] == 85000

    def test_rebuild_equals_live(self, reporting):
        proxy, config = reporting
        township = {"role": "township", "scope": WEST, "name": "west"}

        def reports():
            return {"summary": proxy.campaign_summary(BUREAU, CAMPAIGN_ID),
                    "weekly": proxy.weekly_report(BUREAU, CAMPAIGN_ID,
                                                  monday="2023-01-23"),
                    "township_weekly": proxy.weekly_report(
                        township, CAMPAIGN_ID, monday="2023-01-23"),
                    "joint": proxy.joint_report(BUREAU, CAMPAIGN_ID)}

        live = reports()
        assert live["weekly"]["open_flags_count"] == 2
        database = Database(config["REPORTING_DATABASE_URL"])
        with database.transaction() as session:
            session.execute(delete(vouchers))
            session.execute(delete(open_flags))
        database.dispose()
        assert proxy.campaign_summary(BUREAU, CAMPAIGN_ID) != live["summary"]
        result = proxy.rebuild(ADMIN)
        assert result["events_replayed"] == len(campaign_events())
        assert reports() == live
