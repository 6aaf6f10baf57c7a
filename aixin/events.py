"""The event catalogue: every event, its producer, its consumers and its schema.

An event on the bus is a JSON object ``{"id", "type", "occurred_at",
"correlation_id", "data"}``. Producers publish to the nameko exchange
``<producer>.events`` with the event type as routing key. Each consumer service handles
an event in a method named ``on_<event type>``, so its nameko queue is
``evt-<producer>-<event type>--<consumer>.on_<event type>``; the relay declares these
queues before publishing so that an event is never dropped for want of a queue.
"""

import functools
from dataclasses import dataclass

from marshmallow import EXCLUDE, Schema, fields, validate

TOWNSHIP_CODE = validate.Regexp(r"^\d{12}$", error="township code must be 12 digits")
DISTRICT_CODE = validate.Regexp(r"^\d{6}$", error="district code must be 6 digits")
NON_NEGATIVE = validate.Range(min=0)


def _money(**kwargs):
    return fields.Integer(strict=True, required=True, validate=NON_NEGATIVE, **kwargs)


class _Data(Schema):
    class Meta:
        unknown = EXCLUDE

    campaign_id = fields.String(required=True)


class CampaignCreated(_Data):
    campaign_no = fields.Integer(required=True, validate=validate.Range(1, 99))
    name = fields.String(required=True)
    district_code = fields.String(required=True, validate=DISTRICT_CODE)
    district_name = fields.String(required=True)
    face_value_fen = fields.Integer(strict=True, required=True, validate=validate.Range(1))
    snapshot_month = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-\d\d$"))
    funds_due = fields.Date(required=True)
    spring_festival = fields.Date(required=True)
    redemption_deadline = fields.Date(required=True)
    joint_audit_date = fields.Date(required=True)
    clearing_deadline = fields.Date(required=True)
    spare_share_percent = fields.Integer(required=True, validate=validate.Range(0, 50))
    cash_equivalent_categories = fields.List(fields.String(), required=True)


class MerchantDesignated(_Data):
    merchant_code = fields.String(required=True, validate=validate.Length(equal=18))
    name = fields.String(required=True)
    township_codes = fields.List(fields.String(validate=TOWNSHIP_CODE), required=True)
    stores = fields.Integer(required=True, validate=validate.Range(1))
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True)
    opening_hours = fields.String(load_default="08:00-22:00")


class Beneficiary(Schema):
    class Meta:
        unknown = EXCLUDE

    beneficiary_id = fields.String(required=True)
    name = fields.String(required=True)
    masked_id = fields.String(required=True, validate=validate.Regexp(r"^\d{6}\*+\d{3}[\dX]$"))
    township_code = fields.String(required=True, validate=TOWNSHIP_CODE)
    township_name = fields.String(required=True)
    village = fields.String(required=True, allow_none=True)
    categories = fields.List(fields.String(validate=validate.OneOf(
        ["urban_dibao", "rural_dibao", "tekun"])), required=True)
    support_mode = fields.String(required=True, validate=validate.OneOf(
        ["dispersed", "institutional"]))
    institution = fields.String(allow_none=True, load_default=None)


_BENEFICIARY_SCHEMA = Beneficiary()
_BENEFICIARY_FIELDS = frozenset(_BENEFICIARY_SCHEMA.fields)
_MASKED_ID = _BENEFICIARY_SCHEMA.fields["masked_id"].validators[0]
_CATEGORIES = frozenset(
    _BENEFICIARY_SCHEMA.fields["categories"].inner.validators[0].choices)
_SUPPORT_MODES = frozenset(
    _BENEFICIARY_SCHEMA.fields["support_mode"].validators[0].choices)


def _plain_beneficiary(item) -> dict | None:
    """Load one obviously valid Beneficiary record as the schema would, else None.

    Accepts only a plain dict whose values have the exact types of decoded JSON and
    pass the same validators, so marshmallow would load it to an equal dict. A
    record with exactly the schema's fields is returned itself, not copied.
    Anything else (an invalid record, bytes, a tuple) returns None.
    """
    if type(item) is not dict:
        return None
    get = item.get
    beneficiary_id, name, masked_id = get("beneficiary_id"), get("name"), \
        get("masked_id")
    township_code, township_name = get("township_code"), get("township_name")
    village, categories = get("village"), get("categories")
    support_mode, institution = get("support_mode"), get("institution")
    if not (type(beneficiary_id) is str and type(name) is str
            and type(masked_id) is str and type(township_code) is str
            and type(township_name) is str and type(support_mode) is str
            and type(categories) is list
            and (type(village) is str or (village is None and "village" in item))
            and (institution is None or type(institution) is str)
            and support_mode in _SUPPORT_MODES
            and TOWNSHIP_CODE.regex.match(township_code)
            and _MASKED_ID.regex.match(masked_id)):
        return None
    for category in categories:
        if type(category) is not str or category not in _CATEGORIES:
            return None
    if len(item) == len(_BENEFICIARY_FIELDS) and "institution" in item:
        return item  # every field and no other: loading would copy it unchanged
    return {"beneficiary_id": beneficiary_id, "name": name, "masked_id": masked_id,
            "township_code": township_code, "township_name": township_name,
            "village": village, "categories": list(categories),
            "support_mode": support_mode, "institution": institution}


