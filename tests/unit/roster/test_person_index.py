"""The compact map from ID-number keys to person positions."""

import random

import pytest

from services.roster.domain.person_index import PersonIndex


class TestPersonIndex:
    def test_keys_get_positions_in_order_of_adding(self):
        index = PersonIndex()
        assert index.add(41110319800101123) == (0, True)
        assert index.add(41110319800101124) == (1, True)
        assert index.add(41110319800101123) == (0, False)
        assert len(index) == 2
        assert list(index.keys) == [41110319800101123, 41110319800101124]

    def test_many_keys_survive_growing_the_table(self):
        rng = random.Random(7)
        keys = list(range(41110319800101000, 41110319800106000))  # sequential
        keys += rng.sample(range(10**16, 10**17), 20000)
        index = PersonIndex()
        for position, key in enumerate(keys):
            assert index.add(key) == (position, True)
        for position, key in enumerate(keys):
            assert index.find(key) == position
            assert index.add(key) == (position, False)
        assert index.find(10**17 + 1) == -1
        assert len(index) == len(keys)
        assert list(index.keys) == keys

    @pytest.mark.parametrize("key", [-1, 1 << 63])
    def test_key_out_of_range_is_refused(self, key):
        with pytest.raises(ValueError):
            PersonIndex().add(key)
