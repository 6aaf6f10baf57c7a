"""The redemption service: the Commerce Bureau's campaigns, merchants and redemptions."""

import logging

from nameko.rpc import rpc

from aixin.commands import run_command
from aixin.errors import DomainError
from aixin.nameko_kit import CampaignClock, Storage
from aixin.validation import load
from services.redemption import campaigns, schemas

log = logging.getLogger(__name__)


class RedemptionService:
    name = "redemption"

    db = Storage("redemption")
    clock = CampaignClock()

    @rpc(expected_exceptions=DomainError)
    def create_campaign(self, actor: dict, payload: dict, idempotency_key: str):
        """Create a campaign from its configuration and announce it to every bureau."""
        config = load(schemas.CreateCampaign(), payload)
        now = self.clock.now()
        return run_command(
            self.db, idempotency_key, "create_campaign", payload, now,
            lambda session: campaigns.create_campaign(session, config, actor["name"], now))

    @rpc(expected_exceptions=DomainError)
    def designate_merchant(self, actor: dict, campaign_id: str, payload: dict,
                           idempotency_key: str):
        """Designate a supermarket to print and redeem the vouchers of its townships."""
        merchant = load(schemas.DesignateMerchant(), payload)
        now = self.clock.now()
        return run_command(
            self.db, idempotency_key, "designate_merchant", [campaign_id, payload], now,
            lambda session: campaigns.designate_merchant(
                session, campaign_id, merchant, actor["name"], now))

    @rpc(expected_exceptions=DomainError)
    def get_campaign(self, campaign_id: str):
        with self.db.reading() as session:
            return campaigns.load_campaign(session, campaign_id)
