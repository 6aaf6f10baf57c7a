from datetime import date

import pytest

from services.roster.domain.idnumber import (
    birth_date,
    check_character,
    classify_id,
    looks_like_spreadsheet_number,
    mask_id,
    normalize_id_text,
    upgrade_15_to_18,
)

# Synthetic numbers with correct check characters, computed independently.
VALID_X = "11010519491231002X"
VALID_DIGIT = "411103198001011237"


class TestNormalizeIdText:
    def test_none_is_empty(self):
        assert normalize_id_text(None) == ""

    def test_blank_is_empty(self):
        assert normalize_id_text(" \u3000\t") == ""

    def test_strips_ideographic_space(self):
        assert normalize_id_text("\u3000411103198001011237\u3000") == VALID_DIGIT

    def test_strips_inner_spaces(self):
        assert normalize_id_text("411103 19800101 1237") == VALID_DIGIT

    def test_full_width_digits(self):
        assert normalize_id_text("４１１１０３１９８００１０１１２３７") == VALID_DIGIT

    def test_full_width_x(self):
        assert normalize_id_text("11010519491231002ｘ") == VALID_X

    def test_lowercase_x(self):
        assert normalize_id_text("11010519491231002x") == VALID_X

    def test_zero_width_space(self):
        assert normalize_id_text("\ufeff411103198001011237\u200b") == VALID_DIGIT


class TestSpreadsheetNumber:
    @pytest.mark.parametrize(
        "raw",
        [
            "4.11103E+17",
            "4.11103e17",
            "4.11103198001011E+17",
            "411103198001011234.0",
            "４.１１１０３Ｅ+１７",
            4.11103198001011e17,
            411103198001011237,
        ],
    )
    def test_detected(self, raw):
        assert looks_like_spreadsheet_number(raw)

    @pytest.mark.parametrize("raw", [VALID_DIGIT, VALID_X, "", None, True])
    def test_text_is_not(self, raw):
        assert not looks_like_spreadsheet_number(raw)


class TestCheckCharacter:
    def test_ten_is_x(self):
        assert check_character(VALID_X[:17]) == "X"

    def test_digit(self):
        assert check_character(VALID_DIGIT[:17]) == "7"

    def test_every_remainder(self):
        # ISO 7064 MOD 11-2: the full weighted sum including the check value is 1.
        weights = [pow(2, 17 - i, 11) for i in range(18)]
        for sequence in range(100, 111):
            first17 = f"41110319800101{sequence:03d}"
            check = check_character(first17)
            value = 10 if check == "X" else int(check)
            digits = [int(d) for d in first17] + [value]
            total = sum(d * w for d, w in zip(digits, weights))
            assert total % 11 == 1, first17

    @pytest.mark.parametrize("bad", ["1234", "4111031980010112X", "4111031980010112３"])
    def test_rejects_non_digits(self, bad):
        with pytest.raises(ValueError):
            check_character(bad)


class TestUpgrade:
    def test_inserts_century_and_check(self):
        assert upgrade_15_to_18("110105491231002") == VALID_X

    def test_rejects_wrong_length(self):
        with pytest.raises(ValueError):
            upgrade_15_to_18("11010549123100")

    def test_error_is_masked(self):
        with pytest.raises(ValueError) as caught:
            upgrade_15_to_18("11010549123100X")
        assert "11010549123100X" not in str(caught.value)


class TestBirthDate:
    def test_real_date(self):
        assert birth_date(VALID_DIGIT) == date(1980, 1, 1)

    def test_february_thirtieth(self):
        assert birth_date("411103198002301238") is None

    def test_leap_day_in_leap_year(self):
        assert birth_date("411103200002291238") == date(2000, 2, 29)

    def test_leap_day_in_common_year(self):
        assert birth_date("411103190002291238") is None

    def test_month_thirteen(self):
        assert birth_date("411103198013011238") is None

    def test_short_text(self):
        assert birth_date("4111031980") is None


def _with_check(first17: str) -> str:
    return first17 + check_character(first17)


class TestClassifyId:
    def test_valid(self):
        assert classify_id(VALID_DIGIT) == (None, VALID_DIGIT)

    def test_missing(self):
        assert classify_id("")[0] == "missing_id"

    @pytest.mark.parametrize(
        "text",
        [
            "4.11103E+17",
            "411103198001011237.0",
            "41110319800101123",
            "4111031980010112370",
            "41110319800101123Y",
            "4111031980010X1238",
            "11010549123100X",
            "４１１１０３１９８００１０１１２３７",
        ],
    )
    def test_invalid_format(self, text):
        assert classify_id(text)[0] == "invalid_id_format"

    def test_fifteen_digits_upgraded(self):
        assert classify_id("110105491231002") == (None, VALID_X)

    def test_fifteen_digits_bad_date(self):
        assert classify_id("110105490231002")[0] == "invalid_id_birthdate"

    def test_bad_birthdate_before_checksum(self):
        # The check character is right, so only the date can fail.
        id18 = _with_check("41110319800230123")
        assert classify_id(id18)[0] == "invalid_id_birthdate"

    def test_bad_checksum(self):
        assert classify_id("411103198001011238")[0] == "invalid_id_checksum"

    def test_born_after_snapshot(self):
        id18 = _with_check("41110320230105123")
        assert classify_id(id18, date(2022, 12, 31))[0] == "id_born_after_snapshot"

    def test_born_on_snapshot_end(self):
        id18 = _with_check("41110320221231123")
        assert classify_id(id18, date(2022, 12, 31))[0] is None

    def test_future_birth_without_snapshot(self):
        id18 = _with_check("41110320230105123")
        assert classify_id(id18)[0] is None


class TestMaskId:
    def test_eighteen(self):
        assert mask_id(VALID_DIGIT) == "411103********1237"

    def test_fifteen(self):
        assert mask_id("110105491231002") == "110105*****1002"

    def test_normalises_first(self):
        assert mask_id(" 11010519491231002x ") == "110105********002X"

    @pytest.mark.parametrize("value", ["", None])
    def test_empty(self, value):
        assert mask_id(value) == ""

    @pytest.mark.parametrize("value", ["4111", "4111031980", "41110319800101"])
    def test_short_fully_hidden(self, value):
        assert set(mask_id(value)) == {"*"}

    def test_short_keeps_length(self):
        assert len(mask_id("4111031980")) == 10
