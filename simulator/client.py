"""An HTTP client of the gateway that acts as one actor with one token."""

import logging
import uuid
from collections import Counter

import requests

log = logging.getLogger(__name__)


class GatewayError(Exception):
    def __init__(self, status: int, body: dict):
        super().__init__(f"{status} {body.get('error')}: {body.get('message')}")
        self.status = status
        self.code = body.get("error")
        self.body = body


class Actor:
    """One role's view of the gateway: every call carries its token."""

    def __init__(self, base_url: str, token: str, name: str, session=None):
        self.base_url = base_url
        self.name = name
        self.session = session or requests.Session()
        self.headers = {"Authorization": f"Bearer {token}"}

    def request(self, method: str, path: str, *, json=None, files=None, data=None,
                params=None, idempotency_key: str | None = None, raw: bool = False):
        headers = dict(self.headers)
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            headers["Idempotency-Key"] = idempotency_key or uuid.uuid4().hex
        response = self.session.request(method, self.base_url + path, json=json,
                                        files=files, data=data, params=params,
                                        headers=headers, timeout=300)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"error": "http_error", "message": response.text[:200]}
            raise GatewayError(response.status_code, body)
        if raw:
            return response
        return response.json()

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.request("PUT", path, **kwargs)


class Rejections:
    """Counts operations the system rejected, by reason code."""

    def __init__(self):
        self.by_reason = Counter()
        self.unexpected = []

    def expect(self, reason: str, operation, *args, **kwargs):
        """Run an operation that must be rejected with ``reason``; record the outcome."""
        try:
            operation(*args, **kwargs)
        except GatewayError as error:
            self.by_reason[error.code] += 1
            if error.code != reason:
                self.unexpected.append(f"expected {reason}, got {error.code}: "
                                       f"{error.body.get('message')}")
            return error
        self.unexpected.append(f"expected {reason}, but the operation succeeded")
        return None
