"""On PostgreSQL a redemption takes the two-statement path (``redeeming_pg``): it must
write what the general path writes and keep every guard of a race."""

import json

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import select, text

from aixin.clock import FixedClock
from aixin.db import Database, migrate
from aixin.errors import Conflict
from aixin.nameko_kit import ServiceDatabase
from aixin.plumbing import audit_log, idempotency_keys, outbox
from aixin.vouchers import check_code, make_serial
from services.redemption import redeeming_pg, voucher_book
from services.redemption.fixed_rows import FixedRows
from services.redemption.models import redemptions, vouchers
from services.redemption.service import RedemptionService
from tests.integration.redemption.redemption_setup import (CAMPAIGN, CAMPAIGN_ID, ISSUED_AT,
                                                           MAC_KEY, MERCHANT, SHOPPING_AT,
                                                           TOWNSHIP, basket)

COMMERCE = {"role": "commerce", "scope": None, "name": "区商务局经办人",
            "token_id": "t1", "correlation_id": "c1"}
TILL = {"role": "merchant", "scope": MERCHANT, "name": "城关超市收银台",
        "token_id": "t2", "correlation_id": "c2"}


@pytest.fixture
def service(postgres_database):
    url = postgres_database("redemption")
    migrate("redemption", url)
    database = Database(url)
    worker = worker_factory(RedemptionService, db=ServiceDatabase(database, None),
                            clock=FixedClock(SHOPPING_AT), voucher_key=MAC_KEY.encode(),
                            fixed_rows=FixedRows())
    worker.create_campaign(COMMERCE, CAMPAIGN, "campaign")
    worker.designate_merchant(COMMERCE, CAMPAIGN_ID, {
        "merchant_code": MERCHANT, "name": "城关超市", "above_size": True,
        "township_codes": [TOWNSHIP], "valid_from": "2023-01-01",
        "valid_to": "2023-03-31"}, "merchant")
    serials = [make_serial(1, TOWNSHIP, sequence) for sequence in range(1, 6)]
    with database.transaction() as session:
        for serial in serials:
            voucher_book.record_issued(session, {
                "campaign_id": CAMPAIGN_ID, "serial": serial,
                "beneficiary_id": f"b-{serial[-7:]}", "township_code": TOWNSHIP,
                "village": "红旗村", "institution": None, "issued_at": ISSUED_AT})
    yield worker, database, serials
    database.dispose()


def request_for(serial: str, total_fen: int = 31490) -> dict:
    return {"serial": serial, "check_code": check_code(MAC_KEY.encode(), serial),
            "till_transaction_id": "T0001", "lines": basket(total_fen),
            "total_fen": total_fen}


def written(database, serial: str, key: str) -> dict:
    """The rows a redemption wrote, without what differs by design (ids, serial)."""
    with database.reading() as session:
        redemption = dict(session.execute(select(redemptions).where(
            redemptions.c.serial == serial)).one()._mapping)
        voucher = session.execute(select(vouchers.c.state, vouchers.c.redeemed_at,
                                         vouchers.c.redemption_id).where(
            vouchers.c.serial == serial)).one()
        audit = dict(session.execute(select(audit_log).where(
            audit_log.c.subject == serial)).one()._mapping)
        event = json.loads(session.execute(select(outbox.c.body).where(
            outbox.c.body.contains(serial))).scalar_one())
        stored = session.execute(select(idempotency_keys).where(
            idempotency_keys.c.key == key)).one()
    redemption_id = redemption.pop("redemption_id")
    assert voucher.state == "redeemed"
    assert voucher.redemption_id == redemption_id
    assert voucher.redeemed_at == redemption["redeemed_at"]
    assert audit.pop("details")["redemption_id"] == redemption_id
    assert event["data"].pop("redemption_id") == redemption_id
    assert stored.response.pop("redemption_id") == redemption_id
    for value in (redemption, audit, event["data"], stored.response):
        value.pop("serial", None)
    audit.pop("id")
    audit.pop("subject")
    return {"redemption": redemption, "audit": audit, "event_type": event["type"],
            "event": event["data"], "operation": stored.operation,
            "response": stored.response}


