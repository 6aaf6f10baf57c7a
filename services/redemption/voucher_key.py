"""The campaign key that check codes are verified with, from the environment only.

This service never reads the key from config files and never logs it. The key is the
UTF-8 bytes of ``VOUCHER_MAC_KEY``, so issuance must print check codes made with the
same bytes.
"""

import os

from nameko.extensions import DependencyProvider

KEY_VARIABLE = "VOUCHER_MAC_KEY"
MIN_KEY_LENGTH = 16


def key_from_environment() -> bytes:
    """Return the check-code key; raise RuntimeError when it is missing or short."""
    text = os.environ.get(KEY_VARIABLE, "")
    if not text:
        raise RuntimeError(
            f"{KEY_VARIABLE} is not set: the redemption service cannot verify voucher "
            f"check codes without it. Export the campaign's check-code key "
            f"(at least {MIN_KEY_LENGTH} characters) in {KEY_VARIABLE} and restart.")
    if len(text) < MIN_KEY_LENGTH:
        raise RuntimeError(
            f"{KEY_VARIABLE} is only {len(text)} characters long: use the campaign's "
            f"check-code key of at least {MIN_KEY_LENGTH} characters.")
    return text.encode("utf-8")


class VoucherKey(DependencyProvider):
    """Reads the key when the service starts, so a missing key stops the start."""

    def setup(self):
        self.key = key_from_environment()

    def get_dependency(self, worker_ctx):
        return self.key
