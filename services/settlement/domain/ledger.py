"""A double-entry ledger of the campaign's money, in integer fen.

Every movement is one immutable Transfer from a debit account (money leaves) to a
credit account (money arrives). An account's balance is what arrived minus what left,
so the balances of all accounts sum to zero by construction.

Accounts and what a balance means:

- ``province``: the source of all money, so its balance is minus its net outflow.
- ``district``: district finance. Receives the pre-allocation, allocates to townships,
  passes refunds on to the province and top-ups on to townships.
- ``township:<12-digit code>``: allocation not yet spent on reimbursement or cleared.
- ``merchant:<USCC>``: reimbursement payable. The township credits it when a
  redemption passes the audit, so its balance is what is owed and not yet paid.
- ``merchant_paid:<USCC>``: money paid out to the merchant's bank account. Nothing
  leaves it except to return an overpayment, so its balance is the total paid.

The flows: province -> district (pre_allocation), district -> township (allocation,
allocation_adjustment), township -> merchant (reimbursement), merchant ->
merchant_paid (merchant_payment), township -> district -> province (refund) and
province -> district -> township (top_up). After clearing, every township and the
district are at zero and the province has paid exactly the approved redemptions.

A correction is a reversal: a new transfer with the accounts swapped that names the
transfer it cancels. Transfers are never edited or deleted.

The pure functions take any iterable of transfers in posting order, so they work
on transfers loaded from a database as well as on a ``Ledger``.
"""

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Iterable, Iterator

from aixin.clock import as_local
from aixin.errors import Conflict, InvalidInput, NotFound
from aixin.money import format_yuan

PROVINCE = "province"
DISTRICT = "district"
TOWNSHIP_PREFIX = "township:"
MERCHANT_PREFIX = "merchant:"
MERCHANT_PAID_PREFIX = "merchant_paid:"

_TOWNSHIP_CODE = re.compile(r"\d{12}")
# GB 32100-2015: 18 characters from digits and capitals without I, O, S, V and Z.
# NOTE: the check character is not verified; the redemption service owns merchants.
_USCC = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")


class Reason(StrEnum):
    """Reason code of a transfer, stored as its lower-case value."""

    PRE_ALLOCATION = "pre_allocation"
    ALLOCATION = "allocation"
    ALLOCATION_ADJUSTMENT = "allocation_adjustment"
    REIMBURSEMENT = "reimbursement"
    MERCHANT_PAYMENT = "merchant_payment"
    REFUND = "refund"
    TOP_UP = "top_up"
    REVERSAL = "reversal"


def township_account(code: str) -> str:
    """Return the account of the township with a 12-digit statistical code."""
    if not isinstance(code, str) or not _TOWNSHIP_CODE.fullmatch(code):
        raise _invalid_account(f"{TOWNSHIP_PREFIX}{code}")
    return f"{TOWNSHIP_PREFIX}{code}"


def merchant_account(uscc: str) -> str:
    """Return the reimbursement payable account of a merchant."""
    return _merchant(MERCHANT_PREFIX, uscc)


def merchant_paid_account(uscc: str) -> str:
    """Return the account that totals what was paid out to a merchant."""
    return _merchant(MERCHANT_PAID_PREFIX, uscc)


def account_key(account: str) -> str:
    """Return the township code or USCC inside an account name ('' for the others)."""
    return account.partition(":")[2]


def validate_account(account: str) -> None:
    """Raise InvalidInput unless ``account`` is a well-formed account name."""
    if account in (PROVINCE, DISTRICT):
        return
    if not isinstance(account, str):
        raise _invalid_account(account)
    key = account_key(account)
    if account.startswith(TOWNSHIP_PREFIX):
        township_account(key)
    elif account.startswith(MERCHANT_PREFIX):
        merchant_account(key)
    elif account.startswith(MERCHANT_PAID_PREFIX):
        merchant_paid_account(key)
    else:
        raise _invalid_account(account)


def _merchant(prefix: str, uscc: str) -> str:
    if not isinstance(uscc, str) or not _USCC.fullmatch(uscc):
        raise _invalid_account(f"{prefix}{uscc}")
    return f"{prefix}{uscc}"


