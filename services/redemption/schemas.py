"""marshmallow schemas of the commands the redemption service accepts."""

from marshmallow import EXCLUDE, Schema, fields, validate

from services.redemption.domain.campaign import DEFAULT_CASH_EQUIVALENTS
from services.redemption.flags import DEFAULT_THRESHOLDS


class _Command(Schema):
    class Meta:
        unknown = EXCLUDE


class CreateCampaign(_Command):
    name = fields.String(required=True, validate=validate.Length(1, 100))
    district_code = fields.String(required=True, validate=validate.Regexp(
        r"^\d{6}$", error="应为 6 位数字的区县行政区划代码，例如 411103"))
    district_name = fields.String(required=True, validate=validate.Length(1, 50))
    face_value_fen = fields.Integer(strict=True, required=True,
                                    validate=validate.Range(100, 10_000_000))
    snapshot_month = fields.String(required=True, validate=validate.Regexp(
        r"^(19|20)\d\d-(0[1-9]|1[0-2])$", error="应为 YYYY-MM 格式的月份，例如 2022-12"))
    funds_due = fields.Date(required=True)
    spring_festival = fields.Date(load_default=None)
    redemption_deadline = fields.Date(required=True)
    joint_audit_date = fields.Date(required=True)
    clearing_deadline = fields.Date(required=True)
    spare_share_percent = fields.Integer(load_default=0, validate=validate.Range(0, 50))
    cash_equivalent_categories = fields.List(
        fields.String(validate=validate.Length(1, 40)),
        load_default=lambda: list(DEFAULT_CASH_EQUIVALENTS))
    # Cash-out flag thresholds by name; a name left out takes its default.
    cashout_thresholds = fields.Dict(
        keys=fields.String(validate=validate.OneOf(sorted(DEFAULT_THRESHOLDS))),
        values=fields.Integer(strict=True, validate=validate.Range(1, 1_000_000)),
        load_default=dict)


class DesignateMerchant(_Command):
    merchant_code = fields.String(required=True, validate=validate.Length(equal=18))
    name = fields.String(required=True, validate=validate.Length(1, 200))
    above_size = fields.Boolean(required=True)
    stores = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))
    contact = fields.String(load_default=None, allow_none=True)
    opening_hours = fields.String(load_default="08:00-22:00", validate=validate.Regexp(
        r"^\d\d:\d\d-\d\d:\d\d$", error="应为 HH:MM-HH:MM 格式的营业时间，例如 08:00-22:00"))
    township_codes = fields.List(fields.String(validate=validate.Regexp(
        r"^\d{12}$", error="应为 12 位数字的乡镇（街道）区划代码，例如 411103101000")),
        required=True, validate=validate.Length(min=1))
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True)


class Redeem(_Command):
    """A till's redemption request. Statement lines and the total are checked by
    the domain rules, so that each problem gets its own reason code."""

    serial = fields.String(required=True, validate=validate.Length(1, 40))
    check_code = fields.String(required=True, validate=validate.Length(1, 20))
    till_transaction_id = fields.String(required=True, validate=validate.Length(1, 64))
    store_id = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(1, 64))
    till_session = fields.String(load_default=None, allow_none=True,
                                 validate=validate.Length(1, 64))
    lines = fields.List(fields.Raw(), required=True)
    total_fen = fields.Raw(required=True)


class StatementUpload(_Command):
    filename = fields.String(required=True, validate=validate.Length(1, 200))
    path = fields.String(required=True)
    sha256 = fields.String(required=True, validate=validate.Regexp(
        r"^[0-9a-f]{64}$", error="应为 64 位小写十六进制的 SHA-256 摘要"))
    period_from = fields.Date(required=True)
    period_to = fields.Date(required=True)


class AuditRejection(_Command):
    redemption_id = fields.String(required=True, validate=validate.Length(1, 36))
    reason = fields.String(required=True, validate=validate.Length(1, 500))


class Audit(_Command):
    period_from = fields.Date(required=True)
    period_to = fields.Date(required=True)
    rejections = fields.List(fields.Nested(AuditRejection), load_default=list)