def test_both_paths_write_the_same_rows(service, monkeypatch):
    worker, database, serials = service
    calls = []
    one_statement = redeeming_pg.redeem_in_one_statement
    monkeypatch.setattr(redeeming_pg, "redeem_in_one_statement",
                        lambda *args: calls.append(args) or one_statement(*args))
    fast = worker.redeem(TILL, CAMPAIGN_ID, request_for(serials[0]), "fast")
    assert len(calls) == 1
    monkeypatch.setattr(redeeming_pg, "usable", lambda *args: False)
    general = worker.redeem(TILL, CAMPAIGN_ID, request_for(serials[1]), "general")

    assert {**fast, "serial": "", "redemption_id": ""} == \
        {**general, "serial": "", "redemption_id": ""}
    assert written(database, serials[0], f"redeem:{MERCHANT}:fast") == \
        written(database, serials[1], f"redeem:{MERCHANT}:general")


def test_retry_returns_the_original_and_writes_nothing(service):
    worker, database, serials = service
    first = worker.redeem(TILL, CAMPAIGN_ID, request_for(serials[0]), "k1")
    assert worker.redeem(TILL, CAMPAIGN_ID, request_for(serials[0]), "k1") == first
    with pytest.raises(Conflict) as reused:
        worker.redeem(TILL, CAMPAIGN_ID, request_for(serials[0], 30000), "k1")
    assert reused.value.code == "idempotency_key_reused"
    with database.reading() as session:
        assert session.execute(select(outbox.c.position).where(
            outbox.c.event_type == "voucher_redeemed")).all() != []
        assert len(session.execute(select(redemptions.c.serial)).all()) == 1


def test_voucher_claimed_after_the_read_is_rejected_and_stored(service, monkeypatch):
    worker, database, serials = service
    checked = redeeming_pg.checked_redemption

    def another_till_wins(*args, **kwargs):
        row = checked(*args, **kwargs)
        with database.transaction() as session:
            session.execute(text("UPDATE vouchers SET state = 'redeemed' "
                                 "WHERE serial = :serial"), {"serial": serials[2]})
        return row

    monkeypatch.setattr(redeeming_pg, "checked_redemption", another_till_wins)
    with pytest.raises(Conflict) as rejected:
        worker.redeem(TILL, CAMPAIGN_ID, request_for(serials[2]), "late")
    assert rejected.value.code == "voucher_already_redeemed"
    monkeypatch.setattr(redeeming_pg, "checked_redemption", checked)
    with pytest.raises(Conflict) as again:
        worker.redeem(TILL, CAMPAIGN_ID, request_for(serials[2]), "late")
    assert again.value.code == "voucher_already_redeemed"
    assert again.value.message == rejected.value.message
    with database.reading() as session:
        assert session.execute(select(redemptions.c.serial)).all() == []
        assert session.execute(select(outbox.c.position).where(
            outbox.c.event_type == "voucher_redeemed")).all() == []
        assert session.execute(select(audit_log.c.id).where(
            audit_log.c.action == "redeem_voucher")).all() == []
        stored = session.execute(select(idempotency_keys.c.response).where(
            idempotency_keys.c.key == f"redeem:{MERCHANT}:late")).scalar_one()
    assert stored["__error__"]["code"] == "voucher_already_redeemed"


def test_key_stored_by_a_concurrent_request_wins(service, monkeypatch):
    """The same key committed by another request between the read and the write:
    the write fails whole, and the stored result is returned."""
    worker, database, serials = service
    checked = redeeming_pg.checked_redemption
    key = f"redeem:{MERCHANT}:twice"
    theirs = {"redemption_id": "theirs"}

    def same_key_commits_first(*args, **kwargs):
        row = checked(*args, **kwargs)
        with database.transaction() as session:
            session.execute(idempotency_keys.insert().values(
                key=key, operation="redeem",
                fingerprint=redeeming_pg.commands.fingerprint(
                    [CAMPAIGN_ID, request_for(serials[3])]),
                response=theirs, created_at=SHOPPING_AT))
        return row

    monkeypatch.setattr(redeeming_pg, "checked_redemption", same_key_commits_first)
    assert worker.redeem(TILL, CAMPAIGN_ID, request_for(serials[3]), "twice") == theirs
    with database.reading() as session:
        state = session.execute(select(vouchers.c.state).where(
            vouchers.c.serial == serials[3])).scalar_one()
        assert session.execute(select(redemptions.c.serial)).all() == []
        assert session.execute(select(outbox.c.position).where(
            outbox.c.event_type == "voucher_redeemed")).all() == []
    assert state == "issued"
