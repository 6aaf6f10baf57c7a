"""Numeric settings of the gateway, read from its nameko config or the environment."""

import os


def number_setting(config: dict, name: str, default, convert=float, minimum=0):
    """Return setting ``name`` from ``config``, else from the environment, else
    ``default``.

    Raise ValueError naming the value when it is not a number of at least ``minimum``.
    """
    configured = config.get(name)
    if configured in (None, ""):
        configured = os.environ.get(name)
    if configured in (None, ""):
        return default
    kind = "a whole number" if convert is int else "a number"
    try:
        value = convert(configured)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={configured!r} is not {kind}: set it to {minimum} "
                         f"or more, or leave it unset for {default}") from None
    if value < minimum:
        raise ValueError(f"{name}={configured!r} must be at least {minimum} "
                         f"(leave it unset for {default})")
    return value
