"""The reminder schedule derived from the 2022-23 campaign's dates."""

from collections import namedtuple
from datetime import date

from services.notify.domain.messages import weekly_report
from services.notify.domain.schedule import (derive_schedule, newest_due,
                                             superseded_reason)

Due = namedtuple("Due", "campaign_id kind occurrence_date")

CONFIG = {
    "campaign_id": "411103-2022-12", "name": "郾城区爱心消费券",
    "funds_due": date(2023, 1, 13),
    "spring_festival": date(2023, 1, 22), "redemption_deadline": date(2023, 2, 28),
    "joint_audit_date": date(2023, 3, 6), "clearing_deadline": date(2023, 3, 31),
}


def dates_of(kind: str) -> list[date]:
    return [occurrence.occurrence_date
            for occurrence in derive_schedule(CONFIG, date(2023, 1, 3))
            if occurrence.kind == kind]


class TestReminderSchedule:
    def test_funds_due_three_and_one_day_before(self):
        assert dates_of("funds_due") == [date(2023, 1, 10), date(2023, 1, 12)]

    def test_handout_daily_in_last_week_before_festival(self):
        handout = dates_of("handout")
        assert handout[0] == date(2023, 1, 15)
        assert handout[-1] == date(2023, 1, 22)
        assert len(handout) == 8

    def test_weekly_reports_every_monday(self):
        mondays = dates_of("weekly_report")
        assert mondays[0] == date(2023, 1, 9)
        assert mondays[-1] == date(2023, 3, 6)
        assert all(day.weekday() == 0 for day in mondays)

    def test_redemption_deadline_fourteen_seven_three(self):
        assert dates_of("redemption_deadline") == [
            date(2023, 2, 14), date(2023, 2, 21), date(2023, 2, 25)]

    def test_joint_audit_and_clearing(self):
        assert dates_of("joint_audit") == [date(2023, 3, 6)]
        assert dates_of("clearing") == [date(2023, 3, 28)]

    def test_every_reminder_due_at_nine(self):
        for occurrence in derive_schedule(CONFIG, date(2023, 1, 3)):
            assert occurrence.due_at.hour == 9


class TestNewestDue:
    def test_older_occurrences_of_a_kind_are_superseded(self):
        due = [Due("c1", "weekly_report", date(2023, 1, 9)),
               Due("c1", "weekly_report", date(2023, 1, 16)),
               Due("c1", "weekly_report", date(2023, 1, 23)),
               Due("c1", "handout", date(2023, 1, 15)),
               Due("c1", "joint_audit", date(2023, 3, 6)),
               Due("c2", "weekly_report", date(2023, 1, 9))]
        assert newest_due(due) == {
            ("c1", "weekly_report", date(2023, 1, 9)): date(2023, 1, 23),
            ("c1", "weekly_report", date(2023, 1, 16)): date(2023, 1, 23)}

    def test_single_occurrences_are_never_superseded(self):
        due = [Due("c1", "joint_audit", date(2023, 3, 6)),
               Due("c1", "clearing", date(2023, 3, 28))]
        assert newest_due(due) == {}

    def test_reason_names_the_newer_occurrence(self):
        reason = superseded_reason("weekly_report", date(2023, 1, 23))
        assert "weekly_report reminder of 2023-01-23" in reason


REPORT = {"week_start": "2023-01-09", "week_end": "2023-01-15", "rows": [{
    "unit": "411103101000", "name": "孟庙镇", "handed_out_week": 12,
    "redeemed_week": 3, "redeemed_amount_week_fen": 81000,
    "handed_out_total": 12, "handout_rate": 0.5, "redeemed_total": 3,
    "redeemed_amount_total_fen": 81000, "open_flags": ["营业时间外核销：22:40 核销"]}],
    "totals": {"handed_out_week": 20, "redeemed_week": 5,
               "redeemed_amount_week_fen": 150000, "handed_out_total": 40,
               "handout_rate": 0.8, "redeemed_total": 5,
               "redeemed_amount_total_fen": 150000, "redemption_rate": 0.125},
    "open_flags_count": 3}


class TestWeeklyReportMessage:
    def messages(self) -> dict:
        return {message.recipient: message
                for message in weekly_report(CONFIG, date(2023, 1, 16), REPORT)}

    def test_message_carries_figures_and_download(self):
        message = self.messages()["township:411103101000"]
        assert "上周发放 12 张" in message.body
        assert "810.00 元" in message.body
        assert "weekly.xlsx?monday=2023-01-16&township=411103101000" in message.body

    def test_message_counts_open_flags(self):
        message = self.messages()["township:411103101000"]
        assert "尚有 1 条套现可疑标记未关闭" in message.body

    def test_bureaus_get_the_district_figures(self):
        messages = self.messages()
        assert sorted(messages) == ["bureau:commerce", "bureau:finance",
                                    "township:411103101000"]
        district = messages["bureau:finance"]
        assert district.township_code is None
        assert "全区发放 20 张" in district.body
        assert "核销率 12.5%" in district.body
        assert "尚有 3 条套现可疑标记未关闭" in district.body
        assert district.body.endswith("weekly.xlsx?monday=2023-01-16")
