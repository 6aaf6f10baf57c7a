"""On PostgreSQL a redemption takes the two-statement path (``redeeming_pg``), and a
batch of them one read and one write: both must write what the general path writes
and keep every guard of a race."""

import json
import threading

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import select, text

from aixin.clock import FixedClock
from aixin.db import Database, migrate
from aixin.errors import Conflict, InvalidInput
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
    serials = [make_serial(1, TOWNSHIP, sequence) for sequence in range(1, 13)]
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


def store_key_after_checks(monkeypatch, database, key: str, serial: str,
                           response: dict) -> None:
    """Make another request store ``key`` for ``serial`` right after the checks of a
    redemption, between its read and its write."""
    checked = redeeming_pg.checked_redemption
    scoped = f"redeem:{MERCHANT}:{key}"

    def same_key_commits_first(*args, **kwargs):
        row = checked(*args, **kwargs)
        with database.transaction() as session:
            if session.execute(select(idempotency_keys.c.key).where(
                    idempotency_keys.c.key == scoped)).first() is None:
                session.execute(idempotency_keys.insert().values(
                    key=scoped, operation="redeem",
                    fingerprint=redeeming_pg.commands.fingerprint(
                        [CAMPAIGN_ID, request_for(serial)]),
                    response=response, created_at=SHOPPING_AT))
        return row

    monkeypatch.setattr(redeeming_pg, "checked_redemption", same_key_commits_first)


def test_key_stored_by_a_concurrent_request_wins(service, monkeypatch):
    """The same key committed by another request between the read and the write:
    the write fails whole, and the stored result is returned."""
    worker, database, serials = service
    theirs = {"redemption_id": "theirs"}
    store_key_after_checks(monkeypatch, database, "twice", serials[3], theirs)
    assert worker.redeem(TILL, CAMPAIGN_ID, request_for(serials[3]), "twice") == theirs
    with database.reading() as session:
        state = session.execute(select(vouchers.c.state).where(
            vouchers.c.serial == serials[3])).scalar_one()
        assert session.execute(select(redemptions.c.serial)).all() == []
        assert session.execute(select(outbox.c.position).where(
            outbox.c.event_type == "voucher_redeemed")).all() == []
    assert state == "issued"


def batch_item(serial: str, key: str, **changes) -> dict:
    return {"actor": TILL, "campaign_id": CAMPAIGN_ID,
            "payload": {**request_for(serial), **changes}, "idempotency_key": key}


def count_rows(database) -> tuple[int, int]:
    """Return how many redemptions and voucher_redeemed events are stored."""
    with database.reading() as session:
        return (len(session.execute(select(redemptions.c.serial)).all()),
                len(session.execute(select(outbox.c.position).where(
                    outbox.c.event_type == "voucher_redeemed")).all()))


def test_batch_writes_what_one_at_a_time_writes(service, monkeypatch):
    worker, database, serials = service
    single = worker.redeem(TILL, CAMPAIGN_ID, request_for(serials[0]), "alone")
    one_at_a_time = []
    one_statement = redeeming_pg.redeem_in_one_statement
    monkeypatch.setattr(redeeming_pg, "redeem_in_one_statement",
                        lambda *args: one_at_a_time.append(args) or one_statement(*args))
    outcomes = worker.redeem_batch([batch_item(serials[1], "b1"),
                                    batch_item(serials[2], "b2")])
    assert one_at_a_time == []
    assert [outcome["result"]["serial"] for outcome in outcomes] == serials[1:3]
    assert {**outcomes[0]["result"], "serial": "", "redemption_id": ""} == \
        {**single, "serial": "", "redemption_id": ""}
    for serial, key in ((serials[1], "b1"), (serials[2], "b2")):
        assert written(database, serial, f"redeem:{MERCHANT}:{key}") == \
            written(database, serials[0], f"redeem:{MERCHANT}:alone")
    assert worker.redeem(TILL, CAMPAIGN_ID, request_for(serials[1]), "b1") == \
        outcomes[0]["result"]


def test_batch_repeated_serial_or_key(service):
    worker, database, serials = service
    outcomes = worker.redeem_batch([
        batch_item(serials[0], "first"),
        batch_item(serials[0], "second"),
        batch_item(serials[1], "first"),
        batch_item(serials[2], "third"),
    ])
    assert outcomes[0]["result"]["serial"] == serials[0]
    assert outcomes[1]["error"]["code"] == "voucher_already_redeemed"
    assert outcomes[2]["error"]["code"] == "idempotency_key_reused"
    assert outcomes[3]["result"]["serial"] == serials[2]
    assert count_rows(database) == (2, 2)


