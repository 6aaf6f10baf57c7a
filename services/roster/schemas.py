"""marshmallow schemas of the commands the roster service accepts."""

from marshmallow import (EXCLUDE, Schema, ValidationError, fields, validate,
                         validates_schema)

REMOVE_REASONS = ("deceased", "moved_away", "wrongly_listed")
ADD_REASONS = ("wrongly_omitted",)
CHANGE_REASONS = ("institution_changed", "village_changed")
REASONS_BY_KIND = {"remove": REMOVE_REASONS, "add": ADD_REASONS,
                   "change": CHANGE_REASONS}


class _Command(Schema):
    class Meta:
        unknown = EXCLUDE


class Upload(_Command):
    """A file the gateway saved under the upload folder."""

    filename = fields.String(required=True, validate=validate.Length(1, 200))
    path = fields.String(required=True, validate=validate.Length(1, 1000))
    sha256 = fields.String(load_default=None)
    size = fields.Integer(load_default=None)


class UploadedFiles(_Command):
    files = fields.List(fields.Nested(Upload), required=True,
                        validate=validate.Length(1, 20))


class DeathRegistrations(UploadedFiles):
    snapshot_id = fields.String(load_default=None)


class NewPerson(_Command):
    """A person added by amendment, checked like a row of an imported file."""

    id_number = fields.String(required=True, validate=validate.Length(1, 40))
    name = fields.String(required=True, validate=validate.Length(1, 100))
    township = fields.String(required=True, validate=validate.Length(1, 60))
    village = fields.String(load_default=None, validate=validate.Length(max=120))
    category = fields.String(required=True, validate=validate.Length(1, 20))
    support_mode = fields.String(load_default=None, validate=validate.OneOf(
        ["dispersed", "institutional", "分散供养", "集中供养"]))
    institution = fields.String(load_default=None, validate=validate.Length(max=200))


class Amendment(_Command):
    kind = fields.String(required=True,
                         validate=validate.OneOf(sorted(REASONS_BY_KIND)))
    reason = fields.String(required=True)
    note = fields.String(load_default=None, validate=validate.Length(max=500))
    beneficiary_id = fields.String(load_default=None)
    village = fields.String(load_default=None, validate=validate.Length(1, 120))
    institution = fields.String(load_default=None, validate=validate.Length(1, 200))
    person = fields.Nested(NewPerson, load_default=None)

    @validates_schema
    def check_kind(self, data, **kwargs):
        kind = data.get("kind")
        allowed = REASONS_BY_KIND.get(kind, ())
        if data.get("reason") not in allowed:
            raise ValidationError(f"更正类型 {kind} 的原因应为以下值之一："
                                  f"{', '.join(allowed)}", "reason")
        if kind == "add" and data.get("person") is None:
            raise ValidationError("增补（add）须填写 person：被增补人员的信息", "person")
        if kind in ("remove", "change") and not data.get("beneficiary_id"):
            raise ValidationError(f"更正类型 {kind} 须填写 beneficiary_id：要更正的人员编号",
                                  "beneficiary_id")
        if kind == "change" and data["reason"] == "village_changed" \
                and not data.get("village"):
            raise ValidationError("变更村（village_changed）须填写新的 village", "village")
        if kind == "change" and data["reason"] == "institution_changed" \
                and not data.get("institution"):
            raise ValidationError("变更供养机构（institution_changed）须填写新的 institution",
                                  "institution")
