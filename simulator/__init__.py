"""The campaign simulator: plays every actor of a campaign through the gateway."""
