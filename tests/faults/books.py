"""Checking the books after a fault: read every service database and the broker.

The API is two functions:

- ``read_books(database_urls, amqp_uri=None)`` returns a ``Books``: the figures of each
  service (``books.figures``) and every rule they break (``books.failures``, empty when
  all hold).
- ``wait_for_balanced_books(database_urls, amqp_uri=None, timeout_s=180,
  parked_allowed=0)`` polls ``read_books`` until no rule is broken and returns the
  ``Books``, or fails the test with the failures of the last reading. Delivery is
  asynchronous, so a fault test calls this rather than ``read_books``.

``database_urls`` maps each service name (roster, issuance, redemption, settlement,
reporting, notify) to its SQLAlchemy URL; ``amqp_uri`` names the virtual host whose
consumer queues must be empty. The rules:

- every voucher is redeemed at most once (redemption service);
- printed = in stock + handed out + voided (issuance), and the print batches' totals
  equal the vouchers printed;
- all ledger accounts sum to zero (settlement);
- every committed state change had exactly one effect downstream: each outbox event
  was published, and each consumer named in the event catalogue recorded it as
  processed; the counts of printed, handed-out, voided and redeemed vouchers and the
  redeemed amounts agree between issuance, redemption, settlement and reporting;
- nothing is parked (up to ``parked_allowed`` messages), no outbox row waits and every
  consumer queue of the catalogue is empty.
"""

import time
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy
from kombu import Connection
from sqlalchemy import text

from aixin import events

SERVICES = ("roster", "issuance", "redemption", "settlement", "reporting", "notify")


@dataclass
class Books:
    figures: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{name}: {value}" for name, value in sorted(self.figures.items())]
        lines += [f"FAILED: {failure}" for failure in self.failures]
        return "\n".join(lines)


def read_books(database_urls: dict, amqp_uri: str | None = None) -> Books:
    """Read the figures of every service and list the rules they break."""
    books = Books()
    engines = {name: sqlalchemy.create_engine(url) for name, url in database_urls.items()}
    try:
        with_connections = {name: engine.connect() for name, engine in engines.items()}
        try:
            _read_plumbing(books, with_connections)
            _read_vouchers(books, with_connections)
            _read_ledger(books, with_connections["settlement"])
        finally:
            for connection in with_connections.values():
                connection.close()
    finally:
        for engine in engines.values():
            engine.dispose()
    if amqp_uri:
        _read_queues(books, amqp_uri)
    return books


def wait_for_balanced_books(database_urls: dict, amqp_uri: str | None = None,
                            timeout_s: float = 180, parked_allowed: int = 0) -> Books:
    """Poll the books until every rule holds; fail the test with the last failures."""
    deadline = time.monotonic() + timeout_s
    while True:
        books = read_books(database_urls, amqp_uri)
        books.failures = [failure for failure in books.failures
                          if not _parked_within(failure, books, parked_allowed)]
        if not books.failures or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    assert not books.failures, f"books do not balance after {timeout_s:.0f} s:\n{books}"
    return books


def _parked_within(failure: str, books: Books, parked_allowed: int) -> bool:
    return failure.startswith("parked messages") and \
        books.figures["parked_messages"] <= parked_allowed


def _scalar(connection, sql: str, **params):
    return connection.execute(text(sql), params).scalar_one()


def _read_plumbing(books: Books, connections: dict) -> None:
    """Check that each outbox event left and reached every consumer exactly once."""
    processed = {}
    parked = 0
    for name, connection in connections.items():
        rows = connection.execute(text("SELECT event_id, handler FROM processed_events"))
        processed[name] = {(row.event_id, row.handler) for row in rows}
        parked += _scalar(connection, "SELECT count(*) FROM parked_messages "
                                      "WHERE replayed_at IS NULL")
    books.figures["parked_messages"] = parked
    if parked:
        books.failures.append(f"parked messages: {parked}")
    pending = 0
    published = 0
    missing = defaultdict(int)
    for producer, connection in connections.items():
        rows = connection.execute(text(
            "SELECT event_id, event_type, published_at FROM outbox")).all()
        for row in rows:
            if row.published_at is None:
                pending += 1
                continue
            published += 1
            for consumer in events.spec_of(row.event_type).consumers:
                handler = f"{consumer}.{events.handler_name(row.event_type)}"
                if consumer in processed and (row.event_id, handler) not in processed[consumer]:
                    missing[handler] += 1
    books.figures["outbox_pending"] = pending
    books.figures["events_published"] = published
    books.figures["events_processed"] = sum(len(rows) for rows in processed.values())
    if pending:
        books.failures.append(f"{pending} outbox events not yet published")
    for handler, count in sorted(missing.items()):
        books.failures.append(f"{count} published events never processed by {handler}")


