from datetime import datetime

import pytest
from doc_helpers import find_row, pdf_compact_text, sheet_rows

from aixin.clock import CAMPAIGN_TZ
from services.settlement.documents import (
    Statement,
    StatementEntry,
    StatementFigure,
    render_statement_pdf,
    render_statement_xlsx,
)


def moment(day):
    return datetime(2023, 1, day, 10, 0, tzinfo=CAMPAIGN_TZ)


def statement(kind="township"):
    entries = (
        StatementEntry(moment(14), "预拨资金", "区财政", 3_000_000, "T-1"),
        StatementEntry(moment(20), "商超结算", "好又多超市", -2_800_000, "T-2"),
        StatementEntry(moment(31), "=退回结余", "区财政", -200_000, "T-3"),
    )
    return Statement(
        kind=kind,
        campaign_name="郾城区2023年爱心消费券",
        account_name="沙北街道",
        as_of=moment(31),
        entries=entries,
        figures=(StatementFigure("应退回", 200_000),),
    )


class TestStatementXlsx:
    def rows(self, sheet):
        return sheet_rows(render_statement_xlsx(statement()), sheet)

    def test_title(self):
        assert self.rows("结算汇总")[0][0] == "沙北街道爱心消费券资金结算单"

    def test_received_figure(self):
        assert find_row(self.rows("结算汇总"), "本期收入")[1] == 30000

    def test_closing_figure(self):
        assert find_row(self.rows("结算汇总"), "期末余额")[1] == 0

    def test_given_figure(self):
        assert find_row(self.rows("结算汇总"), "应退回")[1] == 2000

    def test_signers(self):
        rows = self.rows("结算汇总")
        assert rows[-1][0].startswith("区财政局审核人")

    def test_running_balance(self):
        assert self.rows("资金流水")[4][5] == 2000

    def test_paid_column(self):
        assert self.rows("资金流水")[4][4] == 28000

    def test_entry_time_local(self):
        assert self.rows("资金流水")[3][0] == datetime(2023, 1, 14, 10, 0)

    def test_summary_neutralised(self):
        assert self.rows("资金流水")[5][1] == "'=退回结余"

    def test_totals_paid(self):
        assert find_row(self.rows("资金流水"), "合计")[4] == 30000


class TestStatementPdf:
    def test_merchant_title(self):
        text = pdf_compact_text(render_statement_pdf(statement("merchant")))
        assert "沙北街道爱心消费券核销结算单" in text

    def test_district_signers(self):
        text = pdf_compact_text(render_statement_pdf(statement("district")))
        assert "区财政局负责人（签字/盖章）" in text

    def test_amounts(self):
        assert "28000.00" in pdf_compact_text(render_statement_pdf(statement()))

    def test_unknown_kind_rejected(self):
        with pytest.raises(ValueError):
            statement("province")
