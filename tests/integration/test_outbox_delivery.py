"""The outbox delivers each committed event exactly once and nothing else."""

import eventlet
import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import select

from aixin.clock import clock_from_spec
from aixin.errors import DomainError, InvalidInput
from aixin.nameko_kit import CampaignClock, Storage, consume
from aixin.outbox import BrokerPublisher, build_event, record_event
from aixin.plumbing import create_plumbing_tables, outbox, processed_events

CAMPAIGN = {
    "campaign_id": "411103-2022-12", "campaign_no": 1, "name": "郾城区爱心消费券",
    "district_code": "411103", "district_name": "郾城区", "face_value_fen": 30000,
    "snapshot_month": "2022-12", "funds_due": "2023-01-13",
    "spring_festival": "2023-01-22", "redemption_deadline": "2023-02-28",
    "joint_audit_date": "2023-03-06", "clearing_deadline": "2023-03-31",
    "spare_share_percent": 0, "cash_equivalent_categories": ["cash"],
}
RECEIVED = []


class Producer:
    """Stands in for the redemption service, the producer of campaign_created."""

    name = "redemption"
    db = Storage("redemption", create_schema=create_plumbing_tables)
    clock = CampaignClock()

    @rpc(expected_exceptions=DomainError)
    def announce(self, data: dict, fail_after_write: bool = False):
        with self.db.transaction() as session:
            record_event(session, "campaign_created", data, self.clock.now())
            if fail_after_write:
                raise InvalidInput("rejected", "测试用的拒绝")

    @rpc
    def announce_all(self, names: list):
        with self.db.transaction() as session:
            for name in names:
                record_event(session, "campaign_created", {**CAMPAIGN, "name": name},
                             self.clock.now())


class Consumer:
    """Stands in for the roster service, one consumer of campaign_created."""

    name = "roster"
    db = Storage("roster", create_schema=create_plumbing_tables)
    clock = CampaignClock()

    @consume("campaign_created")
    def on_campaign_created(self, session, event):
        RECEIVED.append(event.id)


def wait_for(predicate, timeout=10.0):
    with eventlet.Timeout(timeout):
        while not predicate():
            eventlet.sleep(0.05)


@pytest.fixture
def config(amqp_uri, database_url_for):
    return {"AMQP_URI": amqp_uri, "AIXIN_CLOCK": "system",
            "REDEMPTION_DATABASE_URL": database_url_for("redemption"),
            "ROSTER_DATABASE_URL": database_url_for("roster")}


@pytest.fixture(autouse=True)
def clear_received():
    RECEIVED.clear()


def outbox_rows(url):
    from aixin.db import Database
    database = Database(url)
    with database.reading() as session:
        rows = session.execute(select(outbox)).all()
    database.dispose()
    return rows


class TestOutboxDelivery:
    def test_committed_event_reaches_consumer_once(self, runner_factory, config):
        runner = runner_factory(config, Producer, Consumer)
        runner.start()
        with ServiceRpcProxy("redemption", config) as producer:
            producer.announce(CAMPAIGN)
        wait_for(lambda: len(RECEIVED) == 1)
        eventlet.sleep(0.5)
        assert len(RECEIVED) == 1

    def test_large_event_is_relayed_with_small_ones(self, runner_factory, config):
        # A body over RELAY_INLINE_BODY_BYTES is read on its own when its turn comes.
        runner = runner_factory(config, Producer, Consumer)
        runner.start()
        with ServiceRpcProxy("redemption", config) as producer:
            producer.announce_all(["小", "大" * 40_000, "小"])
        wait_for(lambda: len(RECEIVED) == 3)
        rows = outbox_rows(config["REDEMPTION_DATABASE_URL"])
        assert sorted(RECEIVED) == sorted(row.event_id for row in rows)
        wait_for(lambda: all(row.published_at is not None for row in outbox_rows(
            config["REDEMPTION_DATABASE_URL"])))

    def test_rolled_back_change_sends_nothing(self, runner_factory, config):
        runner = runner_factory(config, Producer, Consumer)
        runner.start()
        with ServiceRpcProxy("redemption", config) as producer:
            with pytest.raises(InvalidInput):
                producer.announce(CAMPAIGN, fail_after_write=True)
            producer.announce({**CAMPAIGN, "name": "after the rejection"})
        wait_for(lambda: len(RECEIVED) == 1)
        eventlet.sleep(0.5)
        assert len(RECEIVED) == 1
        assert len(outbox_rows(config["REDEMPTION_DATABASE_URL"])) == 1

    def test_event_committed_before_stop_is_sent_on_restart(
            self, container_factory, config):
        silent = container_factory(Producer, config)
        silent.start()
        # Stop the relay first, as if the process died between commit and publish.
        silent.dependencies.__iter__  # noqa: B018 - keep the container referenced
        storage = next(d for d in silent.extensions if isinstance(d, Storage))
        storage.relay.stop()
        eventlet.sleep(0.1)
        with ServiceRpcProxy("redemption", config) as producer:
            producer.announce(CAMPAIGN)
        silent.kill()
        assert outbox_rows(config["REDEMPTION_DATABASE_URL"])[0].published_at is None

        consumer = container_factory(Consumer, config)
        consumer.start()
        restarted = container_factory(Producer, config)
        restarted.start()
        wait_for(lambda: len(RECEIVED) == 1)
        # The relay marks the row after the broker confirmed it, which may be just
        # after the consumer already received the event.
        wait_for(lambda: outbox_rows(
            config["REDEMPTION_DATABASE_URL"])[0].published_at is not None)

    def test_redelivered_event_changes_nothing(self, container_factory, config):
        consumer = container_factory(Consumer, config)
        consumer.start()
        envelope = build_event("campaign_created", CAMPAIGN,
                               clock_from_spec("system").now())
        publisher = BrokerPublisher(config["AMQP_URI"], "redemption")
        for _ in range(5):
            publisher.publish(envelope)
        publisher.close()
        wait_for(lambda: len(RECEIVED) >= 1)
        eventlet.sleep(1.0)
        assert RECEIVED == [envelope["id"]]
        from aixin.db import Database
        database = Database(config["ROSTER_DATABASE_URL"])
        with database.reading() as session:
            handled = session.execute(select(processed_events)).all()
        database.dispose()
        assert len(handled) == 1
