import time
import pytest
import sqlalchemy
from aixin.vouchers import make_serial
from tests.faults.test_outages import (rig, _print_and_wait, _issue_all, _assert_each_applied_once,
                                       _health, QUEUE, HEARTBEAT_S, TOWNSHIP)

@pytest.mark.parametrize("extra_pause_s,during_flow", [(30, False), (4, True), (70, True)])
def test_probe(rig, amqp_uri, tmp_path, extra_pause_s, during_flow):
    service = rig.start("redemption", env={
        "REDEMPTION_DATABASE_URL": f"sqlite:///{tmp_path / 'redemption.db'}"},
        config_extra={"HEARTBEAT": HEARTBEAT_S})
    rig.wait_consumers(QUEUE, 1)
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'redemption.db'}")
    serials = [make_serial(1, TOWNSHIP, sequence) for sequence in range(1, 41)]
    _print_and_wait(rig, engine, serials)
    ids = _issue_all(rig, serials[:20])
    if during_flow:
        time.sleep(0.05)
    service.pause()
    t0 = time.monotonic()
    from tests.faults.service_processes import wait_until
    wait_until(lambda: rig.queue_counts(QUEUE)[1] == 0, 90, interval_s=0.5, what="drop")
    print("dropped after", time.monotonic() - t0)
    ids += _issue_all(rig, serials[20:])
    time.sleep(extra_pause_s)
    service.resume()
    _assert_each_applied_once(rig, engine, ids, serials, timeout_s=60)
    assert _health(amqp_uri)["status"] == "ok"
