"""The reminder schedule derived from the 2022-23 campaign's dates."""

from datetime import date

from services.notify.domain.messages import weekly_report
from services.notify.domain.schedule import derive_schedule

CONFIG = {
    "campaign_id": "411103-2022-12", "funds_due": date(2023, 1, 13),
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


class TestWeeklyReportMessage:
    def test_message_carries_figures_and_download(self):
        report = {"week_start": "2023-01-09", "week_end": "2023-01-15", "rows": [{
            "unit": "411103101000", "name": "孟庙镇", "handed_out_week": 12,
            "redeemed_week": 3, "redeemed_amount_week_fen": 81000,
            "handed_out_total": 12, "handout_rate": 0.5, "redeemed_total": 3,
            "redeemed_amount_total_fen": 81000}]}
        [message] = weekly_report(CONFIG, date(2023, 1, 16), report)
        assert "上周发放 12 张" in message.body
        assert "810.00 元" in message.body
        assert "weekly.xlsx?monday=2023-01-16&township=411103101000" in message.body
