"""Test-only crash points: kill this process at a named point of the delivery plumbing.

The fault tests need a process to die at an exact moment, for example after a consumer
committed and before RabbitMQ got its ack. Two environment variables arm one crash:

- ``AIXIN_TEST_CRASH_AT=<point>:<target>``, for example
  ``consumer_after_commit:reporting.on_voucher_issued``;
- ``AIXIN_TEST_CRASH_MARKER=<file>``: the process creates this file and then kills
  itself with SIGKILL. If the file exists already, nothing happens, so a restarted
  process with the same environment runs normally and the crash happens once.

Both variables must be set, and no configuration file of this repository sets them,
so the hooks are off in every deployment. Points:

- ``consumer_after_commit:<service>.on_<event type>``: an event handler committed its
  change and its ``processed_events`` row, and has not acknowledged the message;
- ``producer_after_commit:<service>``: a transaction with outbox events committed, and
  the relay has not published them;
- ``relay_after_publish:<service>``: the broker confirmed an outbox event, and the relay
  has not marked it published.
"""

import logging
import os
import signal

log = logging.getLogger(__name__)

CRASH_AT_VARIABLE = "AIXIN_TEST_CRASH_AT"
CRASH_MARKER_VARIABLE = "AIXIN_TEST_CRASH_MARKER"


def crash_point(point: str, target: str) -> None:
    """Kill this process with SIGKILL if the armed crash point is ``point:target``."""
    armed = os.environ.get(CRASH_AT_VARIABLE)
    if not armed or armed != f"{point}:{target}":
        return
    marker = os.environ.get(CRASH_MARKER_VARIABLE)
    if not marker:
        return
    try:
        # O_EXCL: only the first process (or greenthread) to get here crashes.
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    log.warning("test crash hook fired, killing this process point=%s target=%s pid=%d",
                point, target, os.getpid())
    for handler in logging.getLogger().handlers:
        handler.flush()
    os.kill(os.getpid(), signal.SIGKILL)
