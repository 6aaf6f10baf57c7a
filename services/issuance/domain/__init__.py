"""Issuance rules in plain Python: states, voids, print runs, hand-out, identities."""
