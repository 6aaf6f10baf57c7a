"""Domain errors shared by every service.

A domain error carries a stable English ``code`` for programs and a Chinese
``message`` for the person who has to act on it. The gateway maps the class to an
HTTP status; nameko transports the class name, so callers get typed errors back.
"""


class DomainError(Exception):
    """An operation rejected by a business rule."""

    http_status = 422

    def __init__(self, code: str, message: str, details: dict | None = None, **more):
        self.code = code
        self.message = message
        self.details = {**(details or {}), **more}
        # The three positional args let nameko rebuild the error on the caller's side.
        super().__init__(code, message, self.details)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def to_dict(self) -> dict:
        body = {"error": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(DomainError):
    """A request whose fields fail validation."""

    http_status = 400


class NotFound(DomainError):
    """A referenced object that does not exist, or that the caller may not see."""

    http_status = 404


class Conflict(DomainError):
    """A request that contradicts the current state, such as a second redemption."""

    http_status = 409


class Forbidden(DomainError):
    """A caller whose role or scope does not allow the operation."""

    http_status = 403


ERROR_CLASSES = (DomainError, InvalidInput, NotFound, Conflict, Forbidden)
