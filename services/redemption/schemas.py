"""marshmallow schemas of the commands the redemption service accepts."""

from marshmallow import EXCLUDE, Schema, fields, validate

from services.redemption.domain.campaign import DEFAULT_CASH_EQUIVALENTS


class _Command(Schema):
    class Meta:
        unknown = EXCLUDE


class CreateCampaign(_Command):
    name = fields.String(required=True, validate=validate.Length(1, 100))
    district_code = fields.String(required=True, validate=validate.Regexp(r"^\d{6}$"))
    district_name = fields.String(required=True, validate=validate.Length(1, 50))
    face_value_fen = fields.Integer(strict=True, required=True,
                                    validate=validate.Range(100, 10_000_000))
    snapshot_month = fields.String(required=True,
                                   validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$"))
    funds_due = fields.Date(required=True)
    spring_festival = fields.Date(load_default=None)
    redemption_deadline = fields.Date(required=True)
    joint_audit_date = fields.Date(required=True)
    clearing_deadline = fields.Date(required=True)
    spare_share_percent = fields.Integer(load_default=0, validate=validate.Range(0, 50))
    cash_equivalent_categories = fields.List(
        fields.String(validate=validate.Length(1, 40)),
        load_default=lambda: list(DEFAULT_CASH_EQUIVALENTS))


class DesignateMerchant(_Command):
    merchant_code = fields.String(required=True, validate=validate.Length(equal=18))
    name = fields.String(required=True, validate=validate.Length(1, 200))
    above_size = fields.Boolean(required=True)
    stores = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))
    contact = fields.String(load_default=None, allow_none=True)
    opening_hours = fields.String(load_default="08:00-22:00",
                                  validate=validate.Regexp(r"^\d\d:\d\d-\d\d:\d\d$"))
    township_codes = fields.List(fields.String(validate=validate.Regexp(r"^\d{12}$")),
                                 required=True, validate=validate.Length(min=1))
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True)
