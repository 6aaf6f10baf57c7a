"""The check-code key comes from the environment, and the service stops without it."""

import pytest

from services.redemption.voucher_key import key_from_environment


def test_missing_key_stops_start(monkeypatch):
    monkeypatch.delenv("VOUCHER_MAC_KEY", raising=False)

    with pytest.raises(RuntimeError, match="VOUCHER_MAC_KEY is not set"):
        key_from_environment()


def test_short_key_stops_start(monkeypatch):
    monkeypatch.setenv("VOUCHER_MAC_KEY", "short")

    with pytest.raises(RuntimeError, match="only 5 characters"):
        key_from_environment()


def test_key_is_utf8_bytes(monkeypatch):
    monkeypatch.setenv("VOUCHER_MAC_KEY", "campaign-key-0123456789")

    assert key_from_environment() == b"campaign-key-0123456789"
