from dataclasses import replace
from datetime import date, datetime

from doc_helpers import find_row, pdf_compact_text, sheet_rows

from aixin.clock import CAMPAIGN_TZ
from services.reporting.documents import (
    JointReport,
    JointRow,
    WeeklyReport,
    WeeklyRow,
    rate,
    render_joint_report_pdf,
    render_joint_report_xlsx,
    render_weekly_report,
)


def weekly():
    rows = (
        WeeklyRow("沙北街道", 100, 30, 80, 2, 10, 40, 300000, 1200000,
                  ("=3 张券超过7天未核销",)),
        WeeklyRow("城关镇", 50, 10, 50, 0, 5, 10, 150000, 300000),
        WeeklyRow("新店镇", 0, 0, 0, 0, 0, 0, 0, 0),
    )
    return WeeklyReport(
        campaign_name="郾城区2023年爱心消费券",
        scope_name="郾城区",
        unit_label="镇（街道）",
        week_start=date(2023, 1, 9),
        week_end=date(2023, 1, 15),
        generated_at=datetime(2023, 1, 16, 8, 0, tzinfo=CAMPAIGN_TZ),
        rows=rows,
    )


class TestRate:
    def test_ratio(self):
        assert rate(1, 4) == 0.25

    def test_zero_whole_blank(self):
        assert rate(0, 0) is None


class TestWeeklyReport:
    def rows(self, sheet=None):
        return sheet_rows(render_weekly_report(weekly()), sheet)

    def test_unit_label_header(self):
        assert self.rows()[2][0] == "镇（街道）"

    def test_handout_rate(self):
        assert find_row(self.rows(), "沙北街道")[4] == 0.8

    def test_redemption_rate(self):
        assert find_row(self.rows(), "沙北街道")[8] == 0.5

    def test_zero_eligible_rate_blank(self):
        assert find_row(self.rows(), "新店镇")[4] is None

    def test_cumulative_amount(self):
        assert find_row(self.rows(), "沙北街道")[10] == 12000

    def test_open_flag_count(self):
        assert find_row(self.rows(), "沙北街道")[11] == 1

    def test_totals_handed_out(self):
        assert find_row(self.rows(), "合计")[3] == 130

    def test_totals_rate_from_sums(self):
        assert find_row(self.rows(), "合计")[4] == 130 / 150

    def test_flag_sheet_neutralised(self):
        rows = self.rows("未关闭标记")
        assert rows[2] == ("沙北街道", "'=3 张券超过7天未核销")

    def test_flag_in_two_rows_counts_once(self):
        shared = "商品清单重复出现：两笔核销的商品清单完全相同"
        report = replace(weekly(), open_flags_total=1, rows=(
            WeeklyRow("沙北街道", 100, 30, 80, 2, 10, 40, 300000, 1200000, (shared,)),
            WeeklyRow("城关镇", 50, 10, 50, 0, 5, 10, 150000, 300000, (shared,))))
        rows = sheet_rows(render_weekly_report(report))
        assert find_row(rows, "城关镇")[11] == 1
        assert find_row(rows, "合计")[11] == 1


def joint():
    rows = (
        JointRow("沙北街道", 100, 98, 95, 2_800_000, 3_000_000, 2_800_000),
        JointRow("城关镇", 50, 50, 50, 1_520_000, 1_500_000, 1_520_000, 2),
    )
    return JointReport(
        campaign_name="2023年爱心消费券",
        district_name="郾城区",
        as_of=date(2023, 2, 28),
        prepared_on=date(2023, 3, 6),
        rows=rows,
        open_flags_total=2,
    )


class TestJointReport:
    def rows(self):
        return sheet_rows(render_joint_report_xlsx(joint()))

    def test_unredeemed(self):
        assert find_row(self.rows(), "沙北街道")[5] == 3

    def test_refund(self):
        assert find_row(self.rows(), "沙北街道")[8] == 2000

    def test_no_top_up_with_refund(self):
        assert find_row(self.rows(), "沙北街道")[9] == 0

    def test_top_up(self):
        assert find_row(self.rows(), "城关镇")[9] == 200

    def test_totals_allocated(self):
        assert find_row(self.rows(), "合计")[6] == 45000

    def test_totals_refund(self):
        assert find_row(self.rows(), "合计")[8] == 2000

    def test_three_bureaus_sign(self):
        signers = [row[0][:4] for row in self.rows() if row[0] and "签字" in row[0]]
        assert signers == ["区商务局", "区财政局", "区民政局"]

    def test_pdf_totals(self):
        assert "45000.00" in pdf_compact_text(render_joint_report_pdf(joint()))

    def test_open_flags(self):
        assert find_row(self.rows(), "城关镇")[10] == 2

    def test_totals_open_flags_distinct(self):
        assert find_row(self.rows(), "合计")[10] == 2

    def test_title_names_district_once(self):
        assert self.rows()[0][0] == "郾城区2023年爱心消费券发放核销情况联合报告"
        named = replace(joint(), campaign_name="郾城区爱心消费券")
        title = sheet_rows(render_joint_report_xlsx(named))[0][0]
        assert title == "郾城区爱心消费券发放核销情况联合报告"

    def test_pdf_title_names_district_once(self):
        named = replace(joint(), campaign_name="郾城区爱心消费券")
        text = pdf_compact_text(render_joint_report_pdf(named))
        assert "郾城区爱心消费券发放核销情况联合报告" in text
        assert "郾城区郾城区" not in text

    def test_pdf_signers(self):
        text = pdf_compact_text(render_joint_report_pdf(joint()))
        assert "区民政局（签字/盖章）" in text
