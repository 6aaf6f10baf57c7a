"""The keys that protect resident ID numbers, read from the environment only.

``ROSTER_ENCRYPTION_KEY`` is a Fernet key. Full ID numbers are stored encrypted with
AES-256-GCM under a key derived from it with HKDF-SHA256, as ``A1.`` and the
URL-safe base64 of a random 12-byte nonce, the ciphertext and the 16-byte tag. Rows
written before this scheme hold Fernet tokens (AES-128-CBC with HMAC-SHA256) of the
same key, and :meth:`RosterKeys.decrypt` still reads them. AES-GCM costs about a
third of Fernet's time per ID number, which matters for a million-person import.

``ROSTER_HASH_KEY`` keys the HMAC-SHA256 by which an ID number is looked up without
decrypting, and from which the opaque beneficiary id is derived. Neither key appears
in config files or logs.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nameko.extensions import DependencyProvider

ENCRYPTION_KEY_VARIABLE = "ROSTER_ENCRYPTION_KEY"
HASH_KEY_VARIABLE = "ROSTER_HASH_KEY"
MIN_HASH_KEY_LENGTH = 32
BENEFICIARY_ID_LENGTH = 20

# A stored ID number in the AES-GCM scheme starts with this; a Fernet token never
# does (it starts with "gAAAAA", its version byte 0x80).
AESGCM_PREFIX = "A1."
_AESGCM_INFO = b"aixin roster id_number aes-256-gcm v1"
# Binds every ciphertext to its use: an ID number of the roster's persons table.
_AESGCM_CONTEXT = b"aixin:roster:persons.id_encrypted"
_NONCE_BYTES = 12
_URLSAFE = bytes.maketrans(b"+/", b"-_")  # as base64.urlsafe_b64encode

_MAKE_FERNET_KEY = ('python -c "from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())"')
_MAKE_HASH_KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'


@dataclass(frozen=True)
class RosterKeys:
    fernet: Fernet
    hash_key: bytes
    encryption_key: bytes = field(repr=False)  # the configured Fernet key
    _aead: AESGCM = field(init=False, repr=False, compare=False)
    _hmac: hmac.HMAC = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=_AESGCM_INFO).derive(self.encryption_key)
        object.__setattr__(self, "_aead", AESGCM(derived))
        object.__setattr__(self, "_hmac", hmac.new(self.hash_key,
                                                   digestmod=hashlib.sha256))

    def encrypt(self, id_number: str) -> str:
        """Encrypt an ID number with AES-256-GCM: ``A1.`` and URL-safe base64."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, id_number.encode("ascii"), _AESGCM_CONTEXT)
        encoded = binascii.b2a_base64(nonce + sealed, newline=False)
        return AESGCM_PREFIX + encoded.translate(_URLSAFE).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt a stored ID number, AES-GCM or an older row's Fernet token.

        Raises ``cryptography.fernet.InvalidToken`` for a token that was altered or
        encrypted under another key, in either scheme.
        """
        if not token.startswith(AESGCM_PREFIX):
            return self.fernet.decrypt(token.encode("ascii")).decode("ascii")
        try:
            sealed = base64.urlsafe_b64decode(token[len(AESGCM_PREFIX):])
            plain = self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:],
                                       _AESGCM_CONTEXT)
        except (InvalidTag, binascii.Error, ValueError):
            raise InvalidToken from None
        return plain.decode("ascii")

    def id_hash(self, id_number: str) -> str:
        """Return the keyed hash of a normalised 18-character ID number, in hex."""
        digest = self._hmac.copy()  # keyed once: copying is cheaper than new()
        digest.update(id_number.encode("ascii"))
        return digest.hexdigest()


def beneficiary_id(campaign_id: str, id_hash: str) -> str:
    """Derive the opaque beneficiary id: the same person in one campaign keeps it."""
    digest = _campaign_digest(campaign_id).copy()
    digest.update(id_hash.encode())
    return digest.hexdigest()[:BENEFICIARY_ID_LENGTH]


@functools.lru_cache(maxsize=64)
def _campaign_digest(campaign_id: str):
    """SHA-256 fed with ``<campaign_id>:``, copied for each person of the campaign."""
    return hashlib.sha256(f"{campaign_id}:".encode())


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
    return RosterKeys(fernet=fernet, hash_key=hash_key.encode("utf-8"),
                      encryption_key=base64.urlsafe_b64decode(encryption_key))


class Keys(DependencyProvider):
    """Reads the keys when the service starts, so a missing key stops the start."""

    def setup(self):
        self.keys = keys_from_environment()

    def get_dependency(self, worker_ctx):
        return self.keys
