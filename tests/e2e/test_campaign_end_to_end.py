"""A whole campaign through the gateway: every invariant of the campaign holds."""

PLANTED_REJECTIONS = {
    "beneficiary_already_has_voucher", "serial_of_other_township",
    "voucher_already_redeemed", "merchant_not_designated", "statement_total_mismatch",
    "invalid_check_code", "redemption_deadline_passed",
    "voucher_voided",  # a removed person's voucher, after issuance voided it
}
CASHOUT_RULES = {
    "village_burst", "consecutive_serials", "identical_baskets",
    "single_line_face_value", "institution_basket", "outside_opening_hours",
    "removed_from_roster", "merchant_volume",
}


class TestCampaignEndToEnd:
    def test_simulator_exits_cleanly(self, campaign_run):
        assert campaign_run["exit_code"] == 0
        assert campaign_run["summary"]["invariants"]["failures"] == []

    def test_roster_figures_match_generator(self, campaign_run):
        roster = campaign_run["summary"]["roster"]
        expected = campaign_run["expected_roster"]
        for key in ("rows_read", "accepted_rows", "rejected_rows", "merged_duplicates",
                    "beneficiaries", "rejected"):
            assert roster[key] == expected[key], key

    def test_nothing_is_silently_dropped(self, campaign_run):
        roster = campaign_run["summary"]["roster"]
        assert roster["rows_read"] == roster["accepted_rows"] + roster["rejected_rows"]
        assert roster["beneficiaries"] == (roster["accepted_rows"]
                                           - roster["merged_duplicates"])

    def test_money_is_conserved(self, campaign_run):
        # The audit rejects the flagged cash-out redemptions; only approved ones are
        # paid.
        summary = campaign_run["summary"]
        assert summary["ledger"]["balance_sum_fen"] == 0
        assert summary["ledger"]["province_net_paid_fen"] == sum(
            township["approved_fen"] for township in summary["townships"].values())

    def test_refund_is_allocation_minus_approved(self, campaign_run):
        for code, township in campaign_run["summary"]["townships"].items():
            assert township["refund_fen"] == (
                township["allocated_fen"] - township["approved_fen"]), code

    def test_planted_cashout_cases_are_flagged(self, campaign_run):
        cashout = campaign_run["summary"]["cashout"]
        planted = {rule for rule, count in cashout["planted_by_rule"].items() if count}
        # A small roster may lack the material of a case (a care home of five): it
        # says so, and every other rule has its case and its flag.
        assert planted | set(cashout["not_planted"]) == CASHOUT_RULES
        assert len(planted) >= len(CASHOUT_RULES) - 1
        for rule in planted:
            assert cashout["flags_by_rule"][rule] >= 1, rule

    def test_allocation_follows_eligible_count(self, campaign_run):
        for code, township in campaign_run["summary"]["townships"].items():
            assert township["allocated_fen"] == township["eligible"] * 30000, code

    def test_every_planted_rejection_has_its_reason(self, campaign_run):
        rejected = campaign_run["summary"]["rejected_operations"]
        assert PLANTED_REJECTIONS <= set(rejected)

    def test_some_vouchers_stay_unspent(self, campaign_run):
        totals = campaign_run["summary"]["totals"]
        assert 0 < totals["redeemed_count"] < totals["handed_out"]

    def test_reports_are_written(self, campaign_run):
        reports = campaign_run["out"] / "reports"
        assert (reports / "joint-report.xlsx").stat().st_size > 0
        assert (reports / "joint-report.pdf").read_bytes().startswith(b"%PDF")
        assert (reports / "roster-import-report.xlsx").is_file()
        assert list(reports.glob("weekly-*.xlsx"))

    def test_reminders_were_sent(self, campaign_run):
        assert campaign_run["summary"]["reminders_sent"] > 0
