"""Example-based tests of allocation, reimbursement and clearing."""

from datetime import datetime

import pytest

from aixin.clock import CAMPAIGN_TZ
from aixin.errors import Conflict, DomainError, InvalidInput
from services.settlement.domain.allocation import (
    RosterAmendment,
    adjustment_transfers,
    allocated_by_township,
    allocation_proposal,
    allocation_transfers,
    amend_counts,
    expected_pre_allocation,
    pre_allocation_status,
    pre_allocation_transfer,
)
from services.settlement.domain.clearing import (
    district_clearing,
    district_clearing_transfer,
    township_clearing,
    township_clearing_transfer,
)
from services.settlement.domain.ledger import (
    DISTRICT,
    PROVINCE,
    Ledger,
    Reason,
    merchant_account,
    township_account,
)
from services.settlement.domain.reimbursement import (
    AuditStatus,
    Redemption,
    merchant_payment_transfer,
    merchant_positions,
    reimbursement_transfer,
)

AT = datetime(2023, 3, 20, 10, 0, tzinfo=CAMPAIGN_TZ)
FACE = 30_000
EAST = "411102001000"
WEST = "411102002000"
SHOP = "91411102MA45AB1C2D"


def redemption(rid, part, status=AuditStatus.APPROVED, township=EAST):
    return Redemption(rid, township, SHOP, part, status)


def allocated_ledger(counts, sent=None):
    """Return a ledger with the pre-allocation and the approved allocation."""
    expected = expected_pre_allocation(sum(counts.values()), FACE)
    ledger = Ledger([pre_allocation_transfer(sent or expected, "pre-1", AT)])
    proposal = allocation_proposal(counts, FACE)
    for transfer in allocation_transfers(proposal, "alloc-1", AT):
        ledger.post(transfer)
    return ledger


def reimburse(ledger, redemptions):
    for item in redemptions:
        if item.status is AuditStatus.APPROVED:
            ledger.post(reimbursement_transfer(item, f"audit-{item.redemption_id}", AT))


class TestAllocation:
    def test_proposal_is_count_times_face(self):
        assert allocation_proposal({EAST: 3, WEST: 0}, FACE) == {EAST: 90_000, WEST: 0}

    def test_proposal_rejects_negative_count(self):
        with pytest.raises(InvalidInput) as caught:
            allocation_proposal({EAST: -1}, FACE)
        assert caught.value.code == "invalid_eligible_count"

    def test_proposal_rejects_float_face_value(self):
        with pytest.raises(InvalidInput):
            allocation_proposal({EAST: 1}, 300.0)

    def test_transfers_skip_zero_townships(self):
        transfers = allocation_transfers({EAST: 90_000, WEST: 0}, "alloc-1", AT)
        assert [t.credit for t in transfers] == [township_account(EAST)]

    def test_transfer_source_names_township(self):
        [transfer] = allocation_transfers({EAST: 90_000}, "alloc-1", AT)
        assert transfer.source_event_id == f"alloc-1#{EAST}"

    def test_amend_counts(self):
        amendments = [RosterAmendment(EAST, -1), RosterAmendment(WEST, 1)]
        assert amend_counts({EAST: 3}, amendments) == {EAST: 2, WEST: 1}

    def test_amend_below_zero_rejected(self):
        with pytest.raises(InvalidInput):
            amend_counts({EAST: 0}, [RosterAmendment(EAST, -1)])


class TestAdjustment:
    def test_lowered_count_returns_money(self):
        ledger = allocated_ledger({EAST: 3})
        [transfer] = adjustment_transfers(ledger.transfers, {EAST: 2}, FACE, "am-1", AT)
        assert (transfer.debit, transfer.amount_fen) == (township_account(EAST), FACE)

    def test_raised_count_adds_money(self):
        ledger = allocated_ledger({EAST: 3})
        [transfer] = adjustment_transfers(ledger.transfers, {EAST: 4}, FACE, "am-1", AT)
        assert (transfer.credit, transfer.amount_fen) == (township_account(EAST), FACE)

    def test_allocated_includes_adjustment(self):
        ledger = allocated_ledger({EAST: 3})
        for transfer in adjustment_transfers(
            ledger.transfers, {EAST: 2}, FACE, "am-1", AT
        ):
            ledger.post(transfer)
        assert allocated_by_township(ledger.transfers) == {EAST: 60_000}

    def test_replayed_amendment_moves_nothing(self):
        ledger = allocated_ledger({EAST: 3})
        for transfer in adjustment_transfers(
            ledger.transfers, {EAST: 2}, FACE, "am-1", AT
        ):
            ledger.post(transfer)
        assert adjustment_transfers(ledger.transfers, {EAST: 2}, FACE, "am-1", AT) == []


