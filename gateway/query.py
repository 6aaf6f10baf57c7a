"""Query parameters: each route declares its own as marshmallow fields.

``route(..., query={name: field})`` builds one schema per route. The gateway loads
the request's query string with it before the handler runs, so an unknown parameter,
a repeated one or an invalid value is rejected with 400 ``invalid_query``, and
``call.arg(name)`` returns the checked value. Each field's ``description`` goes into
``/openapi.json``.
"""

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from aixin.errors import InvalidInput
from aixin.validation import invalid_input

MAX_TEXT_LENGTH = 200


class _Day(fields.Date):
    """A YYYY-MM-DD date, checked here and passed on as the same ISO text."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).isoformat()


def text(description: str, max_length: int = MAX_TEXT_LENGTH) -> fields.Field:
    return fields.String(validate=validate.Length(1, max_length),
                         metadata={"description": description})


def pattern(description: str, regex: str, expected: str) -> fields.Field:
    """A text parameter that must match ``regex``; ``expected`` is the Chinese fix."""
    return fields.String(validate=validate.Regexp(regex, error=expected),
                         metadata={"description": description})


def integer(description: str, minimum: int, maximum: int) -> fields.Field:
    return fields.Integer(strict=False, validate=validate.Range(minimum, maximum),
                          metadata={"description": description})


def flag(description: str) -> fields.Field:
    return fields.Boolean(truthy={"true", "True", "1"}, falsy={"false", "False", "0"},
                          metadata={"description": description})


def choice(description: str, choices) -> fields.Field:
    return fields.String(validate=validate.OneOf(list(choices)),
                         metadata={"description": description})


def day(description: str) -> fields.Field:
    return _Day(metadata={"description": description})


def township(description: str = "12-digit township code") -> fields.Field:
    return pattern(description, r"^[0-9]{12}$",
                   "应为 12 位数字的乡镇（街道）区划代码，例如 411103101000")


def merchant_code(description: str = "merchant's unified social credit code"
                  ) -> fields.Field:
    return pattern(description, r"^[0-9A-HJ-NPQRTUWXY]{18}$",
                   "应为 18 位统一社会信用代码（数字和大写字母）")


def file_format(default: str) -> fields.Field:
    other = "pdf" if default == "xlsx" else "xlsx"
    return choice(f"{default} (default) or {other}", ("xlsx", "pdf"))


class _Query(Schema):
    class Meta:
        unknown = RAISE


def query_schema(parameters: dict) -> type[Schema]:
    """Build the schema of one route's query parameters; any other is rejected."""
    return _Query.from_dict(parameters, name="Query")


def load_query(schema: type[Schema], args) -> dict:
    """Return the checked query parameters of a request, or raise InvalidInput.

    ``args`` is werkzeug's MultiDict of the query string.
    """
    for name in args:
        values = args.getlist(name)
        if len(values) > 1:
            message = (f"查询参数 {name} 出现了 {len(values)} 次（值 {values!r:.60}）："
                       "每个参数只能给一次，请删除多余的。")
            raise InvalidInput("invalid_query", message, fields=[
                {"field": name, "value": repr(values)[:60], "message": message,
                 "problems": ["Repeated parameter."]}])
    raw = args.to_dict()
    try:
        return schema().load(raw)
    except ValidationError as error:
        raise invalid_input(error, raw, "invalid_query", "查询参数") from None
