"""The keys that protect resident ID numbers, read from the environment only.

``ROSTER_ENCRYPTION_KEY`` is a Fernet key (AES-128-CBC with HMAC-SHA256): full ID
numbers are stored encrypted with it. ``ROSTER_HASH_KEY`` keys the HMAC-SHA256 by
which an ID number is looked up without decrypting, and from which the opaque
beneficiary id is derived. Neither key appears in config files or logs.
"""

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.fernet import Fernet
from nameko.extensions import DependencyProvider

ENCRYPTION_KEY_VARIABLE = "ROSTER_ENCRYPTION_KEY"
HASH_KEY_VARIABLE = "ROSTER_HASH_KEY"
MIN_HASH_KEY_LENGTH = 32
BENEFICIARY_ID_LENGTH = 20

_MAKE_FERNET_KEY = ('python -c "from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())"')
_MAKE_HASH_KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'


@dataclass(frozen=True)
class RosterKeys:
    fernet: Fernet
    hash_key: bytes

    def encrypt(self, id_number: str) -> str:
        return self.fernet.encrypt(id_number.encode("ascii")).decode("ascii")

    def decrypt(self, token: str) -> str:
        return self.fernet.decrypt(token.encode("ascii")).decode("ascii")

    def id_hash(self, id_number: str) -> str:
        """Return the keyed hash of a normalised 18-character ID number, in hex."""
        digest = hmac.new(self.hash_key, id_number.encode("ascii"), hashlib.sha256)
        return digest.hexdigest()


def beneficiary_id(campaign_id: str, id_hash: str) -> str:
    """Derive the opaque beneficiary id: the same person in one campaign keeps it."""
    digest = hashlib.sha256(f"{campaign_id}:{id_hash}".encode()).hexdigest()
    return digest[:BENEFICIARY_ID_LENGTH]


def keys_from_environment(environ=os.environ) -> RosterKeys:
    """Build the keys; raise RuntimeError naming the variable that is missing or bad."""
    encryption_key = environ.get(ENCRYPTION_KEY_VARIABLE, "").strip()
    if not encryption_key:
        raise RuntimeError(
            f"{ENCRYPTION_KEY_VARIABLE} is not set: the roster service stores ID "
            f"numbers encrypted with this Fernet key. Make one with "
            f"{_MAKE_FERNET_KEY}, keep it safe, export it and restart.")
    try:
        fernet = Fernet(encryption_key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise RuntimeError(
            f"{ENCRYPTION_KEY_VARIABLE} is not a valid Fernet key (32 url-safe base64 "
            f"bytes). Make one with {_MAKE_FERNET_KEY}.") from None
    hash_key = environ.get(HASH_KEY_VARIABLE, "").strip()
    if not hash_key:
        raise RuntimeError(
            f"{HASH_KEY_VARIABLE} is not set: the roster service looks ID numbers up "
            f"by an HMAC keyed with it. Make one with {_MAKE_HASH_KEY}, keep it "
            f"safe, export it and restart.")
    if len(hash_key) < MIN_HASH_KEY_LENGTH:
        raise RuntimeError(
            f"{HASH_KEY_VARIABLE} is only {len(hash_key)} characters long: use at "
            f"least {MIN_HASH_KEY_LENGTH}, for example from {_MAKE_HASH_KEY}.")
    return RosterKeys(fernet=fernet, hash_key=hash_key.encode("utf-8"))


class Keys(DependencyProvider):
    """Reads the keys when the service starts, so a missing key stops the start."""

    def setup(self):
        self.keys = keys_from_environment()

    def get_dependency(self, worker_ctx):
        return self.keys
