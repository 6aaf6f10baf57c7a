"""Settlement by the Finance Bureau: funds, allocation, merchant payments, clearing.

Commerce and the leading group may read every figure. A township token reads only
its own township's figures, ledger account and statement. A merchant token reads
only its own position and statement.
"""

from aixin.errors import NotFound
from gateway import query
from gateway.routing import route
from services.settlement import schemas

BASE = "/v1/campaigns/<campaign_id>/settlement"
FINANCE = {"finance"}
READERS = {"finance", "commerce", "leading_group"}
FORMAT_QUERY = {"format": query.file_format("xlsx")}


@route("POST", f"{BASE}/pre-allocations", roles=FINANCE,
       body=schemas.RecordPreAllocation, status=201, tag="settlement",
       summary="Record a pre-allocation received from the province")
def record_pre_allocation(call, campaign_id):
    return call.services.settlement.record_pre_allocation(
        call.actor, campaign_id, call.json(), call.idempotency_key)


@route("GET", f"{BASE}/pre-allocations", roles=READERS, tag="settlement",
       summary="Expected and received pre-allocation with the difference")
def get_pre_allocation(call, campaign_id):
    return call.services.settlement.get_pre_allocation(call.actor, campaign_id)


@route("GET", f"{BASE}/allocation", roles=READERS, tag="settlement",
       summary="The allocation proposal and what was allocated, per township")
def get_allocation(call, campaign_id):
    return call.services.settlement.get_allocation(call.actor, campaign_id)


@route("POST", f"{BASE}/allocation/approval", roles=FINANCE,
       body=schemas.ApproveAllocation, status=201, tag="settlement",
       summary="Approve the allocation: transfer each township its share")
def approve_allocation(call, campaign_id):
    return call.services.settlement.approve_allocation(
        call.actor, campaign_id, call.json(), call.idempotency_key)


@route("GET", f"{BASE}/merchants", roles=READERS, tag="settlement",
       summary="What each merchant is owed, was paid and awaits audit")
def list_merchants(call, campaign_id):
    return call.services.settlement.list_merchants(call.actor, campaign_id)


@route("GET", f"{BASE}/merchants/<merchant_code>", roles=READERS | {"merchant"},
       tag="settlement", summary="One merchant's reimbursement position")
def get_merchant(call, campaign_id, merchant_code):
    call.require_merchant(merchant_code)
    return call.services.settlement.get_merchant(call.actor, campaign_id, merchant_code)


@route("POST", f"{BASE}/merchants/<merchant_code>/payments", roles=FINANCE,
       body=schemas.RecordMerchantPayment, status=201, tag="settlement",
       summary="Record a payment of reimbursements to a merchant")
def record_merchant_payment(call, campaign_id, merchant_code):
    return call.services.settlement.record_merchant_payment(
        call.actor, campaign_id, merchant_code, call.json(), call.idempotency_key)


@route("GET", f"{BASE}/townships/<township_code>", roles=READERS | {"township"},
       tag="settlement", summary="A township's allocation, redemptions and clearing")
def get_township(call, campaign_id, township_code):
    call.require_township(township_code)
    return call.services.settlement.get_township(call.actor, campaign_id, township_code)


@route("POST", f"{BASE}/townships/<township_code>/clearing", roles=FINANCE,
       body=schemas.Clear, tag="settlement",
       summary="Clear a township: refund excess or top up shortfall")
def clear_township(call, campaign_id, township_code):
    return call.services.settlement.clear_township(
        call.actor, campaign_id, township_code, call.json(), call.idempotency_key)


@route("POST", f"{BASE}/clearing", roles=FINANCE, body=schemas.Clear,
       tag="settlement", summary="Clear the district with the province")
def clear_district(call, campaign_id):
    return call.services.settlement.clear_district(
        call.actor, campaign_id, call.json(), call.idempotency_key)


@route("GET", f"{BASE}/ledger/<account>", roles=READERS | {"township"},
       tag="settlement", summary="One account's transfers with running balances")
def get_ledger(call, campaign_id, account):
    if call.actor["role"] == "township":
        prefix, _, code = account.partition(":")
        if prefix != "township":
            raise NotFound("not_found", "未找到该对象，或您无权访问。")
        call.require_township(code)
    return call.services.settlement.get_ledger(call.actor, campaign_id, account)


@route("GET", f"{BASE}/balances", roles=READERS, tag="settlement",
       summary="Every account's balance, their sum and the province's net payment")
def get_balances(call, campaign_id):
    return call.services.settlement.get_balances(call.actor, campaign_id)


@route("GET", f"{BASE}/townships/<township_code>/statement",
       roles=READERS | {"township"}, produces_file=True, query=FORMAT_QUERY,
       tag="settlement", summary="A township's settlement statement (XLSX or PDF)")
def township_statement(call, campaign_id, township_code):
    call.require_township(township_code)
    return call.services.settlement.township_statement(
        call.actor, campaign_id, township_code, call.arg("format", "xlsx"))


@route("GET", f"{BASE}/merchants/<merchant_code>/statement",
       roles=READERS | {"merchant"}, produces_file=True, query=FORMAT_QUERY,
       tag="settlement", summary="A merchant's settlement statement (XLSX or PDF)")
def merchant_statement(call, campaign_id, merchant_code):
    call.require_merchant(merchant_code)
    return call.services.settlement.merchant_statement(
        call.actor, campaign_id, merchant_code, call.arg("format", "xlsx"))


@route("GET", f"{BASE}/statement", roles=READERS, produces_file=True,
       query=FORMAT_QUERY, tag="settlement",
       summary="The district's clearing statement (XLSX or PDF)")
def district_statement(call, campaign_id):
    return call.services.settlement.district_statement(
        call.actor, campaign_id, call.arg("format", "xlsx"))
