"""Turning the domain's specific errors into the shared classes RPC callers know.

nameko rebuilds an exception on the caller's side only when its class is
registered (aixin.nameko_kit registers the classes of aixin.errors), and
aixin.commands stores a rejection under the class name it finds in aixin.errors.
The specific classes of ``services.issuance.domain.errors`` would otherwise reach
the gateway as a RemoteError and a replayed rejection as a plain DomainError.
"""

import functools

from aixin.errors import ERROR_CLASSES, DomainError


def as_shared_error(error: DomainError) -> DomainError:
    """Return ``error`` as the nearest class of aixin.errors, same code and message."""
    if type(error) in ERROR_CLASSES:
        return error
    shared = next(cls for cls in type(error).__mro__ if cls in ERROR_CLASSES)
    return shared(error.code, error.message, error.details)


def shared_errors(function):
    """Decorate a function so the DomainErrors it raises are of the shared classes."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except DomainError as error:
            converted = as_shared_error(error)
            if converted is error:
                raise
            raise converted from error

    return wrapper
