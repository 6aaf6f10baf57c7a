"""API tokens: each bound to a role and, for townships and merchants, to one code.

Only the SHA-256 of a token is stored. Tokens are 256 random bits, so an unsalted hash
is enough. A token is looked up by its hash, so response times tell an attacker
nothing useful about the stored tokens.

A gateway keeps the tokens it found valid for a few seconds (``TokenCache``, default
5 s, ``GATEWAY_TOKEN_CACHE_S``), because reading the token was 40% of the gateway's
work per request. A revocation through a gateway empties that gateway's cache before
it responds, so the token is rejected at once there. Another gateway instance, or a
change made directly in the database, takes effect within the cache time.
"""

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from nameko.extensions import DependencyProvider
from sqlalchemy import insert, select, update

from aixin.errors import InvalidInput, NotFound
from gateway.models import api_tokens
from gateway.settings import number_setting

ROLES = {
    "admin": "系统管理员",
    "commerce": "区商务局",
    "civil_affairs": "区民政局",
    "finance": "区财政局",
    "township": "乡镇（街道）",
    "merchant": "指定商超",
    "leading_group": "领导小组",
}
SCOPED_ROLES = {"township": re.compile(r"^\d{12}$"),
                "merchant": re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{18}$")}
TOKEN_PREFIX = "axn_"


@dataclass(frozen=True)
class Principal:
    role: str
    scope: str | None
    name: str
    token_id: str

    def as_actor(self, correlation_id: str) -> dict:
        return {"role": self.role, "scope": self.scope, "name": self.name,
                "token_id": self.token_id, "correlation_id": correlation_id}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session, role: str, scope: str | None, name: str, now) -> dict:
    """Create a token and return it once; only its hash is kept."""
    if role not in ROLES:
        raise InvalidInput("invalid_role",
                           f"角色 {role!r} 不存在：可选 {', '.join(sorted(ROLES))}。")
    pattern = SCOPED_ROLES.get(role)
    if pattern and not (scope and pattern.match(scope)):
        raise InvalidInput("invalid_scope",
                           f"角色 {role} 必须绑定代码（乡镇为 12 位区划代码，商超为 18 位统一社会"
                           f"信用代码），收到 {scope!r}。")
    if not pattern:
        scope = None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = secrets.token_hex(8)
    session.execute(insert(api_tokens).values(
        token_hash=hash_token(token), token_id=token_id, role=role, scope=scope,
        name=name, created_at=now))
    return {"token": token, "token_id": token_id, "role": role, "scope": scope,
            "name": name}


def authenticate(session, token: str) -> Principal | None:
    """Return the principal of a valid, unrevoked token, or None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    digest = hash_token(token)
    row = session.execute(select(api_tokens).where(
        api_tokens.c.token_hash == digest)).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.token_hash, digest):
        return None
    return Principal(role=row.role, scope=row.scope, name=row.name, token_id=row.token_id)


def revoke_token(session, token_id: str, now) -> None:
    result = session.execute(update(api_tokens).where(
        api_tokens.c.token_id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now))
    if result.rowcount != 1:
        raise NotFound("token_not_found", f"令牌 {token_id} 不存在或已吊销。")


DEFAULT_CACHE_SECONDS = 5.0
MAX_CACHED_TOKENS = 10_000


class TokenCache:
    """Valid tokens by hash, each kept for ``seconds`` after it was read.

    Only valid tokens are kept, so guessed tokens cannot fill it. ``revoked`` empties
    it and starts a new generation: a lookup that began before the revocation does not
    store what it read, so a token read just before its revocation committed is not
    kept either.
    """

    def __init__(self, seconds: float = DEFAULT_CACHE_SECONDS,
                 max_tokens: int = MAX_CACHED_TOKENS, clock=time.monotonic):
        self.seconds = seconds
        self.max_tokens = max_tokens
        self.clock = clock
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._generation = 0

    def authenticate(self, token: str, read) -> Principal | None:
        """Return the principal of ``token``; ``read()`` looks it up in the database
        (with ``authenticate``) when it is not cached or its time is up."""
        if self.seconds <= 0 or not token or len(token) > 100:
            return read()
        digest = hash_token(token)
        entry = self._entries.get(digest)
        now = self.clock()
        if entry is not None and entry[1] > now:
            return entry[0]
        generation = self._generation
        principal = read()
        if principal is None or generation != self._generation:
            self._entries.pop(digest, None)
            return principal
        if len(self._entries) >= self.max_tokens:
            self._entries.clear()
        self._entries[digest] = (principal, now + self.seconds)
        return principal

    def revoked(self) -> None:
        """Forget every cached token: call it once a revocation has committed."""
        self._generation += 1
        self._entries.clear()


class CachedTokens(DependencyProvider):
    """One TokenCache per gateway process, kept for ``GATEWAY_TOKEN_CACHE_S`` seconds
    (0 turns the cache off)."""

    def setup(self):
        self.cache = TokenCache(number_setting(
            self.container.config, "GATEWAY_TOKEN_CACHE_S", DEFAULT_CACHE_SECONDS))

    def get_dependency(self, worker_ctx):
        return self.cache