class TestPreAllocation:
    def test_expected_is_persons_times_face(self):
        assert expected_pre_allocation(4, FACE) == 120_000

    def test_shortfall_is_negative_difference(self):
        ledger = allocated_ledger({EAST: 4}, sent=100_000)
        status = pre_allocation_status(ledger.transfers, 120_000)
        assert status.difference_fen == -20_000

    def test_receipts_record_time(self):
        ledger = allocated_ledger({EAST: 4}, sent=100_000)
        status = pre_allocation_status(ledger.transfers, 120_000)
        assert status.receipts == ((AT, 100_000),)

    def test_reversed_receipt_counts_negative(self):
        ledger = allocated_ledger({EAST: 4})
        ledger.reverse(ledger.find("pre-1", "pre_allocation").transfer_id, "fix", AT)
        status = pre_allocation_status(ledger.transfers, 120_000)
        assert status.received_fen == 0


class TestReimbursement:
    def test_needs_approval(self):
        with pytest.raises(Conflict) as caught:
            reimbursement_transfer(redemption("r1", 100, AuditStatus.PENDING), "a", AT)
        assert caught.value.code == "redemption_not_approved"

    def test_moves_township_to_merchant(self):
        transfer = reimbursement_transfer(redemption("r1", 100), "a", AT)
        expected = (township_account(EAST), merchant_account(SHOP))
        assert (transfer.debit, transfer.credit) == expected

    def test_position_shows_owed_and_paid(self):
        items = [redemption("r1", 25_000), redemption("r2", 30_000)]
        ledger = allocated_ledger({EAST: 2})
        reimburse(ledger, items)
        ledger.post(merchant_payment_transfer(SHOP, 40_000, "pay-1", AT))
        position = merchant_positions(ledger.transfers, items)[SHOP]
        assert (position.approved_fen, position.paid_fen) == (55_000, 40_000)

    def test_unpaid_is_payable_balance(self):
        items = [redemption("r1", 25_000)]
        ledger = allocated_ledger({EAST: 1})
        reimburse(ledger, items)
        ledger.post(merchant_payment_transfer(SHOP, 5_000, "pay-1", AT))
        position = merchant_positions(ledger.transfers, items)[SHOP]
        assert position.unpaid_fen == ledger.balance(merchant_account(SHOP))

    def test_returned_overpayment_lowers_paid(self):
        ledger = allocated_ledger({EAST: 1})
        ledger.post(merchant_payment_transfer(SHOP, 5_000, "pay-1", AT))
        ledger.post(merchant_payment_transfer(SHOP, -2_000, "pay-2", AT))
        position = merchant_positions(ledger.transfers, [])[SHOP]
        assert position.paid_fen == 3_000

    def test_zero_payment_rejected(self):
        with pytest.raises(InvalidInput):
            merchant_payment_transfer(SHOP, 0, "pay-1", AT)


