import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aixin.errors import InvalidInput
from aixin.vouchers import (
    CROCKFORD_ALPHABET,
    SerialParts,
    check_code,
    format_serial,
    make_serial,
    mod11_10_check_digit,
    normalise_check_code,
    parse_serial,
    verify_check_code,
)

TOWNSHIP = "411102001000"
KEY = b"campaign-secret-key"

campaign_numbers = st.integers(min_value=1, max_value=99)
township_codes = st.from_regex(r"\A[0-9]{12}\Z")
sequences = st.integers(min_value=1, max_value=999_999)


class TestCheckDigit:
    def test_known_iso7064_vector(self):
        # A published valid Croatian OIB, which uses ISO 7064 MOD 11,10.
        assert mod11_10_check_digit("6943515153") == "0"

    def test_second_known_vector(self):
        assert mod11_10_check_digit("9457740319") == "4"


class TestMakeSerial:
    def test_layout(self):
        serial = make_serial(3, TOWNSHIP, 42)
        assert serial[:17] == "03" + "411102001" + "000042"

    def test_length(self):
        assert len(make_serial(1, TOWNSHIP, 1)) == 18

    @pytest.mark.parametrize("campaign_no", [0, 100, -1, True, "1"])
    def test_campaign_out_of_range(self, campaign_no):
        with pytest.raises(ValueError):
            make_serial(campaign_no, TOWNSHIP, 1)

    @pytest.mark.parametrize("sequence", [0, 1_000_000])
    def test_sequence_out_of_range(self, sequence):
        with pytest.raises(ValueError):
            make_serial(1, TOWNSHIP, sequence)

    @pytest.mark.parametrize("code", ["41110200100", "4111020010000", "41110200100A"])
    def test_bad_township_code(self, code):
        with pytest.raises(ValueError):
            make_serial(1, code, 1)


class TestParseSerial:
    def test_fields(self):
        parts = parse_serial(make_serial(7, TOWNSHIP, 123))
        assert parts == SerialParts(7, "411102001", 123)

    def test_spaces_and_dashes(self):
        serial = make_serial(7, TOWNSHIP, 123)
        typed = f" {serial[:2]}-{serial[2:11]} {serial[11:17]}－{serial[17]} "
        assert parse_serial(typed).sequence == 123

    def test_full_width_digits(self):
        serial = make_serial(7, TOWNSHIP, 123)
        full_width = "".join(chr(ord(char) + 0xFEE0) for char in serial)
        assert parse_serial(full_width).campaign_no == 7

    def test_formatted_serial_parses(self):
        serial = make_serial(7, TOWNSHIP, 123)
        assert parse_serial(format_serial(serial)).sequence == 123

    @pytest.mark.parametrize(
        "text", ["", "12345", "0" * 19, "01411102001000001a", "01411102001000001١"]
    )
    def test_malformed(self, text):
        with pytest.raises(InvalidInput) as caught:
            parse_serial(text)
        assert caught.value.code == "invalid_serial"

    def test_wrong_check_digit(self):
        serial = make_serial(7, TOWNSHIP, 123)
        wrong = serial[:17] + str((int(serial[17]) + 1) % 10)
        with pytest.raises(InvalidInput) as caught:
            parse_serial(wrong)
        assert caught.value.code == "invalid_serial"

    def test_message_is_chinese(self):
        with pytest.raises(InvalidInput) as caught:
            parse_serial("123")
        assert "券号" in caught.value.message

    def test_campaign_zero(self):
        body = "00" + "411102001" + "000001"
        with pytest.raises(InvalidInput):
            parse_serial(body + mod11_10_check_digit(body))

    @given(campaign_numbers, township_codes, sequences)
    def test_round_trip(self, campaign_no, township, sequence):
        parts = parse_serial(make_serial(campaign_no, township, sequence))
        assert parts == SerialParts(campaign_no, township[:9], sequence)

    @given(
        campaign_numbers,
        township_codes,
        sequences,
        st.integers(min_value=0, max_value=17),
        st.integers(min_value=1, max_value=9),
    )
    def test_single_digit_error_caught(
        self, campaign_no, township, sequence, at, delta
    ):
        serial = make_serial(campaign_no, township, sequence)
        digit = (int(serial[at]) + delta) % 10
        typo = serial[:at] + str(digit) + serial[at + 1 :]
        with pytest.raises(InvalidInput):
            parse_serial(typo)

    def test_most_adjacent_swaps_caught(self):
        generator = random.Random(7)
        swaps = 0
        missed = 0
        for _ in range(2000):
            township = f"{generator.randrange(10**12):012d}"
            serial = make_serial(
                generator.randint(1, 99), township, generator.randint(1, 999_999)
            )
            for at in range(17):
                swapped = serial[:at] + serial[at + 1] + serial[at] + serial[at + 2 :]
                if swapped == serial:
                    continue
                swaps += 1
                missed += _parses(swapped)
        assert missed / swaps < 0.03


