"""Route modules; importing this package registers every operation."""

from gateway.routes import admin, campaigns, issuance, notify, redemption, reports, roster, settlement  # noqa: F401,E501