class TestTownshipClearing:
    def test_refund_is_allocation_minus_approved(self):
        items = [redemption("r1", 25_000), redemption("r2", 1, AuditStatus.REJECTED)]
        ledger = allocated_ledger({EAST: 2})
        reimburse(ledger, items)
        assert township_clearing(EAST, ledger.transfers, items).refund_fen == 35_000

    def test_refund_goes_to_district(self):
        items = [redemption("r1", 25_000)]
        ledger = allocated_ledger({EAST: 2})
        reimburse(ledger, items)
        clearing = township_clearing(EAST, ledger.transfers, items)
        transfer = township_clearing_transfer(clearing, "clear-1", AT)
        assert (transfer.reason, transfer.credit) == (Reason.REFUND, DISTRICT)

    def test_overspent_township_gets_top_up(self):
        items = [redemption("r1", FACE), redemption("r2", FACE)]
        ledger = allocated_ledger({EAST: 2})
        for transfer in adjustment_transfers(
            ledger.transfers, {EAST: 1}, FACE, "am-1", AT
        ):
            ledger.post(transfer)
        reimburse(ledger, items)
        clearing = township_clearing(EAST, ledger.transfers, items)
        transfer = township_clearing_transfer(clearing, "clear-1", AT)
        assert (transfer.reason, transfer.amount_fen) == (Reason.TOP_UP, FACE)

    def test_cleared_township_is_zero(self):
        items = [redemption("r1", 25_000)]
        ledger = allocated_ledger({EAST: 2})
        reimburse(ledger, items)
        clearing = township_clearing(EAST, ledger.transfers, items)
        ledger.post(township_clearing_transfer(clearing, "clear-1", AT))
        assert ledger.balance(township_account(EAST)) == 0

    def test_second_clearing_moves_nothing(self):
        items = [redemption("r1", 25_000)]
        ledger = allocated_ledger({EAST: 2})
        reimburse(ledger, items)
        clearing = township_clearing(EAST, ledger.transfers, items)
        ledger.post(township_clearing_transfer(clearing, "clear-1", AT))
        again = township_clearing(EAST, ledger.transfers, items)
        assert township_clearing_transfer(again, "clear-2", AT) is None

    def test_pending_audit_rejected(self):
        items = [redemption("r1", 25_000, AuditStatus.PENDING)]
        ledger = allocated_ledger({EAST: 2})
        with pytest.raises(DomainError) as caught:
            township_clearing(EAST, ledger.transfers, items)
        assert caught.value.code == "township_audit_incomplete"

    def test_pending_audit_message_is_chinese(self):
        items = [redemption("r1", 25_000, AuditStatus.PENDING)]
        ledger = allocated_ledger({EAST: 2})
        with pytest.raises(DomainError) as caught:
            township_clearing(EAST, ledger.transfers, items)
        assert "未经区商务局审核" in caught.value.message

    def test_other_township_pending_allowed(self):
        items = [redemption("r1", 25_000, AuditStatus.PENDING, township=WEST)]
        ledger = allocated_ledger({EAST: 2, WEST: 1})
        clearing = township_clearing(EAST, ledger.transfers, items)
        assert clearing.refund_fen == 60_000

    def test_unposted_reimbursement_rejected(self):
        items = [redemption("r1", 25_000)]
        ledger = allocated_ledger({EAST: 2})
        with pytest.raises(DomainError) as caught:
            township_clearing(EAST, ledger.transfers, items)
        assert caught.value.code == "township_reimbursement_mismatch"


class TestDistrictClearing:
    def cleared_ledger(self, counts, items, sent=None):
        ledger = allocated_ledger(counts, sent)
        reimburse(ledger, items)
        for township in counts:
            clearing = township_clearing(township, ledger.transfers, items)
            transfer = township_clearing_transfer(clearing, f"clear-{township}", AT)
            if transfer:
                ledger.post(transfer)
        return ledger

    def test_refund_to_province(self):
        items = [redemption("r1", 25_000)]
        ledger = self.cleared_ledger({EAST: 2}, items)
        clearing = district_clearing(ledger.transfers, items, 60_000)
        assert clearing.refund_fen == 35_000

    def test_province_pays_only_approved(self):
        items = [redemption("r1", 25_000), redemption("r2", 1, AuditStatus.VOIDED)]
        ledger = self.cleared_ledger({EAST: 2, WEST: 1}, items)
        clearing = district_clearing(ledger.transfers, items, 90_000)
        ledger.post(district_clearing_transfer(clearing, "clear-district", AT))
        assert ledger.balance(PROVINCE) == -25_000

    def test_district_ends_at_zero(self):
        items = [redemption("r1", 25_000)]
        ledger = self.cleared_ledger({EAST: 2}, items)
        clearing = district_clearing(ledger.transfers, items, 60_000)
        ledger.post(district_clearing_transfer(clearing, "clear-district", AT))
        assert ledger.balance(DISTRICT) == 0

    def test_short_pre_allocation_topped_up(self):
        items = [redemption("r1", FACE), redemption("r2", FACE)]
        ledger = self.cleared_ledger({EAST: 2}, items, sent=50_000)
        clearing = district_clearing(ledger.transfers, items, 60_000)
        transfer = district_clearing_transfer(clearing, "clear-district", AT)
        assert (transfer.debit, transfer.amount_fen) == (PROVINCE, 10_000)

    def test_shows_pre_allocation_difference(self):
        items = [redemption("r1", FACE)]
        ledger = self.cleared_ledger({EAST: 2}, items, sent=50_000)
        clearing = district_clearing(ledger.transfers, items, 60_000)
        assert clearing.pre_allocation_difference_fen == -10_000

    def test_uncleared_township_rejected(self):
        items = [redemption("r1", 25_000)]
        ledger = allocated_ledger({EAST: 2})
        reimburse(ledger, items)
        with pytest.raises(DomainError) as caught:
            district_clearing(ledger.transfers, items, 60_000)
        assert caught.value.code == "district_clearing_incomplete"

    def test_pending_audit_rejected(self):
        items = [redemption("r1", 25_000, AuditStatus.PENDING, township=WEST)]
        ledger = self.cleared_ledger({EAST: 2}, [])
        with pytest.raises(DomainError) as caught:
            district_clearing(ledger.transfers, items, 60_000)
        assert caught.value.details["townships"] == [WEST]