def test_batch_rejections_are_stored_and_replayed(service):
    worker, database, serials = service
    batch = [batch_item(serials[0], "good"),
             batch_item(serials[1], "bad-code", check_code="AAAAAAAA"),
             batch_item(make_serial(1, TOWNSHIP, 999), "unknown"),
             batch_item(serials[2], "short", total_fen=100),
             batch_item(serials[3], "good-too")]
    outcomes = worker.redeem_batch(batch)
    assert "result" in outcomes[0]
    assert outcomes[1]["error"]["code"] == "invalid_check_code"
    assert outcomes[2]["error"]["code"] == "voucher_not_found"
    assert outcomes[3]["error"]["class"] == "InvalidInput"
    assert "result" in outcomes[4]
    assert worker.redeem_batch(batch) == outcomes
    assert count_rows(database) == (2, 2)


def test_batch_voucher_claimed_after_the_read(service, monkeypatch):
    worker, database, serials = service
    checked = redeeming_pg.checked_redemption
    claimed = []

    def another_till_wins(*args, **kwargs):
        row = checked(*args, **kwargs)
        if not claimed:
            claimed.append(row["serial"])
            with database.transaction() as session:
                session.execute(text("UPDATE vouchers SET state = 'redeemed' "
                                     "WHERE serial = :serial"), {"serial": row["serial"]})
        return row

    monkeypatch.setattr(redeeming_pg, "checked_redemption", another_till_wins)
    outcomes = worker.redeem_batch([batch_item(serials[4], "lost"),
                                    batch_item(serials[5], "won")])
    assert claimed == [serials[4]]
    assert outcomes[0]["error"]["code"] == "voucher_already_redeemed"
    assert outcomes[1]["result"]["serial"] == serials[5]
    assert count_rows(database) == (1, 1)


def test_batch_key_stored_concurrently_writes_nothing_twice(service, monkeypatch):
    """A unique violation fails the batch's one write whole; each request then goes
    one at a time, and the key's stored result wins."""
    worker, database, serials = service
    theirs = {"redemption_id": "theirs"}
    store_key_after_checks(monkeypatch, database, "raced", serials[6], theirs)
    outcomes = worker.redeem_batch([batch_item(serials[6], "raced"),
                                    batch_item(serials[7], "calm")])
    assert outcomes[0] == {"result": theirs}
    assert outcomes[1]["result"]["serial"] == serials[7]
    assert count_rows(database) == (1, 1)


@pytest.mark.parametrize("requests", [
    "not a list",
    [{"actor": TILL, "campaign_id": CAMPAIGN_ID}],
    [{"actor": "till", "campaign_id": CAMPAIGN_ID, "payload": {},
      "idempotency_key": "k"}],
])
def test_batch_of_wrong_shape_is_rejected(service, requests):
    worker, database, _ = service
    with pytest.raises(InvalidInput) as rejected:
        worker.redeem_batch(requests)
    assert rejected.value.code == "invalid_batch"
    assert count_rows(database) == (0, 0)


def test_batch_nul_fails_only_its_request(service):
    """PostgreSQL cannot store U+0000 in text: the batch write fails whole, and each
    request then goes alone."""
    worker, database, serials = service
    outcomes = worker.redeem_batch([
        batch_item(serials[0], "nul", till_transaction_id="T\x00"),
        batch_item(serials[1], "clean"),
        batch_item(serials[2], "clean-too")])
    assert outcomes[0] == {"failure": "ValueError"}
    assert outcomes[1]["result"]["serial"] == serials[1]
    assert outcomes[2]["result"]["serial"] == serials[2]
    assert count_rows(database) == (2, 2)


def test_batch_key_first_use_counts(service):
    """A request that cannot go in the batch write still keeps its key, so a later
    request with that key is a reuse, as it would be one at a time."""
    worker, database, serials = service
    invalid = batch_item(serials[0], "shared")
    invalid["payload"]["serial"] = "12345"
    outcomes = worker.redeem_batch([invalid, batch_item(serials[1], "shared"),
                                    batch_item(serials[2], "other"),
                                    batch_item(serials[3], "another")])
    assert outcomes[0]["error"]["code"] == "invalid_serial"
    assert outcomes[1]["error"]["code"] == "idempotency_key_reused"
    assert outcomes[2]["result"]["serial"] == serials[2]
    assert count_rows(database) == (2, 2)


def test_batches_in_opposite_order_both_finish(service):
    """Two calls may carry the same serials in opposite order (tills that retry with
    new keys): neither may fail whole, and each voucher is redeemed once."""
    worker, database, serials = service
    barrier = threading.Barrier(2)
    results = {}

    def run(name, order):
        barrier.wait()
        try:
            results[name] = worker.redeem_batch(
                [batch_item(serial, f"{name}-{serial}") for serial in order])
        except Exception as error:  # noqa: BLE001 - reported by the assert below
            results[name] = error

    threads = [threading.Thread(target=run, args=("up", serials)),
               threading.Thread(target=run, args=("down", serials[::-1]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name in ("up", "down"):
        assert isinstance(results[name], list), results[name]
    assert count_rows(database) == (len(serials), len(serials))
