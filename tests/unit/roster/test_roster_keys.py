"""ID numbers are stored encrypted: AES-256-GCM now, older Fernet tokens still read."""

import base64
import hashlib
import hmac
import string

import pytest
from cryptography.fernet import Fernet, InvalidToken

from services.roster.keys import AESGCM_PREFIX, beneficiary_id, keys_from_environment

ID_NUMBER = "41110319800101123X"
HASH_KEY = "h" * 40


def keys(encryption_key: str | bytes):
    if isinstance(encryption_key, bytes):
        encryption_key = encryption_key.decode("ascii")
    return keys_from_environment({"ROSTER_ENCRYPTION_KEY": encryption_key,
                                  "ROSTER_HASH_KEY": HASH_KEY})


class TestRosterKeys:
    def test_round_trip_hides_id_number(self):
        roster_keys = keys(Fernet.generate_key())
        token = roster_keys.encrypt(ID_NUMBER)
        assert token.startswith(AESGCM_PREFIX)
        assert ID_NUMBER not in token
        assert ID_NUMBER[6:14] not in token
        assert roster_keys.decrypt(token) == ID_NUMBER

    def test_token_layout_is_nonce_ciphertext_tag(self):
        roster_keys = keys(Fernet.generate_key())
        for _ in range(200):  # some tokens would have + or / in standard base64
            token = roster_keys.encrypt(ID_NUMBER)
            assert set(token[3:]) <= set(string.ascii_letters + string.digits + "-_=")
            assert len(base64.urlsafe_b64decode(token[3:])) == 12 + 18 + 16

    def test_encryption_differs_each_time(self):
        roster_keys = keys(Fernet.generate_key())
        assert roster_keys.encrypt(ID_NUMBER) != roster_keys.encrypt(ID_NUMBER)

    def test_fernet_token_of_an_older_row_still_decrypts(self):
        key = Fernet.generate_key()
        old_token = Fernet(key).encrypt(ID_NUMBER.encode("ascii")).decode("ascii")
        assert keys(key).decrypt(old_token) == ID_NUMBER

    def test_another_key_cannot_decrypt(self):
        token = keys(Fernet.generate_key()).encrypt(ID_NUMBER)
        with pytest.raises(InvalidToken):
            keys(Fernet.generate_key()).decrypt(token)

    @pytest.mark.parametrize("position", [3, 10, 30, -2])
    def test_altered_token_is_refused(self, position):
        roster_keys = keys(Fernet.generate_key())
        token = roster_keys.encrypt(ID_NUMBER)
        changed = "A" if token[position] != "A" else "B"
        altered = token[:position] + changed + token[position + 1:]
        with pytest.raises(InvalidToken):
            roster_keys.decrypt(altered)

    def test_truncated_token_is_refused(self):
        roster_keys = keys(Fernet.generate_key())
        with pytest.raises(InvalidToken):
            roster_keys.decrypt(roster_keys.encrypt(ID_NUMBER)[:20])

    def test_hash_does_not_depend_on_the_encryption_key(self):
        first, second = keys(Fernet.generate_key()), keys(Fernet.generate_key())
        assert first.id_hash(ID_NUMBER) == second.id_hash(ID_NUMBER)

    def test_hash_is_hmac_sha256(self):
        expected = hmac.new(HASH_KEY.encode(), ID_NUMBER.encode(), hashlib.sha256)
        roster_keys = keys(Fernet.generate_key())
        assert roster_keys.id_hash(ID_NUMBER) == expected.hexdigest()
        assert roster_keys.id_hash(ID_NUMBER) == expected.hexdigest()  # reusable

    def test_beneficiary_id_is_the_campaign_and_hash_digest(self):
        id_hash = keys(Fernet.generate_key()).id_hash(ID_NUMBER)
        for campaign_id in ("411103-2022-12", "411103-2023-12", "411103-2022-12"):
            expected = hashlib.sha256(f"{campaign_id}:{id_hash}".encode())
            assert beneficiary_id(campaign_id, id_hash) == expected.hexdigest()[:20]
