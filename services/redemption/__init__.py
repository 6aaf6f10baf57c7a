"""Redemption service: merchants, redemptions, statements and audit."""