class TestCheckCode:
    def test_length(self):
        assert len(check_code(KEY, make_serial(1, TOWNSHIP, 1))) == 8

    def test_alphabet(self):
        code = check_code(KEY, make_serial(1, TOWNSHIP, 1))
        assert set(code) <= set(CROCKFORD_ALPHABET)

    def test_no_confusable_letters(self):
        assert not set("ILOU") & set(CROCKFORD_ALPHABET)

    def test_depends_on_key(self):
        serial = make_serial(1, TOWNSHIP, 1)
        assert check_code(KEY, serial) != check_code(b"other key", serial)

    def test_typed_serial_same_code(self):
        serial = make_serial(1, TOWNSHIP, 1)
        assert check_code(KEY, format_serial(serial)) == check_code(KEY, serial)

    def test_invalid_serial(self):
        with pytest.raises(InvalidInput):
            check_code(KEY, "123")

    def test_empty_key(self):
        with pytest.raises(ValueError):
            check_code(b"", make_serial(1, TOWNSHIP, 1))


class TestVerifyCheckCode:
    def test_accepts_own_code(self):
        serial = make_serial(1, TOWNSHIP, 5)
        assert verify_check_code(KEY, serial, check_code(KEY, serial))

    def test_lower_case(self):
        serial = make_serial(1, TOWNSHIP, 5)
        assert verify_check_code(KEY, serial, check_code(KEY, serial).lower())

    def test_dash_in_middle(self):
        serial = make_serial(1, TOWNSHIP, 5)
        code = check_code(KEY, serial)
        assert verify_check_code(KEY, serial, f"{code[:4]}-{code[4:]}")

    def test_rejects_other_serial_code(self):
        serial = make_serial(1, TOWNSHIP, 5)
        other = check_code(KEY, make_serial(1, TOWNSHIP, 6))
        assert not verify_check_code(KEY, serial, other)

    @pytest.mark.parametrize("typed", ["", "ABC", "ABCDEFGHJ", "ÄÄÄÄÄÄÄÄ", "UUUUUUUU"])
    def test_rejects_malformed(self, typed):
        assert not verify_check_code(KEY, make_serial(1, TOWNSHIP, 5), typed)

    def test_confusable_folding(self):
        assert normalise_check_code("oil-OIL ") == "011011"

    @given(campaign_numbers, township_codes, sequences)
    def test_round_trip(self, campaign_no, township, sequence):
        serial = make_serial(campaign_no, township, sequence)
        assert verify_check_code(KEY, serial, check_code(KEY, serial))

    @given(sequences, st.data())
    def test_confusions_tolerated(self, sequence, data):
        serial = make_serial(1, TOWNSHIP, sequence)
        code = check_code(KEY, serial)
        typed = "".join(
            data.draw(st.sampled_from(_typings(char))) for char in code
        )
        assert verify_check_code(KEY, serial, typed)

    @given(sequences, st.integers(0, 7), st.sampled_from(CROCKFORD_ALPHABET))
    def test_changed_character_rejected(self, sequence, at, replacement):
        serial = make_serial(1, TOWNSHIP, sequence)
        code = check_code(KEY, serial)
        if code[at] != replacement:
            typo = code[:at] + replacement + code[at + 1 :]
            assert not verify_check_code(KEY, serial, typo)


def _parses(serial: str) -> bool:
    try:
        parse_serial(serial)
    except InvalidInput:
        return False
    return True


def _typings(char: str) -> list[str]:
    """Return the ways a cashier may type ``char`` that must still verify."""
    options = [char, char.lower()]
    if char == "0":
        options += ["O", "o"]
    if char == "1":
        options += ["I", "i", "L", "l"]
    return options