def _read_vouchers(books: Books, connections: dict) -> None:
    issuance = connections["issuance"]
    redemption = connections["redemption"]
    settlement = connections["settlement"]
    reporting = connections["reporting"]
    states = dict(issuance.execute(text(
        "SELECT state, count(*) FROM vouchers GROUP BY state")).all())
    printed = sum(states.values())
    in_stock = states.get("in_stock", 0)
    handed_out = states.get("issued", 0) + states.get("redeemed", 0)
    voided = states.get("voided", 0)
    batch_total = _scalar(issuance, "SELECT coalesce(sum(voucher_count), 0) "
                                    "FROM print_batches")
    figures = {
        "issuance_printed": printed, "issuance_in_stock": in_stock,
        "issuance_handed_out": handed_out, "issuance_voided": voided,
        "issuance_redeemed": states.get("redeemed", 0),
        "issuance_ever_issued": _scalar(issuance, "SELECT count(*) FROM vouchers "
                                                  "WHERE ever_issued"),
        "redemption_known_printed": _scalar(
            redemption, "SELECT count(*) FROM vouchers WHERE print_batch_id IS NOT NULL"),
        "redemption_known_issued": _scalar(
            redemption, "SELECT count(*) FROM vouchers WHERE issued_at IS NOT NULL"),
        "redemption_known_voided": _scalar(
            redemption, "SELECT count(*) FROM vouchers WHERE state = 'voided'"),
        "redemptions": _scalar(redemption, "SELECT count(*) FROM redemptions"),
        "redemptions_fen": _scalar(redemption, "SELECT coalesce(sum(voucher_part_fen), 0) "
                                               "FROM redemptions"),
        "settlement_redemptions": _scalar(settlement, "SELECT count(*) FROM redemptions"),
        "settlement_redemptions_fen": _scalar(
            settlement, "SELECT coalesce(sum(voucher_part_fen), 0) FROM redemptions"),
        "reporting_printed": _scalar(
            reporting, "SELECT count(*) FROM vouchers WHERE printed_on IS NOT NULL"),
        "reporting_issued": _scalar(
            reporting, "SELECT count(*) FROM vouchers WHERE issued_on IS NOT NULL"),
        "reporting_voided": _scalar(
            reporting, "SELECT count(*) FROM vouchers WHERE voided_on IS NOT NULL"),
        "reporting_redeemed": _scalar(
            reporting, "SELECT count(*) FROM vouchers WHERE redemption_id IS NOT NULL"),
        "reporting_redeemed_fen": _scalar(
            reporting, "SELECT coalesce(sum(voucher_part_fen), 0) FROM vouchers "
                       "WHERE redemption_id IS NOT NULL"),
    }
    books.figures.update(figures)
    twice = _scalar(redemption, "SELECT count(*) FROM (SELECT serial FROM redemptions "
                                "GROUP BY serial HAVING count(*) > 1) AS doubled")
    if twice:
        books.failures.append(f"{twice} vouchers redeemed more than once")
    if printed != in_stock + handed_out + voided:
        books.failures.append(f"printed {printed} != in stock {in_stock} + handed out "
                              f"{handed_out} + voided {voided}")
    if batch_total != printed:
        books.failures.append(f"print batches total {batch_total} vouchers but "
                              f"{printed} exist")
    _require_equal(books, figures, "printed vouchers", "issuance_printed",
                   "redemption_known_printed", "reporting_printed")
    _require_equal(books, figures, "handed-out vouchers", "issuance_ever_issued",
                   "redemption_known_issued", "reporting_issued")
    _require_equal(books, figures, "voided vouchers", "issuance_voided",
                   "redemption_known_voided", "reporting_voided")
    _require_equal(books, figures, "redeemed vouchers", "issuance_redeemed",
                   "redemptions", "settlement_redemptions", "reporting_redeemed")
    _require_equal(books, figures, "redeemed fen", "redemptions_fen",
                   "settlement_redemptions_fen", "reporting_redeemed_fen")


def _require_equal(books: Books, figures: dict, what: str, *names: str) -> None:
    values = {name: figures[name] for name in names}
    if len(set(values.values())) > 1:
        books.failures.append(f"{what} disagree between services: {values}")


def _read_ledger(books: Books, settlement) -> None:
    balances = defaultdict(int)
    for row in settlement.execute(text("SELECT debit, credit, amount_fen FROM transfers")):
        balances[row.debit] -= row.amount_fen
        balances[row.credit] += row.amount_fen
    total = sum(balances.values())
    books.figures["ledger_accounts"] = len(balances)
    books.figures["ledger_balance_sum_fen"] = total
    if total != 0:
        books.failures.append(f"ledger balances sum to {total} fen, not 0")


def _read_queues(books: Books, amqp_uri: str) -> None:
    """Check that every consumer queue of the catalogue is empty (ready messages)."""
    waiting = {}
    with Connection(amqp_uri, connect_timeout=10) as connection:
        for event_type, spec in events.CATALOGUE.items():
            for consumer in spec.consumers:
                name = events.queue_name(event_type, consumer)
                channel = connection.channel()
                try:
                    _, count, _ = channel.queue_declare(name, passive=True)
                except Exception:  # noqa: BLE001 - a queue never declared holds nothing
                    count = 0
                finally:
                    try:
                        channel.close()
                    except Exception:  # noqa: BLE001 - a failed passive declare closes it
                        pass
                if count:
                    waiting[name] = count
    books.figures["queued_messages"] = sum(waiting.values())
    if waiting:
        books.failures.append(f"consumer queues not drained: {waiting}")
