"""The reporting service: a read model of the campaign built from events only."""
