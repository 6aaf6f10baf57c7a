"""Route modules; importing this package registers every operation."""

from gateway.routes import admin, campaigns, issuance, notify, redemption, reports, roster, settlement  # noqa: F401,E501
from gateway.routes import operations  # noqa: F401,E402 - parked messages
