"""marshmallow schemas of the commands the settlement service accepts."""

from marshmallow import EXCLUDE, Schema, fields, validate

MAX_AMOUNT_FEN = 10**13


class _Command(Schema):
    class Meta:
        unknown = EXCLUDE


class RecordPreAllocation(_Command):
    amount_fen = fields.Integer(strict=True, required=True,
                                validate=validate.Range(1, MAX_AMOUNT_FEN))
    received_at = fields.AwareDateTime(required=True)
    memo = fields.String(load_default="", validate=validate.Length(max=200))


class ApproveAllocation(_Command):
    reason = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=200))


class RecordMerchantPayment(_Command):
    amount_fen = fields.Integer(strict=True, required=True,
                                validate=validate.Range(1, MAX_AMOUNT_FEN))
    paid_at = fields.AwareDateTime(load_default=None)
    memo = fields.String(load_default="", validate=validate.Length(max=200))


class Clear(_Command):
    reason = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=200))