def _invalid_account(account) -> InvalidInput:
    return InvalidInput(
        "invalid_account",
        f"账户 {account!r} 无效：应为 province、district、township:<12位区划代码>、"
        "merchant:<18位统一社会信用代码> 或 merchant_paid:<18位统一社会信用代码>。",
        account=str(account),
    )


@dataclass(frozen=True)
class Transfer:
    """One immutable movement of ``amount_fen`` from ``debit`` to ``credit``.

    ``source_event_id`` names the business fact that caused the transfer. Together
    with ``reason`` it is the idempotency key, so an event that yields several
    transfers must give each its own source id. ``reverses`` is set only on a
    reversal and contains the id of the transfer it cancels.
    """

    transfer_id: str
    debit: str
    credit: str
    amount_fen: int
    reason: Reason
    source_event_id: str
    occurred_at: datetime
    memo: str = ""
    reverses: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "reason", _parse_reason(self.reason))
        object.__setattr__(self, "occurred_at", _parse_moment(self.occurred_at))
        _validate_fields(self)

    @property
    def key(self) -> tuple[str, Reason]:
        """The idempotency key: source event and reason."""
        return (self.source_event_id, self.reason)


def new_transfer(
    debit: str,
    credit: str,
    amount_fen: int,
    reason: Reason | str,
    source_event_id: str,
    occurred_at: datetime,
    memo: str = "",
) -> Transfer:
    """Build a transfer with a fresh random id; reversals come from Ledger.reverse."""
    return Transfer(
        transfer_id=str(uuid.uuid4()),
        debit=debit,
        credit=credit,
        amount_fen=amount_fen,
        reason=reason,
        source_event_id=source_event_id,
        occurred_at=occurred_at,
        memo=memo,
    )


def _parse_reason(reason) -> Reason:
    try:
        return Reason(reason)
    except ValueError:
        allowed = ", ".join(r.value for r in Reason)
        raise InvalidInput(
            "invalid_transfer_reason",
            f"转账事由 {reason!r} 无效，可用事由：{allowed}。",
            reason=str(reason),
        ) from None


def _parse_moment(moment) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidInput(
            "invalid_transfer_time",
            f"转账时间 {moment!r} 无效：须为带时区的时间。",
        )
    return as_local(moment)


def _validate_fields(transfer: Transfer) -> None:
    amount = transfer.amount_fen
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise _invalid_transfer(transfer, f"金额 {amount!r} 无效：须为正整数（分）。")
    validate_account(transfer.debit)
    validate_account(transfer.credit)
    if transfer.debit == transfer.credit:
        raise _invalid_transfer(transfer, "付款账户与收款账户相同。")
    for name in ("transfer_id", "source_event_id"):
        value = getattr(transfer, name)
        if not isinstance(value, str) or not value:
            raise _invalid_transfer(transfer, f"{name} 不能为空。")
    is_reversal = transfer.reason is Reason.REVERSAL
    if is_reversal != bool(transfer.reverses):
        raise _invalid_transfer(transfer, "只有冲正转账（reversal）须注明被冲正的转账。")


def _invalid_transfer(transfer: Transfer, problem: str) -> InvalidInput:
    return InvalidInput(
        "invalid_transfer",
        f"转账 {transfer.transfer_id} 无效：{problem}",
        transfer_id=str(transfer.transfer_id),
    )


@dataclass(frozen=True)
class StatementLine:
    """One transfer as seen from one account, with the balance after it."""

    transfer: Transfer
    change_fen: int
    balance_fen: int

    def as_row(self) -> dict:
        """Return plain values for a listing or a spreadsheet export."""
        transfer = self.transfer
        incoming = self.change_fen > 0
        return {
            "transfer_id": transfer.transfer_id,
            "occurred_at": transfer.occurred_at.isoformat(),
            "reason": transfer.reason.value,
            "counterparty": transfer.debit if incoming else transfer.credit,
            "change_fen": self.change_fen,
            "change_yuan": format_yuan(self.change_fen),
            "balance_fen": self.balance_fen,
            "balance_yuan": format_yuan(self.balance_fen),
            "source_event_id": transfer.source_event_id,
            "reverses": transfer.reverses,
            "memo": transfer.memo,
        }


