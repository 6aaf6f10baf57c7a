"""Issuance service: townships print, hand out and account for vouchers."""
