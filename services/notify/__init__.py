"""The notify service: deadline reminders derived from each campaign's dates."""
