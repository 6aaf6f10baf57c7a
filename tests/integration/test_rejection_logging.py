"""An entrypoint's DomainError is logged in one line; other errors keep a traceback."""

import logging

import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy

from aixin import nameko_kit  # noqa: F401 - installs the rejection log filter
from aixin.errors import Conflict, DomainError, Forbidden


class Till:
    """Stands in for a service whose entrypoints reject requests or fail."""

    name = "till"

    @rpc(expected_exceptions=DomainError)
    def redeem(self, serial: str):
        raise Conflict("voucher_already_redeemed", f"消费券 {serial} 已核销：请勿重复核销。",
                       serial=serial)

    @rpc(expected_exceptions=DomainError)
    def audit(self):
        raise Forbidden("forbidden", "您的角色无权执行此操作。")

    @rpc(expected_exceptions=DomainError)
    def crash(self):
        raise RuntimeError("disk full")


@pytest.fixture
def till(container_factory, amqp_uri):
    config = {"AMQP_URI": amqp_uri}
    container_factory(Till, config).start()
    with ServiceRpcProxy("till", config, timeout=30) as proxy:
        yield proxy


def logged_by_nameko(caplog) -> list[logging.LogRecord]:
    """Return the records of nameko's worker logger at INFO or above."""
    return [record for record in caplog.records
            if record.name == "nameko.containers" and record.levelno >= logging.INFO]


class TestRejectionLogging:
    def test_rejection_is_one_info_line(self, till, caplog):
        caplog.set_level(logging.INFO)
        with pytest.raises(Conflict):
            till.redeem("123456")
        [record] = logged_by_nameko(caplog)
        assert record.levelno == logging.INFO
        assert record.exc_info is None
        assert record.exc_text is None
        message = record.getMessage()
        assert "\n" not in message
        assert "till.redeem" in message
        assert "code=voucher_already_redeemed" in message
        assert "Traceback" not in caplog.text

    def test_forbidden_is_a_warning(self, till, caplog):
        caplog.set_level(logging.INFO)
        with pytest.raises(Forbidden):
            till.audit()
        [record] = logged_by_nameko(caplog)
        assert record.levelno == logging.WARNING
        assert record.exc_info is None
        assert "code=forbidden" in record.getMessage()

    def test_unexpected_error_keeps_traceback(self, till, caplog):
        caplog.set_level(logging.INFO)
        with pytest.raises(Exception) as raised:
            till.crash()
        assert "RuntimeError" in str(raised.value)
        [record] = logged_by_nameko(caplog)
        assert record.levelno == logging.ERROR
        assert record.exc_info is not None
        assert "error handling worker" in record.getMessage()
        assert "Traceback" in caplog.text
