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


def error_as_data(error: DomainError) -> dict:
    """Describe ``error`` as JSON data that ``error_from_data`` turns back into it.

    Stored rejections of idempotency keys and the per-request outcomes of a batch RPC
    both travel as this data.
    """
    shared_class = next(cls for cls in type(error).__mro__ if cls in ERROR_CLASSES)
    return {"class": shared_class.__name__, "code": error.code,
            "message": error.message, "details": error.details}


def error_from_data(data: dict) -> DomainError:
    """Rebuild the DomainError that ``error_as_data`` described."""
    error_class = _ERROR_CLASSES_BY_NAME.get(data.get("class"), DomainError)
    return error_class(data["code"], data["message"], data.get("details"))


_ERROR_CLASSES_BY_NAME = {error_class.__name__: error_class
                          for error_class in ERROR_CLASSES}
