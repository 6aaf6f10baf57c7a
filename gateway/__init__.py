"""The HTTP/JSON gateway: every client's way into the services."""
