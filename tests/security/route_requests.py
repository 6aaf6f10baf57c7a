"""Concrete requests for any route of the table, naming a chosen party's objects."""

import re
import uuid

import requests

from aixin.vouchers import make_serial
from services.redemption.domain.uscc import make_uscc

MISSING_TOWNSHIP = "411103999000"
MISSING_MERCHANT = make_uscc("411103", 99)
INVALID_BODY = {"field_that_no_schema_has": 1}
# Path parameters naming an object that belongs to a township or to a merchant.
TOWNSHIP_OBJECTS = ("batch_id", "serial", "beneficiary_id")
MERCHANT_OBJECTS = ("redemption_id", "statement_id")
# Path parameters for which the campaign has no real object, so even an allowed
# caller may get 404 for them.
PLACEHOLDER_PARAMS = ("parked_id",)


def path_params(route) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", route.path)


class Requests:
    """Builds one route's request for a given owner of the objects it names."""

    def __init__(self, campaign):
        self.campaign = campaign

    def values(self, kind: str, label: str, objects_of: str | None = None) -> dict:
        """Path and query values naming party ``label``'s objects.

        ``objects_of`` names whose object ids to use: the same party, another party
        ("A"), or "missing" for ids that exist nowhere.
        """
        campaign = self.campaign
        objects_of = objects_of or label
        township = campaign.townships.get(label)
        merchant = campaign.merchants.get(label)
        township_code = township.code if township else MISSING_TOWNSHIP
        merchant_code = merchant.code if merchant else MISSING_MERCHANT
        if objects_of == "missing":
            township_objects = {
                "batch_id": str(uuid.uuid4()), "beneficiary_id": uuid.uuid4().hex[:20],
                "serial": make_serial(1, township_code, 999_000)}
            merchant_objects = {"redemption_id": str(uuid.uuid4()),
                                "statement_id": str(uuid.uuid4())}
        else:
            township_objects = campaign.townships[objects_of].objects
            merchant_objects = campaign.merchants[objects_of].objects
        values = {"campaign_id": campaign.campaign_id,
                  "township_code": township_code, "township": township_code,
                  "account": f"township:{township_code}",
                  "merchant_code": merchant_code,
                  "snapshot_id": campaign.snapshot_id,
                  "token_id": None,
                  "service": "redemption", "parked_id": 999_999}
        values.update({name: township_objects.get(name) for name in TOWNSHIP_OBJECTS})
        if kind == "merchant" or objects_of == "missing":
            values.update({name: merchant_objects.get(name)
                           for name in MERCHANT_OBJECTS})
        else:
            values.update({name: campaign.merchants["A"].objects.get(name)
                           for name in MERCHANT_OBJECTS})
        if kind != "township":
            values["beneficiary_id"] = campaign.beneficiary_id
        return values

    def throwaway_token_id(self) -> str:
        """Issue a token that a DELETE may revoke without harming other tests."""
        response = requests.post(
            self.campaign.base_url + "/v1/tokens", json={
                "role": "finance", "name": "throwaway"},
            headers=self.campaign.headers(self.campaign.admin_token), timeout=60)
        assert response.status_code == 201, response.text
        return response.json()["token_id"]

    def send(self, route, token: str | None, values: dict,
             extra_query: dict | None = None) -> requests.Response:
        if "token_id" in path_params(route):
            values = {**values, "token_id": self.throwaway_token_id()}
        missing = [name for name in path_params(route) if not values.get(name)]
        assert not missing, (f"{route.operation_id}: no test value for path "
                             f"parameters {missing}; add them to Requests.values")
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(values[match.group(1)]),
                      route.path)
        query = {}
        if "township" in route.query:
            query["township"] = values["township"]
        if "merchant_code" in route.query:
            query["merchant_code"] = values["merchant_code"]
        if "reason" in route.query:
            query["reason"] = "安全测试"
        headers = {"X-Request-Id": uuid.uuid4().hex,
                   **self.campaign.headers(token)}
        query.update(extra_query or {})
        body = INVALID_BODY if route.body is not None else None
        return requests.request(route.method, self.campaign.base_url + path,
                                params=query, json=body, headers=headers, timeout=60)
