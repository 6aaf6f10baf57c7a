"""Money as integer fen. Yuan exist only for display."""

from decimal import Decimal, InvalidOperation

FEN_PER_YUAN = 100


def format_yuan(fen: int) -> str:
    """Format fen as yuan with two decimals, for example 30000 -> '300.00'."""
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise TypeError(f"money must be an int number of fen, got {fen!r}")
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{cents:02d}"


def parse_yuan(text: str) -> int:
    """Parse a yuan amount such as '300', '300.5' or '300.50' into fen.

    Raises ValueError for anything that is not a plain decimal with at most two
    digits after the point, because a third digit would be a fraction of a fen.
    """
    try:
        amount = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"invalid yuan amount {text!r}: write digits such as 300.00")
    if not amount.is_finite() or amount.as_tuple().exponent < -2:
        raise ValueError(f"invalid yuan amount {text!r}: at most two decimals")
    return int(amount * FEN_PER_YUAN)
