"""Campaign set-up by the Commerce Bureau: the campaign and its merchants."""

from gateway.routes.admin import ANY_ROLE
from gateway.routing import route
from services.redemption import schemas


@route("POST", "/v1/campaigns", roles={"commerce"}, body=schemas.CreateCampaign,
       status=201, summary="Create a campaign", tag="campaigns")
def create_campaign(call):
    return call.services.redemption.create_campaign(
        call.actor, call.json(), call.idempotency_key)


@route("GET", "/v1/campaigns/<campaign_id>", roles=ANY_ROLE,
       summary="A campaign's configuration", tag="campaigns")
def get_campaign(call, campaign_id):
    return call.services.redemption.get_campaign(campaign_id)


@route("POST", "/v1/campaigns/<campaign_id>/merchants", roles={"commerce"},
       body=schemas.DesignateMerchant, status=201,
       summary="Designate a supermarket for its townships", tag="campaigns")
def designate_merchant(call, campaign_id):
    return call.services.redemption.designate_merchant(
        call.actor, campaign_id, call.json(), call.idempotency_key)
