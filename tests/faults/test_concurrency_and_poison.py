"""Faults 5, 7 and 8: racing redemptions, malformed messages, a database that vanishes.

The redemption and issuance services and the gateway run as ``nameko run`` processes
against a RabbitMQ virtual host of this module and databases of their own on a private
PostgreSQL cluster (the shared server may be near its connection limit when other
tests run); events are fed to them as their producers would publish them.
"""

import concurrent.futures
import json
import uuid
from datetime import datetime

import pytest
import requests
import sqlalchemy
from sqlalchemy import func, select, text

from aixin import events
from aixin.clock import CAMPAIGN_TZ
from aixin.plumbing import outbox, parked_messages, processed_events
from aixin.vouchers import check_code, make_serial
from services.issuance.models import vouchers as issuance_vouchers
from services.redemption.models import redemptions, vouchers
from tests.faults.harness import free_port
from tests.faults.private_postgres import PrivatePostgres
from tests.faults.service_processes import ADMIN_TOKEN, MAC_KEY, Rig, wait_until
from tests.integration.redemption.redemption_setup import (
    CAMPAIGN, CAMPAIGN_ID, ISSUED_AT, MERCHANT, SHOPPING_AT, TOWNSHIP, basket)

REDEMPTION_RACERS = 50


def _token(base, role, scope=None) -> dict:
    response = requests.post(f"{base}/v1/tokens", json={
        "role": role, "scope": scope, "name": f"fault {role}"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _printed(serials, sequence_batch="batch-fault"):
    return {"campaign_id": CAMPAIGN_ID, "batch_id": sequence_batch,
            "township_code": TOWNSHIP, "merchant_code": MERCHANT, "serials": serials,
            "printed_at": ISSUED_AT}


def _issued(serial):
    return {"campaign_id": CAMPAIGN_ID, "serial": serial,
            "beneficiary_id": f"b-{serial[-7:]}", "beneficiary_name": "张三",
            "masked_id": "411103********1234", "township_code": TOWNSHIP,
            "village": "红旗村", "institution": None, "recipient_kind": "self",
            "issued_at": ISSUED_AT, "late": False}


@pytest.fixture(scope="module")
def private_cluster():
    cluster = PrivatePostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_database(private_cluster):
    """Create databases on the private cluster (they go with it)."""
    def create(label: str) -> str:
        return private_cluster.create_database(f"fault_{uuid.uuid4().hex[:8]}_{label}")
    return create


@pytest.fixture
def rig(amqp_uri, tmp_path):
    running = Rig(amqp_uri, tmp_path, clock_at=datetime(2023, 1, 5, 9, 0,
                                                        tzinfo=CAMPAIGN_TZ))
    yield running
    running.stop_all()


def _start_gateway(rig, postgres_database) -> str:
    port = free_port()
    rig.start("gateway", env={"GATEWAY_ADDRESS": f"127.0.0.1:{port}",
                              "GATEWAY_DATABASE_URL": postgres_database("gateway")})
    base = f"http://127.0.0.1:{port}"

    def answers():
        try:
            return requests.get(f"{base}/v1/whoami", timeout=5, headers={
                "Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 200
        except requests.RequestException:
            return False

    wait_until(answers, 120, 0.5, what=f"the gateway\n{rig.logs()}")
    return base


def test_racing_redemptions_redeem_once(
        rig, postgres_database):
    database_url = postgres_database("redemption")
    env = {"REDEMPTION_DATABASE_URL": database_url}
    instances = [rig.start("redemption", "a", env), rig.start("redemption", "b", env)]
    rig.wait_consumers("rpc-redemption", 2)
    base = _start_gateway(rig, postgres_database)
    commerce = _token(base, "commerce")
    assert requests.post(f"{base}/v1/campaigns", json=CAMPAIGN, headers=commerce,
                         timeout=60).status_code == 201
    designated = requests.post(f"{base}/v1/campaigns/{CAMPAIGN_ID}/merchants", json={
        "merchant_code": MERCHANT, "name": "城关超市", "above_size": True, "stores": 2,
        "township_codes": [TOWNSHIP], "valid_from": "2023-01-01",
        "valid_to": "2023-03-31"}, headers=commerce, timeout=60)
    assert designated.status_code == 201, designated.text
    serial = make_serial(1, TOWNSHIP, 1)
    rig.publish("issuance", "vouchers_printed", _printed([serial]), ISSUED_AT)
    rig.publish("issuance", "voucher_issued", _issued(serial), ISSUED_AT)
    engine = sqlalchemy.create_engine(database_url)
    try:
        def state():
            with engine.connect() as connection:
                return connection.execute(select(vouchers.c.state).where(
                    vouchers.c.serial == serial)).scalar()

        wait_until(lambda: state() == "issued", 60, what="the voucher issued")
        rig.clock.set(SHOPPING_AT)
        merchant = _token(base, "merchant", MERCHANT)
        code = check_code(MAC_KEY.encode(), serial)

        def redeem(number):
            body = {"serial": serial, "check_code": code,
                    "till_transaction_id": f"T{number:06d}", "lines": basket(8000),
                    "total_fen": 8000}
            response = requests.post(
                f"{base}/v1/campaigns/{CAMPAIGN_ID}/redemptions", json=body,
                headers={**merchant, "Idempotency-Key": f"race-{number}"}, timeout=120)
            return response.status_code, response.json()

        with concurrent.futures.ThreadPoolExecutor(REDEMPTION_RACERS) as pool:
            results = list(pool.map(redeem, range(REDEMPTION_RACERS)))
        accepted = [body for status, body in results if status in (200, 201)]
        refused = [body.get("error") for status, body in results
                   if status not in (200, 201)]
        assert len(accepted) == 1, results
        assert refused == ["voucher_already_redeemed"] * (REDEMPTION_RACERS - 1), results
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(redemptions)
                                      .where(redemptions.c.serial == serial)
                                      ).scalar() == 1
            redeemed_events = connection.execute(select(outbox.c.body).where(
                outbox.c.event_type == "voucher_redeemed")).scalars().all()
        assert len(redeemed_events) == 1
        assert state() == "redeemed"
        # Both instances took part: each one logged rejections of the race.
        assert all("redemption rejected" in instance.log() for instance in instances), \
            rig.logs()
    finally:
        engine.dispose()


@pytest.fixture
def issuance(rig, postgres_database):
    """The issuance service, which parks a redemption of a voucher it never printed."""
    url = postgres_database("issuance")
    rig.start("issuance", env={"ISSUANCE_DATABASE_URL": url})
    queue = events.queue_name("voucher_redeemed", "issuance")
    rig.wait_consumers(queue, 1)
    engine = sqlalchemy.create_engine(url)
    yield rig.processes[-1], url, engine, queue
    engine.dispose()


def _redeemed(serial: str) -> dict:
    return {"campaign_id": CAMPAIGN_ID, "redemption_id": f"r-{serial[-7:]}",
            "serial": serial, "township_code": TOWNSHIP, "merchant_code": MERCHANT,
            "voucher_part_fen": 8000, "paid_by_person_fen": 0, "total_fen": 8000,
            "redeemed_at": SHOPPING_AT, "till_transaction_id": f"T{serial[-6:]}"}


def _count(engine, table, *where) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)
                                  .where(*where)).scalar()


def test_malformed_messages_parked_and_replayed(rig, issuance,
                                                           postgres_database):
    process, url, engine, queue = issuance
    unknown = make_serial(1, TOWNSHIP, 7)
    valid = rig.event("voucher_redeemed", _redeemed(unknown), SHOPPING_AT)
    schema_invalid = {**valid, "id": str(uuid.uuid4()),
                      "data": {**valid["data"], "voucher_part_fen": "lots"}}
    rig.publish_raw("redemption", "voucher_redeemed", b'{"id": "x", "type": ',
                    "application/json", queue)
    rig.publish_raw("redemption", "voucher_redeemed", b"\x80\x04K\x01.",
                    "application/x-python-serialize", queue)
    rig.publish_raw("redemption", "voucher_redeemed",
                    json.dumps(schema_invalid).encode(),
                    "application/json", queue)
    rig.publish_raw("redemption", "voucher_redeemed",
                    json.dumps(valid).encode(), "application/json", queue)
    # Redemptions left by earlier tests of this module are parked in the same database,
    # perhaps while this test runs: count only the four messages sent here, which are
    # the two undecodable ones (no event id) and the two events.
    ours = {valid["id"], schema_invalid["id"]}

    def parked_here(row) -> bool:
        return row.event_id is None or row.event_id in ours

    def rows_parked_here():
        with engine.connect() as connection:
            return [row for row in connection.execute(select(parked_messages))
                    if parked_here(row)]

    wait_until(lambda: len(rows_parked_here()) == 4, 60,
               what=f"four parked messages\n{rig.logs()}")
    assert process.alive()
    base = _start_gateway(rig, postgres_database)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    listed = requests.get(f"{base}/v1/admin/parked", params={"service": "issuance"},
                          headers=admin, timeout=60)
    assert listed.status_code == 200, listed.text
    reasons = {row["id"]: row["reason"] for row in listed.json()["parked"]
               if row["event_id"] is None or row["event_id"] in ours}
    assert len(reasons) == 4
    text_of_reasons = " ".join(reasons.values())
    assert "undecodable message (content type 'application/json')" in text_of_reasons
    assert "application/x-python-serialize" in text_of_reasons
    assert "invalid voucher_redeemed data" in text_of_reasons
    assert "voucher_not_found" in text_of_reasons
    # Other traffic still flows: nothing is stuck in the queue and the service answers.
    wait_until(lambda: rig.queue_counts(queue) == (0, 1), 30, what="the queue drained")
    assert requests.get(f"{base}/health", timeout=60).json()["services"] \
        .get("issuance", {}).get("status") in ("ok", None)
    # The operator fixes the cause (here: the voucher is now known) and replays.
    with engine.begin() as connection:
        connection.execute(issuance_vouchers.insert().values(
            serial=unknown, campaign_id=CAMPAIGN_ID, township_code=TOWNSHIP,
            batch_id="batch-fault", state="issued", ever_issued=True, late=False))
    not_found_id = next(i for i, reason in reasons.items() if "voucher_not_found" in reason)
    replayed = requests.post(f"{base}/v1/admin/parked/issuance/{not_found_id}/replay",
                             headers=admin, timeout=60)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["outcome"] == "applied"
    again = requests.post(f"{base}/v1/admin/parked/issuance/{not_found_id}/replay",
                          headers=admin, timeout=60)
    assert again.json()["outcome"] == "already_replayed"
    bad_json_id = next(i for i, reason in reasons.items() if "application/json'" in reason)
    still = requests.post(f"{base}/v1/admin/parked/issuance/{bad_json_id}/replay",
                          headers=admin, timeout=60).json()
    assert still["outcome"] == "failed"
    with engine.connect() as connection:
        assert connection.execute(select(issuance_vouchers.c.state).where(
            issuance_vouchers.c.serial == unknown)).scalar() == "redeemed"
    assert _count(engine, processed_events,
                  processed_events.c.event_id == valid["id"]) == 1
    remaining = requests.get(f"{base}/v1/admin/parked", params={"service": "issuance"},
                             headers=admin, timeout=60).json()["parked"]
    assert len([row for row in remaining if row["id"] in reasons]) == 3


def test_handler_retries_unavailable_database(rig, postgres_database):
    url = postgres_database("redemption")
    name = url.rsplit("/", 1)[1]
    rig.start("redemption", env={"REDEMPTION_DATABASE_URL": url})
    queue = events.queue_name("voucher_issued", "redemption")
    rig.wait_consumers(queue, 1)
    serials = [make_serial(1, TOWNSHIP, sequence) for sequence in range(1, 11)]
    rig.publish("issuance", "vouchers_printed", _printed(serials), ISSUED_AT)
    engine = sqlalchemy.create_engine(url)
    admin = sqlalchemy.create_engine(url.rsplit("/", 1)[0] + "/postgres",
                                     isolation_level="AUTOCOMMIT")
    try:
        wait_until(lambda: _count(engine, vouchers) == 10, 60, what="printed vouchers")
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :name"), {"name": name})
        sent = [rig.publish("issuance", "voucher_issued", _issued(serial), ISSUED_AT)
                for serial in serials]
        # While the database refuses connections, the events stay queued.
        wait_until(lambda: "transient failure, message requeued" in rig.processes[0].log(),
                   60, what="a transient failure")
        assert sum(rig.queue_counts(queue)) >= 1
        with admin.connect() as connection:
            connection.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        wait_until(lambda: _count(engine, vouchers, vouchers.c.state == "issued") == 10,
                   90, what=f"every voucher issued\n{rig.logs()}")
        ids = [envelope["id"] for envelope in sent]
        assert _count(engine, processed_events, processed_events.c.event_id.in_(ids)) == 10
        assert _count(engine, parked_messages) == 0
        wait_until(lambda: rig.queue_counts(queue) == (0, 1), 30, what="the queue drained")
        assert rig.processes[0].alive()
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.dispose()
        engine.dispose()
