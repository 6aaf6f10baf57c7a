"""The check-code key: a secret every voucher's check code is computed with."""

from nameko.extensions import DependencyProvider

MIN_KEY_LENGTH = 16


class VoucherMacKey(DependencyProvider):
    """The ``VOUCHER_MAC_KEY`` setting as bytes; the service does not start without it.

    The key comes from the environment only (config.yaml reads it from there), so it
    never lands in the repository or a database.
    """

    def setup(self):
        value = self.container.config.get("VOUCHER_MAC_KEY") or ""
        if len(str(value)) < MIN_KEY_LENGTH:
            raise RuntimeError(
                "VOUCHER_MAC_KEY is missing or shorter than "
                f"{MIN_KEY_LENGTH} characters: set the environment variable "
                "VOUCHER_MAC_KEY to the campaign's secret check-code key (the same "
                "value the redemption service verifies with), for example from "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`")
        self.key = str(value).encode("utf-8")

    def get_dependency(self, worker_ctx):
        return self.key
