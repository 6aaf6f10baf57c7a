"""Rows every redemption reads and that never change once written: kept per process.

A campaign's configuration and a merchant's designation for a township are inserted
once and then never updated or deleted (no command of this service does either), so
a redemption may use what an earlier redemption of the same service instance read,
and skips two queries. Only rows that were found are kept: a merchant designated
later is found by its first redemption, and an unknown campaign is looked up again.
Each service container has its own copy, so tests that start a fresh service on a
fresh database start with an empty one.

If campaigns ever become editable or designations revocable, the command that does it
must go through here, or this cache must go.
"""

from nameko.extensions import DependencyProvider
from sqlalchemy import and_, select

from services.redemption.campaigns import load_campaign
from services.redemption.models import merchant_townships, merchants


class FixedRows:
    """Campaign configurations and merchant designations read so far."""

    def __init__(self):
        self._campaigns: dict[str, dict] = {}
        self._designations: dict[tuple, tuple] = {}

    def campaign(self, session, campaign_id: str) -> dict:
        """Return the campaign's configuration; raise NotFound for an unknown one."""
        config = self._campaigns.get(campaign_id)
        if config is None:
            config = load_campaign(session, campaign_id)
            self._campaigns[campaign_id] = config
        return config

    def designation(self, session, campaign_id: str, merchant_code: str,
                    township_code: str):
        """Return ``(valid_from, valid_to)`` of the merchant's designation for the
        township, or None when it is not designated for it."""
        key = (campaign_id, merchant_code, township_code)
        found = self._designations.get(key)
        if found is None:
            row = session.execute(
                select(merchants.c.valid_from, merchants.c.valid_to)
                .join(merchant_townships, and_(
                    merchant_townships.c.campaign_id == merchants.c.campaign_id,
                    merchant_townships.c.merchant_code == merchants.c.merchant_code))
                .where(merchants.c.campaign_id == campaign_id,
                       merchants.c.merchant_code == merchant_code,
                       merchant_townships.c.township_code == township_code)).first()
            if row is None:
                return None
            found = (row.valid_from, row.valid_to)
            self._designations[key] = found
        return found


class FixedRowsCache(DependencyProvider):
    """One FixedRows per service container."""

    def setup(self):
        self.rows = FixedRows()

    def get_dependency(self, worker_ctx):
        return self.rows
