"""marshmallow schemas of the commands the issuance service accepts."""

from marshmallow import EXCLUDE, Schema, fields, validate

MASKED_ID = validate.Regexp(
    r"^\d{6}\*{4,8}\d{3}[\dX]$",
    error="应为打码的身份证号，例如 411103********1234，不能填写完整号码")
PHONE = validate.Regexp(r"^[0-9+\- ]{7,20}$",
                        error="应为 7 到 20 位的电话号码，可含 +、- 和空格")
SERIAL = validate.Length(1, 40)
OPERATOR = validate.Length(1, 100)


class _Command(Schema):
    class Meta:
        unknown = EXCLUDE


class OrderPrintBatch(_Command):
    merchant_code = fields.String(required=True, validate=validate.Length(equal=18))
    # Without a count the run covers the eligible count plus the campaign's spare
    # share, less what earlier runs of the township printed.
    count = fields.Integer(strict=True, load_default=None,
                           validate=validate.Range(1, 999_999))
    operator = fields.String(required=True, validate=OPERATOR)


class HandOut(_Command):
    serial = fields.String(required=True, validate=SERIAL)
    beneficiary_id = fields.String(required=True, validate=validate.Length(1, 64))
    recipient_kind = fields.String(required=True,
                                   validate=validate.OneOf(["self", "family"]))
    operator = fields.String(required=True, validate=OPERATOR)


class CollectForInstitution(_Command):
    institution = fields.String(required=True, validate=validate.Length(1, 200))
    manager_name = fields.String(required=True, validate=validate.Length(1, 50))
    manager_masked_id = fields.String(required=True, validate=MASKED_ID)
    manager_phone = fields.String(required=True, validate=PHONE)
    operator = fields.String(required=True, validate=OPERATOR)
    # Serials to hand over, one per resident in the order of the resident list;
    # without them the lowest serials in stock are taken.
    serials = fields.List(fields.String(validate=SERIAL), load_default=None)


class Void(_Command):
    serial = fields.String(required=True, validate=SERIAL)
    reason = fields.String(required=True, validate=validate.OneOf(
        ["unreachable", "deceased", "lost", "damaged"]))
    # For a voucher in stock: the person it was meant for, who could not be reached
    # or died before the hand-out.
    beneficiary_id = fields.String(load_default=None, validate=validate.Length(1, 64))
    operator = fields.String(required=True, validate=OPERATOR)
    note = fields.String(load_default=None, validate=validate.Length(max=200))


class Reissue(_Command):
    serial = fields.String(required=True, validate=SERIAL)
    reason = fields.String(required=True, validate=validate.OneOf(["lost", "damaged"]))
    # The replacement; without it the lowest serial in stock is taken.
    new_serial = fields.String(load_default=None, validate=SERIAL)
    operator = fields.String(required=True, validate=OPERATOR)
    note = fields.String(load_default=None, validate=validate.Length(max=200))


class EndHandout(_Command):
    operator = fields.String(required=True, validate=OPERATOR)
    note = fields.String(load_default=None, validate=validate.Length(max=200))
