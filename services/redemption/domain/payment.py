"""How a purchase is paid: the voucher part and the part the person pays."""


def split_payment(total_fen: int, face_value_fen: int) -> tuple[int, int]:
    """Return ``(voucher_part_fen, paid_by_person_fen)`` for one purchase.

    A voucher is used once and gives no change. A purchase below face value
    consumes the whole voucher and the merchant is reimbursed the total only, so
    the voucher part is the total. Above face value the person pays the rest.
    Raises ValueError unless both amounts are positive ints.
    """
    for name, value in (("total_fen", total_fen), ("face_value_fen", face_value_fen)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"invalid {name} {value!r}: expected a positive int")
    voucher_part = min(total_fen, face_value_fen)
    return voucher_part, total_fen - voucher_part
