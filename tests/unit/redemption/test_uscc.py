import pytest
from hypothesis import given
from hypothesis import strategies as st

from aixin.errors import InvalidInput
from services.redemption.domain.uscc import (
    USCC_ALPHABET,
    is_valid_uscc,
    make_uscc,
    uscc_check_char,
    validate_uscc,
)

# Codes printed on real business licences.
PUBLISHED = ["91350100M000100Y43", "91110000600037341L", "91110108551385082Q"]


class TestValidate:
    @pytest.mark.parametrize("code", PUBLISHED)
    def test_published_codes(self, code):
        assert validate_uscc(code) == code

    def test_normalises(self):
        assert validate_uscc(" 91350100m000100y43 ") == "91350100M000100Y43"

    def test_full_width(self):
        full_width = "".join(chr(ord(char) + 0xFEE0) for char in PUBLISHED[0])
        assert validate_uscc(full_width) == PUBLISHED[0]

    @pytest.mark.parametrize(
        "code",
        [
            "",
            "91350100M000100Y4",
            "91350100M000100Y433",
            "91350100M000100Y44",
            "9135010OM000100Y43",
            "91350100S000100Y43",
            "913501A0M000100Y43",
        ],
    )
    def test_invalid(self, code):
        with pytest.raises(InvalidInput) as caught:
            validate_uscc(code)
        assert caught.value.code == "invalid_uscc"

    def test_message_is_chinese(self):
        with pytest.raises(InvalidInput) as caught:
            validate_uscc("91350100M000100Y44")
        assert "校验位" in caught.value.message

    def test_is_valid_false(self):
        assert not is_valid_uscc("91350100M000100Y44")


class TestCheckChar:
    def test_known(self):
        assert uscc_check_char("91350100M000100Y4") == "3"

    def test_bad_character(self):
        with pytest.raises(ValueError):
            uscc_check_char("91350100M000100I4")

    def test_alphabet_size(self):
        assert len(USCC_ALPHABET) == 31


class TestMakeUscc:
    def test_valid(self):
        assert is_valid_uscc(make_uscc())

    def test_distinct(self):
        assert make_uscc(sequence=1) != make_uscc(sequence=2)

    def test_division_embedded(self):
        assert make_uscc(division_code="410100")[2:8] == "410100"

    def test_sequence_too_large(self):
        with pytest.raises(ValueError):
            make_uscc(sequence=10**8)

    @given(st.integers(min_value=0, max_value=10**8 - 1))
    def test_always_valid(self, sequence):
        assert is_valid_uscc(make_uscc(sequence=sequence))

    @given(
        st.integers(min_value=0, max_value=10**8 - 1),
        st.integers(0, 17),
        st.sampled_from(USCC_ALPHABET),
    )
    def test_single_change_detected(self, sequence, at, replacement):
        code = make_uscc(sequence=sequence)
        if code[at] != replacement:
            assert not is_valid_uscc(code[:at] + replacement + code[at + 1 :])
