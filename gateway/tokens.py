"""API tokens: each bound to a role and, for townships and merchants, to one code.

Only the SHA-256 of a token is stored. Tokens are 256 random bits, so an unsalted hash
is enough. A token is looked up by its hash, so response times tell an attacker
nothing useful about the stored tokens.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from aixin.errors import InvalidInput, NotFound
from gateway.models import api_tokens

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
