"""Where every printed voucher is: progress figures and the accounting identities."""

from collections import defaultdict
from dataclasses import asdict

from sqlalchemy import select

from aixin.vouchers import make_serial
from services.issuance.domain.identities import (VoucherRecord, check_identities,
                                                 township_counts)
from services.issuance.domain.states import VoucherState
from services.issuance.lookups import (eligible_count, iso, load_campaign,
                                       load_township)
from services.issuance.models import beneficiaries, print_batches, vouchers

BATCH_IDENTITY = "printed = sum of print batch sizes"


def _figures(people: list, vouchers_by_person: dict) -> dict:
    handed_out = voided = late = remaining = 0
    for person in people:
        held = vouchers_by_person.get(person.beneficiary_id, [])
        live = [row for row in held if row.state != VoucherState.VOIDED]
        voided += len(held) - len(live)
        handed_out += sum(1 for row in live if row.ever_issued)
        late += sum(1 for row in live if row.ever_issued and row.late)
        if person.status == "entitled" and not live:
            remaining += 1
    return {"eligible": sum(1 for person in people if person.status == "entitled"),
            "handed_out": handed_out, "voided": voided, "remaining": remaining,
            "late": late}


def progress(session, campaign_id: str, township_code: str) -> dict:
    """Return hand-out figures of the township, each village and each institution.

    Village and institution rows count vouchers bound to their persons, so voided
    stock that nobody was meant to get appears only in the township's counts.
    """
    township = load_township(session, campaign_id, township_code)
    people = session.execute(select(beneficiaries).where(
        beneficiaries.c.campaign_id == campaign_id,
        beneficiaries.c.township_code == township_code)).all()
    rows = session.execute(select(vouchers).where(
        vouchers.c.campaign_id == campaign_id,
        vouchers.c.township_code == township_code)).all()
    by_person = defaultdict(list)
    for row in rows:
        if row.beneficiary_id:
            by_person[row.beneficiary_id].append(row)
    villages = defaultdict(list)
    institutions = defaultdict(list)
    for person in people:
        if person.support_mode == "institutional" and person.institution:
            institutions[person.institution].append(person)
        else:
            villages[person.village].append(person)
    counts = township_counts(_records(rows))
    states = counts[0] if counts else None
    return {
        "township_code": township_code, "name": township.name,
        "eligible": eligible_count(township),
        "printed": states.printed if states else 0,
        "in_stock": states.in_stock if states else 0,
        "handed_out": states.handed_out if states else 0,
        "voided": states.voided if states else 0,
        "outstanding": states.outstanding if states else 0,
        "redeemed": states.redeemed if states else 0,
        "remaining": _figures(people, by_person)["remaining"],
        "late": sum(1 for row in rows if row.ever_issued and row.late
                    and row.state != VoucherState.VOIDED),
        "allocated_fen": township.allocated_fen,
        "funds_allocated_at": iso(township.funds_allocated_at),
        "handout_ended_at": iso(township.handout_ended_at),
        "villages": [{"village": name, **_figures(members, by_person)}
                     for name, members in sorted(villages.items(),
                                                 key=lambda item: item[0] or "")],
        "institutions": [{"institution": name, **_figures(members, by_person)}
                         for name, members in sorted(institutions.items())],
    }


def _records(rows) -> list:
    return [VoucherRecord(row.serial, row.township_code, row.state, row.ever_issued)
            for row in rows]


def identity_check(session, campaign_id: str, township_code: str) -> dict:
    """Check both identities and that the stored vouchers match the print batches."""
    campaign = load_campaign(session, campaign_id)
    load_township(session, campaign_id, township_code)
    rows = session.execute(select(vouchers).where(
        vouchers.c.campaign_id == campaign_id,
        vouchers.c.township_code == township_code)).all()
    records = _records(rows)
    counts = township_counts(records)
    broken = [{"identity": item.identity, "left": item.left, "right": item.right,
               "serials": list(item.serials)} for item in check_identities(records)]
    batch_problem = _batch_mismatch(session, campaign, township_code, rows)
    if batch_problem:
        broken.append(batch_problem)
    figures = asdict(counts[0]) if counts else {
        "township_code": township_code, "printed": 0, "in_stock": 0, "handed_out": 0,
        "voided": 0, "outstanding": 0, "redeemed": 0}
    return {**figures, "holds": not broken, "broken": broken}


def _batch_mismatch(session, campaign, township_code: str, rows) -> dict | None:
    """Compare the stored serials with the sequences of the recorded print batches."""
    batches = session.execute(select(print_batches).where(
        print_batches.c.campaign_id == campaign.campaign_id,
        print_batches.c.township_code == township_code)).all()
    expected = {make_serial(campaign.campaign_no, township_code, sequence)
                for batch in batches
                for sequence in range(batch.first_sequence, batch.last_sequence + 1)}
    stored = {row.serial for row in rows}
    serials = sorted(expected ^ stored)
    if not serials:
        return None
    return {"identity": BATCH_IDENTITY, "left": len(stored),
            "right": sum(batch.voucher_count for batch in batches),
            "serials": serials}