class BeneficiaryList(fields.List):
    """``List(Nested(Beneficiary))`` with a fast path for the usual, valid list.

    A roster publication carries up to a million records, and marshmallow's nested
    schema costs about 100 times the plain check of :func:`_plain_beneficiary`. When
    every record passes that check, the list loads without marshmallow. Otherwise
    the whole list goes through the nested schema, so an invalid record is reported
    exactly as before, naming its index and field.
    """

    def __init__(self, **kwargs):
        super().__init__(fields.Nested(Beneficiary), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) is list and not kwargs.get("partial"):
            loaded = [_plain_beneficiary(item) for item in value]
            if None not in loaded:
                return loaded
        return super()._deserialize(value, attr, data, **kwargs)


class RosterPublished(_Data):
    snapshot_id = fields.String(required=True)
    batch_no = fields.Integer(required=True, validate=validate.Range(1))
    batch_count = fields.Integer(required=True, validate=validate.Range(1))
    beneficiaries = BeneficiaryList(required=True)


class TownshipCount(Schema):
    code = fields.String(required=True, validate=TOWNSHIP_CODE)
    name = fields.String(required=True)
    eligible = fields.Integer(required=True, validate=NON_NEGATIVE)


class RosterPublicationCompleted(_Data):
    snapshot_id = fields.String(required=True)
    batch_count = fields.Integer(required=True)
    beneficiary_count = fields.Integer(required=True, validate=NON_NEGATIVE)
    townships = fields.List(fields.Nested(TownshipCount), required=True)


class RosterAmended(_Data):
    amendment_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["remove", "add", "change"]))
    beneficiary = fields.Nested(Beneficiary, required=True)
    reason = fields.String(required=True)
    operator = fields.String(required=True)


class VouchersPrinted(_Data):
    batch_id = fields.String(required=True)
    township_code = fields.String(required=True, validate=TOWNSHIP_CODE)
    merchant_code = fields.String(required=True)
    serials = fields.List(fields.String(), required=True)
    printed_at = fields.AwareDateTime(required=True)


class VoucherIssued(_Data):
    serial = fields.String(required=True)
    beneficiary_id = fields.String(required=True)
    beneficiary_name = fields.String(required=True)
    masked_id = fields.String(required=True)
    township_code = fields.String(required=True, validate=TOWNSHIP_CODE)
    village = fields.String(allow_none=True, load_default=None)
    institution = fields.String(allow_none=True, load_default=None)
    recipient_kind = fields.String(required=True, validate=validate.OneOf(
        ["self", "family", "institution_manager"]))
    issued_at = fields.AwareDateTime(required=True)
    late = fields.Boolean(required=True)


class VoucherVoided(_Data):
    serial = fields.String(required=True)
    township_code = fields.String(required=True, validate=TOWNSHIP_CODE)
    beneficiary_id = fields.String(allow_none=True, load_default=None)
    reason = fields.String(required=True)
    voided_at = fields.AwareDateTime(required=True)


class VoucherRedeemed(_Data):
    redemption_id = fields.String(required=True)
    serial = fields.String(required=True)
    township_code = fields.String(required=True, validate=TOWNSHIP_CODE)
    merchant_code = fields.String(required=True)
    voucher_part_fen = _money()
    paid_by_person_fen = _money()
    total_fen = _money()
    redeemed_at = fields.AwareDateTime(required=True)
    till_transaction_id = fields.String(required=True)


class AuditedRedemption(Schema):
    redemption_id = fields.String(required=True)
    serial = fields.String(required=True)
    township_code = fields.String(required=True, validate=TOWNSHIP_CODE)
    voucher_part_fen = _money()
    reason = fields.String(allow_none=True, load_default=None)


class RedemptionsAudited(_Data):
    audit_id = fields.String(required=True)
    merchant_code = fields.String(required=True)
    audited_at = fields.AwareDateTime(required=True)
    approved = fields.List(fields.Nested(AuditedRedemption), required=True)
    rejected = fields.List(fields.Nested(AuditedRedemption), required=True)


class FlaggedRedemption(Schema):
    redemption_id = fields.String(required=True)
    serial = fields.String(required=True)
    township_code = fields.String(required=True, validate=TOWNSHIP_CODE)


class OpenFlag(Schema):
    flag_id = fields.String(required=True)
    rule = fields.String(required=True)
    label = fields.String(required=True)
    explanation = fields.String(required=True)
    merchant_code = fields.String(required=True)
    redemptions = fields.List(fields.Nested(FlaggedRedemption), required=True)


