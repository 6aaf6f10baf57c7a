"""Redemption rules in plain Python: reasons, statements, payment, window, flags."""