def balances(transfers: Iterable[Transfer]) -> dict[str, int]:
    """Return the balance of every account that appears in ``transfers``."""
    totals: dict[str, int] = defaultdict(int)
    for transfer in transfers:
        totals[transfer.debit] -= transfer.amount_fen
        totals[transfer.credit] += transfer.amount_fen
    return dict(totals)


def statement(transfers: Iterable[Transfer], account: str) -> list[StatementLine]:
    """List the transfers of one account in posting order with running balances."""
    lines = []
    balance = 0
    for transfer in transfers:
        if account == transfer.credit:
            change = transfer.amount_fen
        elif account == transfer.debit:
            change = -transfer.amount_fen
        else:
            continue
        balance += change
        lines.append(StatementLine(transfer, change, balance))
    return lines


@dataclass(frozen=True)
class Flow:
    """A transfer's effect under its original reason and direction.

    A reversal appears as a negative flow of the transfer it cancels, so sums over
    flows of one reason are net of corrections. ``transfer`` is the transfer that
    produced the flow: the reversal itself for a negative flow.
    """

    reason: Reason
    source: str
    destination: str
    amount_fen: int
    transfer: Transfer


def flows(transfers: Iterable[Transfer]) -> Iterator[Flow]:
    """Yield one Flow per transfer, folding each reversal into the original's reason.

    Raises NotFound when a reversal names a transfer that was not posted before it.
    """
    seen: dict[str, Transfer] = {}
    for transfer in transfers:
        seen[transfer.transfer_id] = transfer
        if transfer.reason is not Reason.REVERSAL:
            yield Flow(
                transfer.reason,
                transfer.debit,
                transfer.credit,
                transfer.amount_fen,
                transfer,
            )
            continue
        original = seen.get(transfer.reverses)
        if original is None:
            raise _transfer_not_found(transfer.reverses)
        yield Flow(
            original.reason,
            original.debit,
            original.credit,
            -original.amount_fen,
            transfer,
        )


def _transfer_not_found(transfer_id: str) -> NotFound:
    return NotFound(
        "transfer_not_found",
        f"转账 {transfer_id} 不存在，请核对转账编号。",
        transfer_id=transfer_id,
    )


