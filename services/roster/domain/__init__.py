"""Roster rules in plain Python: ID numbers, divisions, roster import."""