class CashoutFlagsChanged(_Data):
    """Every cash-out flag of the campaign still open: raised and not yet resolved,
    because a redemption it names awaits the audit. The highest ``version`` is the
    current list, whatever order the events arrive in."""

    version = fields.Integer(strict=True, required=True, validate=validate.Range(1))
    checked_at = fields.AwareDateTime(required=True)
    open_flags = fields.List(fields.Nested(OpenFlag), required=True)


class FundsReceived(_Data):
    amount_fen = _money()
    expected_fen = _money()
    received_at = fields.AwareDateTime(required=True)


class FundsAllocated(_Data):
    township_code = fields.String(required=True, validate=TOWNSHIP_CODE)
    amount_fen = fields.Integer(strict=True, required=True)
    transfer_id = fields.String(required=True)
    allocated_at = fields.AwareDateTime(required=True)


class MerchantPaid(_Data):
    merchant_code = fields.String(required=True)
    amount_fen = _money()
    transfer_id = fields.String(required=True)
    paid_at = fields.AwareDateTime(required=True)


class TownshipCleared(_Data):
    township_code = fields.String(required=True, validate=TOWNSHIP_CODE)
    allocated_fen = fields.Integer(strict=True, required=True)
    reimbursed_fen = fields.Integer(strict=True, required=True)
    refund_fen = fields.Integer(strict=True, required=True)
    cleared_at = fields.AwareDateTime(required=True)


class DistrictCleared(_Data):
    received_fen = fields.Integer(strict=True, required=True)
    reimbursed_fen = fields.Integer(strict=True, required=True)
    refund_fen = fields.Integer(strict=True, required=True)
    cleared_at = fields.AwareDateTime(required=True)


class ReminderSent(_Data):
    reminder_id = fields.String(required=True)
    kind = fields.String(required=True)
    recipient = fields.String(required=True)
    channel = fields.String(required=True)
    sent_at = fields.AwareDateTime(required=True)


@dataclass(frozen=True)
class EventSpec:
    producer: str
    schema: type[Schema]
    consumers: tuple[str, ...]


ALL = ("roster", "issuance", "redemption", "settlement", "notify", "reporting")

CATALOGUE: dict[str, EventSpec] = {
    "campaign_created": EventSpec("redemption", CampaignCreated, (
        "roster", "issuance", "settlement", "notify", "reporting")),
    "merchant_designated": EventSpec("redemption", MerchantDesignated, (
        "issuance", "settlement", "reporting")),
    "roster_published": EventSpec("roster", RosterPublished, ("issuance", "reporting")),
    "roster_publication_completed": EventSpec("roster", RosterPublicationCompleted, (
        "issuance", "settlement", "notify", "reporting")),
    "roster_amended": EventSpec("roster", RosterAmended, (
        "issuance", "redemption", "settlement", "reporting")),
    "vouchers_printed": EventSpec("issuance", VouchersPrinted, ("redemption", "reporting")),
    "voucher_issued": EventSpec("issuance", VoucherIssued, ("redemption", "reporting")),
    "voucher_voided": EventSpec("issuance", VoucherVoided, ("redemption", "reporting")),
    "voucher_redeemed": EventSpec("redemption", VoucherRedeemed, (
        "issuance", "settlement", "reporting")),
    "redemptions_audited": EventSpec("redemption", RedemptionsAudited, (
        "settlement", "reporting")),
    "cashout_flags_changed": EventSpec("redemption", CashoutFlagsChanged,
                                       ("reporting",)),
    "funds_received": EventSpec("settlement", FundsReceived, ("reporting",)),
    "funds_allocated": EventSpec("settlement", FundsAllocated, ("issuance", "reporting")),
    "merchant_paid": EventSpec("settlement", MerchantPaid, ("reporting",)),
    "township_cleared": EventSpec("settlement", TownshipCleared, ("reporting",)),
    "district_cleared": EventSpec("settlement", DistrictCleared, ("reporting",)),
    "reminder_sent": EventSpec("notify", ReminderSent, ("reporting",)),
}


def spec_of(event_type: str) -> EventSpec:
    try:
        return CATALOGUE[event_type]
    except KeyError:
        raise KeyError(f"unknown event type {event_type!r}: add it to aixin/events.py") from None


@functools.cache
def schema_of(event_type: str) -> Schema:
    """Return the schema of ``event_type``, built once: it keeps no state between loads."""
    return spec_of(event_type).schema()


def handler_name(event_type: str) -> str:
    return f"on_{event_type}"


def queue_name(event_type: str, consumer: str) -> str:
    producer = spec_of(event_type).producer
    return f"evt-{producer}-{event_type}--{consumer}.{handler_name(event_type)}"


def exchange_name(producer: str) -> str:
    return f"{producer}.events"


def events_produced_by(service: str) -> list[str]:
    return [name for name, spec in CATALOGUE.items() if spec.producer == service]


def events_consumed_by(service: str) -> list[str]:
    return [name for name, spec in CATALOGUE.items() if service in spec.consumers]
