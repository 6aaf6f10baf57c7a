"""Loading request payloads with marshmallow into clear, Chinese-readable errors."""

from marshmallow import Schema, ValidationError

from aixin.errors import InvalidInput


def _flatten(messages, prefix=""):
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, f"{prefix}{key}." if prefix or key != "_schema"
                                else prefix)
    elif isinstance(messages, list) and messages and not isinstance(messages[0], str):
        for item in messages:
            yield from _flatten(item, prefix)
    else:
        yield prefix.rstrip("."), messages if isinstance(messages, list) else [messages]


def _value_at(payload, path: str):
    value = payload
    for part in path.split(".") if path else []:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def load(schema: Schema, payload) -> dict:
    """Load ``payload`` or raise InvalidInput naming each field, its value and the fix."""
    if not isinstance(payload, dict):
        raise InvalidInput("invalid_request", "请求内容必须是 JSON 对象。")
    try:
        return schema.load(payload)
    except ValidationError as error:
        fields = []
        parts = []
        for path, problems in _flatten(error.messages):
            value = _value_at(payload, path)
            shown = repr(value)[:60] if value is not None else "空"
            fields.append({"field": path, "value": shown, "problems": problems})
            parts.append(f"字段 {path or '（整体）'} 的值 {shown} 无效：{'；'.join(problems)}")
        raise InvalidInput("invalid_request", "；".join(parts) + "。请修改后重新提交。",
                           fields=fields) from None
