"""Faults 9 and 10: PostgreSQL connections killed and the server paused; a service
paused past the broker's heartbeat.

The redemption service runs as a ``nameko run`` process; its database is on a private
PostgreSQL cluster that the test pauses with SIGSTOP, never the shared server.
"""

import time
import uuid
from datetime import datetime

import pytest
import sqlalchemy
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import func, select

from aixin import events
from aixin.clock import CAMPAIGN_TZ
from aixin.plumbing import parked_messages, processed_events
from aixin.vouchers import make_serial
from services.redemption.models import vouchers
from tests.faults.private_postgres import PrivatePostgres
from tests.faults.service_processes import Rig, wait_until
from tests.faults.test_concurrency_and_poison import ISSUED_AT, TOWNSHIP, _issued, _printed

STATEMENT_TIMEOUT_MS = 2000
PAUSE_S = 12  # well past the statement timeout and the client-side limit (7 s)
HEARTBEAT_S = 2
QUEUE = events.queue_name("voucher_issued", "redemption")


def _count(engine, table, *where) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)
                                  .where(*where)).scalar()


@pytest.fixture
def rig(amqp_uri, tmp_path):
    running = Rig(amqp_uri, tmp_path, clock_at=datetime(2023, 1, 5, 9, 0,
                                                        tzinfo=CAMPAIGN_TZ))
    yield running
    running.stop_all()


def _health(amqp_uri, timeout_s=60):
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=timeout_s) as proxy:
        return proxy.redemption.health()


def _print_and_wait(rig, engine, serials):
    rig.publish("issuance", "vouchers_printed", _printed(serials), ISSUED_AT)
    wait_until(lambda: _count(engine, vouchers) == len(serials), 60,
               what=f"printed vouchers\n{rig.logs()}")


def _issue_all(rig, serials) -> list[str]:
    return [rig.publish("issuance", "voucher_issued", _issued(serial), ISSUED_AT)["id"]
            for serial in serials]


def _assert_each_applied_once(rig, engine, ids, serials, timeout_s=120):
    wait_until(lambda: _count(engine, vouchers, vouchers.c.serial.in_(serials),
                              vouchers.c.state == "issued") == len(serials), timeout_s,
               what=f"every voucher issued\n{rig.logs()}")
    assert _count(engine, processed_events, processed_events.c.event_id.in_(ids)) == \
        len(ids)
    assert _count(engine, parked_messages) == 0
    wait_until(lambda: rig.queue_counts(QUEUE) == (0, 1), 60,
               what=f"the queue drained with its consumer back\n{rig.logs()}")


def test_database_outage_hangs_no_worker(rig, amqp_uri):
    cluster = PrivatePostgres()
    try:
        cluster.start()
        name = f"fault_{uuid.uuid4().hex[:8]}"
        url = cluster.create_database(name)
        service = rig.start("redemption", env={
            "REDEMPTION_DATABASE_URL": url,
            "AIXIN_DB_STATEMENT_TIMEOUT_MS": str(STATEMENT_TIMEOUT_MS),
            "AIXIN_DB_CONNECT_TIMEOUT_S": "2"})
        rig.wait_consumers(QUEUE, 1)
        engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
        serials = [make_serial(1, TOWNSHIP, sequence) for sequence in range(1, 13)]
        _print_and_wait(rig, engine, serials)

        # Every connection of the service is terminated: the pool replaces them.
        assert cluster.terminate_backends(name) >= 1
        ids = _issue_all(rig, serials[:4])
        _assert_each_applied_once(rig, engine, ids, serials[:4])
        assert _health(amqp_uri)["status"] == "ok"

        # The whole cluster stops answering for longer than the statement timeout.
        cluster.pause()
        paused_at = time.monotonic()
        ids += _issue_all(rig, serials[4:])
        started = time.monotonic()
        with pytest.raises(RemoteError):
            _health(amqp_uri, timeout_s=60)
        # The worker gave up by itself, bounded by the client-side limit.
        assert time.monotonic() - started < 45
        time.sleep(max(0.0, PAUSE_S - (time.monotonic() - paused_at)))
        assert service.alive()
        cluster.resume()
        _assert_each_applied_once(rig, engine, ids, serials)
        assert _health(amqp_uri)["status"] == "ok"
        assert "did not answer" in service.log() or "server silent" in service.log()
        engine.dispose()
    finally:
        rig.stop_all()
        cluster.stop()


def test_paused_service_resumes(rig, amqp_uri, tmp_path):
    service = rig.start("redemption", env={
        "REDEMPTION_DATABASE_URL": f"sqlite:///{tmp_path / 'redemption.db'}"},
        config_extra={"HEARTBEAT": HEARTBEAT_S})
    rig.wait_consumers(QUEUE, 1)
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'redemption.db'}")
    serials = [make_serial(1, TOWNSHIP, sequence) for sequence in range(1, 9)]
    _print_and_wait(rig, engine, serials)
    ids = _issue_all(rig, serials[:3])
    service.pause()
    # RabbitMQ drops a connection after two missed heartbeats; wait for that.
    wait_until(lambda: rig.queue_counts(QUEUE)[1] == 0, 60, interval_s=0.5,
               what="the broker to drop the paused consumer")
    ids += _issue_all(rig, serials[3:])
    time.sleep(HEARTBEAT_S * 2)
    service.resume()
    _assert_each_applied_once(rig, engine, ids, serials, timeout_s=60)
    assert _health(amqp_uri)["status"] == "ok"
    assert service.alive()
    # kombu's ConsumerMixin logs this when it reconnects after the dropped connection.
    assert "trying to re-establish connection" in service.log()
    engine.dispose()
