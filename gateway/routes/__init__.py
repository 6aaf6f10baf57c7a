"""Route modules; importing this package registers every operation."""

from gateway.routes import admin, campaigns  # noqa: F401
