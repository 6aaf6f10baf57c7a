"""A service paused past the broker's heartbeat while it applies events.

The workers that were running at SIGSTOP finish after SIGCONT and acknowledge their
messages on the connection RabbitMQ has closed meanwhile. nameko 2.14.1 killed the
service for the resulting socket error; ``aixin.nameko_kit`` logs it instead, and the
broker delivers those messages again to the reconnected consumer.
"""

import time

import sqlalchemy
from sqlalchemy import func, select

from aixin.plumbing import processed_events
from aixin.vouchers import make_serial
from tests.faults.harness import in_background
from tests.faults.service_processes import wait_until
from tests.faults.test_outages import (HEARTBEAT_S, QUEUE, TOWNSHIP,
                                       _assert_each_applied_once, _health, _issue_all,
                                       _print_and_wait, rig)  # noqa: F401 - fixture

EVENTS = 60


def _processed(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(processed_events)
                                  .where(processed_events.c.handler ==
                                         "redemption.on_voucher_issued")).scalar()


def test_service_paused_mid_handler_resumes(rig, amqp_uri, tmp_path):
    url = f"sqlite:///{tmp_path / 'redemption.db'}"
    service = rig.start("redemption", env={"REDEMPTION_DATABASE_URL": url},
                        config_extra={"HEARTBEAT": HEARTBEAT_S})
    rig.wait_consumers(QUEUE, 1)
    engine = sqlalchemy.create_engine(url)
    serials = [make_serial(1, TOWNSHIP, sequence) for sequence in range(1, EVENTS + 1)]
    _print_and_wait(rig, engine, serials)
    # Events keep arriving while the service applies the first ones and is paused.
    publishing = in_background(_issue_all, rig, serials)
    wait_until(lambda: _processed(engine) >= 5, 60, interval_s=0.02,
               what="the first voucher_issued events applied")
    service.pause()
    applied_at_pause = _processed(engine)
    wait_until(lambda: rig.queue_counts(QUEUE)[1] == 0, 60, interval_s=0.5,
               what="the broker to drop the paused consumer")
    time.sleep(HEARTBEAT_S)
    ids = publishing()
    service.resume()
    _assert_each_applied_once(rig, engine, ids, serials, timeout_s=90)
    assert _health(amqp_uri)["status"] == "ok"
    assert service.alive()
    assert "killing <ServiceContainer" not in service.log()
    print(f"applied before the pause: {applied_at_pause} of {EVENTS}")
    engine.dispose()
