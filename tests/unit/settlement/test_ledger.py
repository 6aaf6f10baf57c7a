"""Example-based tests of the double-entry ledger."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from aixin.clock import CAMPAIGN_TZ
from aixin.errors import Conflict, InvalidInput, NotFound
from services.settlement.domain.ledger import (
    DISTRICT,
    PROVINCE,
    Ledger,
    Reason,
    Transfer,
    balances,
    flows,
    merchant_account,
    merchant_paid_account,
    new_transfer,
    statement,
    township_account,
)

AT = datetime(2023, 1, 13, 9, 0, tzinfo=CAMPAIGN_TZ)
NAIVE = datetime(2023, 1, 13, 9, 0)
TOWN = township_account("411102001000")
SHOP = merchant_account("91411102MA45AB1C2D")


def pre_allocation(amount=90_000, event="evt-1"):
    return new_transfer(PROVINCE, DISTRICT, amount, Reason.PRE_ALLOCATION, event, AT)


def allocation(amount=60_000, event="evt-2"):
    return new_transfer(DISTRICT, TOWN, amount, Reason.ALLOCATION, event, AT)


class TestAccounts:
    def test_township_code_needs_twelve_digits(self):
        with pytest.raises(InvalidInput) as caught:
            township_account("41110200100")
        assert caught.value.code == "invalid_account"

    def test_uscc_rejects_letter_o(self):
        with pytest.raises(InvalidInput):
            merchant_account("91411102MA45AB1C2O")

    def test_paid_account_name(self):
        assert merchant_paid_account("91411102MA45AB1C2D") == (
            "merchant_paid:91411102MA45AB1C2D"
        )


class TestTransfer:
    @pytest.mark.parametrize("amount", [0, -1, 1.5, True, "100"])
    def test_rejects_invalid_amount(self, amount):
        with pytest.raises(InvalidInput) as caught:
            pre_allocation(amount=amount)
        assert caught.value.code == "invalid_transfer"

    def test_rejects_same_account(self):
        with pytest.raises(InvalidInput):
            new_transfer(DISTRICT, DISTRICT, 1, Reason.ALLOCATION, "evt", AT)

    def test_rejects_unknown_account(self):
        with pytest.raises(InvalidInput):
            new_transfer("bank", DISTRICT, 1, Reason.PRE_ALLOCATION, "evt", AT)

    def test_rejects_unknown_reason(self):
        with pytest.raises(InvalidInput) as caught:
            new_transfer(PROVINCE, DISTRICT, 1, "gift", "evt", AT)
        assert caught.value.code == "invalid_transfer_reason"

    def test_rejects_naive_time(self):
        with pytest.raises(InvalidInput):
            new_transfer(PROVINCE, DISTRICT, 1, "pre_allocation", "evt", NAIVE)

    def test_rejects_empty_source_event(self):
        with pytest.raises(InvalidInput):
            new_transfer(PROVINCE, DISTRICT, 1, Reason.PRE_ALLOCATION, "", AT)

    def test_reversal_needs_original(self):
        with pytest.raises(InvalidInput):
            new_transfer(DISTRICT, PROVINCE, 1, Reason.REVERSAL, "evt", AT)

    def test_reason_from_string(self):
        transfer = new_transfer(PROVINCE, DISTRICT, 1, "pre_allocation", "evt", AT)
        assert transfer.reason is Reason.PRE_ALLOCATION

    def test_time_converted_to_campaign_zone(self):
        utc = datetime(2023, 1, 13, 1, 0, tzinfo=timezone.utc)
        transfer = new_transfer(PROVINCE, DISTRICT, 1, "pre_allocation", "evt", utc)
        assert transfer.occurred_at.tzinfo == CAMPAIGN_TZ

    def test_is_immutable(self):
        transfer = pre_allocation()
        with pytest.raises(AttributeError):
            transfer.amount_fen = 1


class TestPost:
    def test_balances_follow_direction(self):
        ledger = Ledger()
        ledger.post(pre_allocation())
        ledger.post(allocation())
        assert ledger.balances() == {PROVINCE: -90_000, DISTRICT: 30_000, TOWN: 60_000}

    def test_balances_sum_to_zero(self):
        ledger = Ledger([pre_allocation(), allocation()])
        assert sum(ledger.balances().values()) == 0

    def test_post_returns_new_transfer(self):
        transfer = pre_allocation()
        assert Ledger().post(transfer) is transfer

    def test_replay_returns_existing(self):
        ledger = Ledger()
        first = ledger.post(pre_allocation())
        assert ledger.post(pre_allocation()) is first

    def test_replay_appends_nothing(self):
        ledger = Ledger()
        ledger.post(pre_allocation())
        ledger.post(pre_allocation())
        assert len(ledger) == 1

    def test_same_event_other_reason_is_new(self):
        ledger = Ledger()
        ledger.post(pre_allocation(event="evt"))
        ledger.post(allocation(event="evt"))
        assert len(ledger) == 2

    def test_replay_with_other_amount_conflicts(self):
        ledger = Ledger([pre_allocation()])
        with pytest.raises(Conflict) as caught:
            ledger.post(pre_allocation(amount=1))
        assert caught.value.code == "transfer_replay_mismatch"

    def test_reused_transfer_id_conflicts(self):
        first = pre_allocation()
        ledger = Ledger([first])
        with pytest.raises(Conflict) as caught:
            ledger.post(replace(allocation(), transfer_id=first.transfer_id))
        assert caught.value.code == "duplicate_transfer_id"

    def test_find_by_source_event(self):
        transfer = pre_allocation()
        ledger = Ledger([transfer])
        assert ledger.find("evt-1", "pre_allocation") is transfer

    def test_get_unknown_raises(self):
        with pytest.raises(NotFound):
            Ledger().get("nope")


class TestReverse:
    def test_restores_balances(self):
        ledger = Ledger([pre_allocation()])
        original = ledger.post(allocation())
        ledger.reverse(original.transfer_id, "evt-fix", AT)
        assert ledger.balances() == {PROVINCE: -90_000, DISTRICT: 90_000, TOWN: 0}

    def test_swaps_accounts(self):
        ledger = Ledger([pre_allocation()])
        original = ledger.post(allocation())
        reversal = ledger.reverse(original.transfer_id, "evt-fix", AT)
        assert (reversal.debit, reversal.credit) == (TOWN, DISTRICT)

    def test_names_original(self):
        ledger = Ledger([pre_allocation()])
        original = ledger.post(allocation())
        reversal = ledger.reverse(original.transfer_id, "evt-fix", AT)
        assert reversal.reverses == original.transfer_id

    def test_replayed_correction_returns_first(self):
        ledger = Ledger([pre_allocation()])
        original = ledger.post(allocation())
        first = ledger.reverse(original.transfer_id, "evt-fix", AT)
        assert ledger.reverse(original.transfer_id, "evt-fix", AT) is first

    def test_second_reversal_conflicts(self):
        ledger = Ledger([pre_allocation()])
        original = ledger.post(allocation())
        ledger.reverse(original.transfer_id, "evt-fix", AT)
        with pytest.raises(Conflict) as caught:
            ledger.reverse(original.transfer_id, "evt-fix-2", AT)
        assert caught.value.code == "transfer_already_reversed"

    def test_reversal_of_reversal_conflicts(self):
        ledger = Ledger([pre_allocation()])
        original = ledger.post(allocation())
        reversal = ledger.reverse(original.transfer_id, "evt-fix", AT)
        with pytest.raises(Conflict) as caught:
            ledger.reverse(reversal.transfer_id, "evt-fix-2", AT)
        assert caught.value.code == "reversal_not_reversible"

    def test_reversal_must_mirror_original(self):
        original = allocation()
        reversal = Transfer(
            "r-1", TOWN, DISTRICT, 1, Reason.REVERSAL, "evt-fix", AT,
            reverses=original.transfer_id,
        )
        with pytest.raises(InvalidInput):
            Ledger([pre_allocation(), original, reversal])

    def test_flow_is_negative_original(self):
        ledger = Ledger([pre_allocation()])
        original = ledger.post(allocation())
        ledger.reverse(original.transfer_id, "evt-fix", AT)
        last = list(flows(ledger.transfers))[-1]
        assert (last.reason, last.amount_fen) == (Reason.ALLOCATION, -60_000)


class TestLoad:
    def test_round_trip(self):
        ledger = Ledger([pre_allocation()])
        original = ledger.post(allocation())
        ledger.reverse(original.transfer_id, "evt-fix", AT)
        assert Ledger(ledger.transfers).balances() == ledger.balances()

    def test_duplicate_key_rejected(self):
        with pytest.raises(Conflict) as caught:
            Ledger([pre_allocation(), pre_allocation()])
        assert caught.value.code == "duplicate_transfer_key"

    def test_reversal_before_original_rejected(self):
        original = allocation()
        reversal = Transfer(
            "r-1", TOWN, DISTRICT, 60_000, Reason.REVERSAL, "evt-fix", AT,
            reverses=original.transfer_id,
        )
        with pytest.raises(NotFound):
            Ledger([reversal, original])

    def test_pure_balances_match(self):
        transfers = [pre_allocation(), allocation()]
        assert balances(transfers) == Ledger(transfers).balances()


class TestStatement:
    def test_running_balances(self):
        ledger = Ledger([pre_allocation(), allocation()])
        lines = ledger.statement(DISTRICT)
        assert [line.balance_fen for line in lines] == [90_000, 30_000]

    def test_changes_are_signed(self):
        ledger = Ledger([pre_allocation(), allocation()])
        lines = statement(ledger.transfers, DISTRICT)
        assert [line.change_fen for line in lines] == [90_000, -60_000]

    def test_skips_other_accounts(self):
        ledger = Ledger([pre_allocation(), allocation()])
        assert len(ledger.statement(SHOP)) == 0

    def test_row_shows_counterparty_and_yuan(self):
        later = AT + timedelta(days=1)
        ledger = Ledger([pre_allocation()])
        ledger.post(new_transfer(DISTRICT, TOWN, 60_000, "allocation", "e2", later))
        row = ledger.statement(DISTRICT)[1].as_row()
        assert (row["counterparty"], row["balance_yuan"]) == (TOWN, "300.00")