class Ledger:
    """An in-memory ledger over a sequence of transfers in posting order.

    Construct it from the transfers loaded from storage and post new ones. Then
    persist ``ledger.transfers[loaded_count:]``, because a replayed post appends
    nothing.
    """

    def __init__(self, transfers: Iterable[Transfer] = ()):
        self._transfers: list[Transfer] = []
        self._by_id: dict[str, Transfer] = {}
        self._by_key: dict[tuple[str, Reason], Transfer] = {}
        self._reversed_by: dict[str, str] = {}
        for transfer in transfers:
            if self.post(transfer) is not transfer:
                raise _duplicate_key(transfer)

    @property
    def transfers(self) -> tuple[Transfer, ...]:
        """All transfers in posting order."""
        return tuple(self._transfers)

    def __len__(self) -> int:
        return len(self._transfers)

    def get(self, transfer_id: str) -> Transfer:
        """Return the transfer with this id, or raise NotFound."""
        try:
            return self._by_id[transfer_id]
        except KeyError:
            raise _transfer_not_found(transfer_id) from None

    def find(self, source_event_id: str, reason: Reason | str) -> Transfer | None:
        """Return the transfer posted for this source event and reason, if any."""
        return self._by_key.get((source_event_id, Reason(reason)))

    def post(self, transfer: Transfer) -> Transfer:
        """Append ``transfer`` and return it, or return the one already posted.

        A replayed event (same source_event_id and reason, same accounts and amount)
        returns the existing transfer and changes nothing. The same key with other
        accounts or another amount raises Conflict, as does a reused transfer_id.
        """
        existing = self._by_key.get(transfer.key)
        if existing is not None:
            if not _same_movement(existing, transfer):
                raise _replay_mismatch(existing, transfer)
            return existing
        if transfer.transfer_id in self._by_id:
            raise _duplicate_id(transfer)
        if transfer.reverses is not None:
            self._check_reversal(transfer)
            self._reversed_by[transfer.reverses] = transfer.transfer_id
        self._transfers.append(transfer)
        self._by_id[transfer.transfer_id] = transfer
        self._by_key[transfer.key] = transfer
        return transfer

    def reverse(
        self,
        transfer_id: str,
        source_event_id: str,
        occurred_at: datetime,
        memo: str = "",
    ) -> Transfer:
        """Post a reversal that cancels ``transfer_id`` in full, and return it.

        Replaying the same correction event returns the first reversal. Reversing a
        transfer twice, or reversing a reversal, raises Conflict: post a new
        transfer under a new source event instead.
        """
        original = self.get(transfer_id)
        reversal = Transfer(
            transfer_id=str(uuid.uuid4()),
            debit=original.credit,
            credit=original.debit,
            amount_fen=original.amount_fen,
            reason=Reason.REVERSAL,
            source_event_id=source_event_id,
            occurred_at=occurred_at,
            memo=memo,
            reverses=original.transfer_id,
        )
        return self.post(reversal)

    def balances(self) -> dict[str, int]:
        """Return the balance of every account; they always sum to zero."""
        return balances(self._transfers)

    def balance(self, account: str) -> int:
        """Return one account's balance (zero for an account never used)."""
        return self.balances().get(account, 0)

    def statement(self, account: str) -> list[StatementLine]:
        """List one account's transfers with running balances."""
        return statement(self._transfers, account)

    def _check_reversal(self, reversal: Transfer) -> None:
        original = self.get(reversal.reverses)
        if original.reason is Reason.REVERSAL:
            raise Conflict(
                "reversal_not_reversible",
                f"转账 {original.transfer_id} 本身是冲正，不能再冲正；"
                "请以新的业务事件重新记一笔转账。",
                transfer_id=original.transfer_id,
            )
        if original.transfer_id in self._reversed_by:
            raise Conflict(
                "transfer_already_reversed",
                f"转账 {original.transfer_id} 已被转账 "
                f"{self._reversed_by[original.transfer_id]} 冲正，不能重复冲正。",
                transfer_id=original.transfer_id,
            )
        mirrors = (
            reversal.debit == original.credit
            and reversal.credit == original.debit
            and reversal.amount_fen == original.amount_fen
        )
        if not mirrors:
            raise _invalid_transfer(reversal, "冲正转账的金额或账户与原转账不对应。")


def _same_movement(first: Transfer, second: Transfer) -> bool:
    return (
        first.debit == second.debit
        and first.credit == second.credit
        and first.amount_fen == second.amount_fen
        and first.reason is second.reason
        and first.reverses == second.reverses
    )


def _replay_mismatch(existing: Transfer, replayed: Transfer) -> Conflict:
    return Conflict(
        "transfer_replay_mismatch",
        f"事件 {existing.source_event_id} 的 {existing.reason.value} 转账已记账"
        f"（{existing.transfer_id}），但本次的账户或金额不同；"
        "同一事件只能记一笔相同的转账，请核对事件内容。",
        transfer_id=existing.transfer_id,
        replayed_transfer_id=replayed.transfer_id,
    )


def _duplicate_id(transfer: Transfer) -> Conflict:
    return Conflict(
        "duplicate_transfer_id",
        f"转账编号 {transfer.transfer_id} 已被另一笔转账使用，请使用新的编号。",
        transfer_id=transfer.transfer_id,
    )


def _duplicate_key(transfer: Transfer) -> Conflict:
    return Conflict(
        "duplicate_transfer_key",
        f"转账 {transfer.transfer_id} 与已记账的转账来自同一事件 "
        f"{transfer.source_event_id} 和事由 {transfer.reason.value}，账簿数据有重复。",
        transfer_id=transfer.transfer_id,
    )
