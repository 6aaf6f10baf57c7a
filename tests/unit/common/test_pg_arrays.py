"""Column values become PostgreSQL text array literals with every element quoted."""

import pytest

from aixin.pg_arrays import text_array


class TestTextArray:
    def test_elements_are_quoted_and_escaped(self):
        assert text_array(["a", 'b"c', "d\\e", "", "{,}"]) == \
            '{"a","b\\"c","d\\\\e","","{,}"}'

    def test_none_is_null_and_the_text_null_stays_text(self):
        assert text_array([None, "NULL", 'x"']) == '{NULL,"NULL","x\\""}'

    def test_empty_list_is_an_empty_array(self):
        assert text_array([]) == "{}"

    @pytest.mark.parametrize("values", [["a", "b\x00c"], [None, "b\x00c"]])
    def test_nul_character_is_refused(self, values):
        with pytest.raises(ValueError, match="NUL"):
            text_array(values)
