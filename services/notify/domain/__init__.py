"""Reminder rules in plain Python: the schedule and the texts."""
