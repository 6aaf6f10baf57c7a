"""The notify service's client of reporting: a time limit and an RPC deadline."""

import time

import eventlet
import pytest

from aixin.nameko_kit import RPC_DEADLINE_KEY
from services.notify.figures import FiguresUnavailable, ReportingClient


class WorkerContext:
    def __init__(self, data):
        self.data = data


class FakeProxy:
    """Shaped like a nameko RpcProxy: ``proxy.method.call_async(...).result()``."""

    def __init__(self, data=None, delay: float = 0.0):
        self.worker_ctx = WorkerContext(dict(data or {}))
        self.delay = delay
        self.calls = []

    def __getattr__(self, name):
        proxy = self

        class Reply:
            def __init__(self, *args, **kwargs):
                proxy.calls.append((name, args, kwargs,
                                    proxy.worker_ctx.data.get(RPC_DEADLINE_KEY)))

            def result(self):
                eventlet.sleep(proxy.delay)
                return {"ok": True}

        return type("Method", (), {"call_async": staticmethod(Reply)})


class TestReportingClient:
    def test_request_carries_deadline_of_the_wait(self):
        proxy = FakeProxy()
        before = time.time()
        ReportingClient(proxy, timeout=10).call("weekly_report", "c1")
        deadline = proxy.calls[0][3]
        assert before + 10 <= deadline <= time.time() + 10

    def test_callers_earlier_deadline_is_kept(self):
        earlier = time.time() + 3
        proxy = FakeProxy({RPC_DEADLINE_KEY: earlier})
        ReportingClient(proxy, timeout=10).call("weekly_report", "c1")
        assert proxy.calls[0][3] == earlier

    def test_slow_reply_times_out(self):
        with pytest.raises(FiguresUnavailable, match="timed out"):
            ReportingClient(FakeProxy(delay=5), timeout=0.2).call("weekly_report", "c1")
