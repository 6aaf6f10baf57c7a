"""The first admin token, taken from ``AIXIN_ADMIN_TOKEN`` when the gateway starts.

Every other token is issued through ``POST /v1/tokens`` with an admin token, so a new
installation needs one to begin with. Like every token, only its hash is stored.
"""

import logging
import os
from datetime import datetime

from nameko.extensions import DependencyProvider
from sqlalchemy import insert, select

from aixin.clock import CAMPAIGN_TZ
from aixin.nameko_kit import Storage
from gateway.models import api_tokens
from gateway.tokens import TOKEN_PREFIX, hash_token

log = logging.getLogger(__name__)
MIN_TOKEN_LENGTH = 36


class AdminTokenBootstrap(DependencyProvider):
    def start(self):
        token = self.container.config.get("AIXIN_ADMIN_TOKEN") or os.environ.get(
            "AIXIN_ADMIN_TOKEN")
        if not token:
            return
        if not token.startswith(TOKEN_PREFIX) or len(token) < MIN_TOKEN_LENGTH:
            raise ValueError(f"AIXIN_ADMIN_TOKEN must start with {TOKEN_PREFIX} and be at "
                             f"least {MIN_TOKEN_LENGTH} characters long")
        storage = next(ext for ext in self.container.extensions
                       if isinstance(ext, Storage))
        # The simulated clock may not be set yet at start-up, so this is wall time.
        created_at = datetime.now(CAMPAIGN_TZ)
        with storage.database.transaction() as session:
            digest = hash_token(token)
            if session.execute(select(api_tokens.c.token_id).where(
                    api_tokens.c.token_hash == digest)).first():
                return
            session.execute(insert(api_tokens).values(
                token_hash=digest, token_id="admin-bootstrap", role="admin", scope=None,
                name="bootstrap administrator", created_at=created_at))
        log.info("registered the bootstrap admin token")

