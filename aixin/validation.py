"""Loading request payloads with marshmallow into clear, Chinese-readable errors."""

import re

from marshmallow import Schema, ValidationError

from aixin.errors import InvalidInput

REQUIRED = "Missing data for required field."
UNKNOWN = "Unknown field."
# marshmallow 4's English messages and, in Chinese, what each one expects. A ``{name}``
# stands for a value that marshmallow puts into the message, such as a length limit.
MESSAGES = {
    "Field may not be null.": "不能为 null，请填写一个值",
    "Invalid value.": "不符合要求",
    "Invalid input.": "不符合要求",
    "Invalid input type.": "应为 JSON 对象",
    "Invalid type.": "应为 JSON 对象",
    "Not a valid mapping type.": "应为 JSON 对象",
    "Not a valid list.": "应为列表（JSON 数组）",
    "Not a valid tuple.": "应为列表（JSON 数组）",
    "Not a valid string.": "应为文本（字符串）",
    "Not a valid utf-8 string.": "应为 UTF-8 文本",
    "Not a valid number.": "应为数字",
    "Not a valid integer.": "应为整数（例如 30000），不带引号、小数点或单位",
    "Number too large.": "数值过大",
    "Special numeric values (nan or infinity) are not permitted.":
        "不能是 NaN 或无穷大，应为普通数字",
    "Not a valid boolean.": "应为 true 或 false",
    "Not a valid date.": "应为 YYYY-MM-DD 格式的有效日期，例如 2023-01-05",
    "Not a valid datetime.": "应为 ISO 8601 格式的时间，例如 2023-01-05T09:00:00+08:00",
    "Not a valid aware datetime.":
        "应为带时区的 ISO 8601 时间，例如 2023-01-05T09:00:00+08:00",
    "Not a valid naive datetime.": "应为不带时区的时间，例如 2023-01-05T09:00:00",
    "Not a valid time.": "应为 HH:MM:SS 格式的时间",
    "Not a valid period of time.": "应为一段时长",
    "Not a valid UUID.": "应为 UUID",
    "Not a valid email address.": "应为有效的电子邮件地址",
    "Not a valid URL.": "应为有效的网址",
    "String does not match expected pattern.": "格式不正确，请对照接口说明 /openapi.json",
    "Must be one of: {choices}.": "应为以下值之一：{choices}",
    "One or more of the choices you made was not in: {choices}.":
        "只能包含以下值：{choices}",
    "Must be equal to {other}.": "应等于 {other}",
    "Must be greater than or equal to {min} and less than or equal to {max}.":
        "应在 {min} 到 {max} 之间（含两端）",
    "Must be greater than {min} and less than or equal to {max}.":
        "应大于 {min} 且不大于 {max}",
    "Must be greater than or equal to {min} and less than {max}.":
        "应不小于 {min} 且小于 {max}",
    "Must be greater than {min} and less than {max}.": "应大于 {min} 且小于 {max}",
    "Must be greater than or equal to {min}.": "应不小于 {min}",
    "Must be greater than {min}.": "应大于 {min}",
    "Must be less than or equal to {max}.": "应不大于 {max}",
    "Must be less than {max}.": "应小于 {max}",
    "Shorter than minimum length {min}.": "长度应至少为 {min}",
    "Longer than maximum length {max}.": "长度应不超过 {max}",
    "Length must be between {min} and {max}.": "长度应在 {min} 到 {max} 之间",
    "Length must be {equal}.": "长度应恰好为 {equal}",
}
_CJK = re.compile(r"[\u3400-\u9fff]")


def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)
    # re.split alternates literal text and placeholder names.
    regex = "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)"
                    for index, part in enumerate(parts))
    return re.compile(regex)


_PATTERNS = [(_pattern(english), chinese) for english, chinese in MESSAGES.items()]


def translate(message: str) -> str:
    """Return the Chinese for one of marshmallow's messages, or a schema's own one.

    A schema's message already in Chinese is returned as it is. An English message
    without a translation becomes "不符合要求", and ``load`` keeps the English in the
    error's details.
    """
    for pattern, chinese in _PATTERNS:
        match = pattern.fullmatch(message)
        if match:
            return chinese.format(**match.groupdict())
    if _CJK.search(message):
        return message
    return "不符合要求"


def describe(field: str, value, problems: list[str], input_kind: str = "字段",
             value_noun: str = "值") -> str:
    """Return one Chinese sentence naming the field, its value and the fix.

    ``input_kind`` names the kind of input, such as 字段 or 查询参数, and ``value_noun``
    is 键 when the invalid value is a key of a mapping.
    """
    name = field or "（整体）"
    if REQUIRED in problems:
        return f"缺少必填{input_kind} {name}：请填写该{input_kind}"
    displayed = _display(value)
    if UNKNOWN in problems:
        return (f"{input_kind} {name}（值 {displayed}）不是该接口接受的{input_kind}："
                "请删除它或核对拼写")
    fixes = "，".join(dict.fromkeys(translate(problem) for problem in problems))
    return f"{input_kind} {name} 的{value_noun} {displayed} 无效：{fixes}"


def _display(value) -> str:
    return repr(value)[:60] if value is not None else "空"


def _flatten(messages, prefix=""):
    if isinstance(messages, dict):
        for key, value in messages.items():
            # "_schema" contains the errors of the object at ``prefix`` as a whole.
            yield from _flatten(value, prefix if key == "_schema" else f"{prefix}{key}.")
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


def _locate(payload, path: str) -> tuple[str, object, bool]:
    """Return the field path, its value and whether the value is a mapping's key.

    marshmallow reports an entry of a Dict field as ``<field>.<key>.key`` when the
    key is invalid and as ``<field>.<key>.value`` when its value is.
    """
    entry, _, last = path.rpartition(".")
    mapping, _, key = entry.rpartition(".")
    if last in ("key", "value") and mapping and isinstance(_value_at(payload, mapping),
                                                           dict):
        if last == "key":
            return entry, key, True
        return entry, _value_at(payload, entry), False
    return path, _value_at(payload, path), False


def invalid_input(error: ValidationError, payload, code: str = "invalid_request",
                  input_kind: str = "字段") -> InvalidInput:
    """Build the InvalidInput for a marshmallow error on ``payload``.

    The message is Chinese, one sentence per field. ``details.fields`` lists each
    field's path, value, Chinese message and marshmallow's English ``problems``.
    """
    fields = []
    sentences = []
    for path, problems in _flatten(error.messages):
        path, value, is_key = _locate(payload, path)
        value_noun = "键" if is_key else "值"
        sentence = describe(path, value, problems, input_kind, value_noun)
        fields.append({"field": path, "value": _display(value), "message": sentence,
                       "problems": problems})
        sentences.append(sentence)
    return InvalidInput(code, "；".join(sentences) + "。请按提示修改后重新提交。",
                        fields=fields)


def load(schema: Schema, payload) -> dict:
    """Load ``payload`` or raise InvalidInput naming each field, its value and the fix."""
    if not isinstance(payload, dict):
        raise InvalidInput("invalid_request", "请求内容必须是 JSON 对象。")
    try:
        return schema.load(payload)
    except ValidationError as error:
        raise invalid_input(error, payload) from None
