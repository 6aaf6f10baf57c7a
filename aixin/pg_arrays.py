"""Many rows in one PostgreSQL statement: columns sent as text array literals.

``INSERT ... SELECT * FROM unnest(%s::text[], %s::text[], ...)`` with one array per
column stores thousands of rows in one round trip. PostgreSQL parses a text array
literal nearly as fast as COPY input, and COPY itself is unavailable to the services:
psycopg2 refuses it while eventlet's wait callback is installed (``aixin.db``).
"""

from typing import Sequence

_SEPARATOR = "\x00"  # PostgreSQL text cannot hold NUL, so no value contains it


def text_array(values: Sequence[str | None]) -> str:
    """Return the PostgreSQL array literal of ``values`` (``None`` is NULL).

    Every element is quoted, so any text survives, commas, braces and quotes
    included. Raises ValueError for a value with a NUL character, which PostgreSQL
    text cannot store.
    """
    if not values:
        return "{}"
    if None in values:
        return "{" + ",".join("NULL" if value is None else _quoted(value)
                              for value in values) + "}"
    joined = _SEPARATOR.join(values)
    if joined.count(_SEPARATOR) != len(values) - 1:
        raise ValueError("a text value contains a NUL character")
    escaped = joined.replace("\\", "\\\\").replace('"', '\\"')
    return '{"' + escaped.replace(_SEPARATOR, '","') + '"}'


def _quoted(value: str) -> str:
    if _SEPARATOR in value:
        raise ValueError("a text value contains a NUL character")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
