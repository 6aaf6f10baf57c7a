"""A compact map from ID-number keys to person positions, for million-row imports.

The import numbers persons 0, 1, 2, ... in order of first appearance and must find a
person's number again when a later row repeats the ID number. A dict of int keys to
int positions costs about 110 bytes a person (its entry and two int objects); this
open-addressing table keeps the keys in one ``array('q')`` and the slots in one
``array('i')``, about 20 bytes a person, for roughly one microsecond more a lookup.
"""

from array import array

_EMPTY = -1
_FIBONACCI = 0x9E3779B97F4A7C15  # 2**64 / golden ratio: spreads sequential keys
_MASK64 = (1 << 64) - 1
_FIRST_BITS = 10  # 1,024 slots to start with


class PersonIndex:
    """Map non-negative int keys (below 2**63) to 0, 1, 2, ... in order of adding."""

    def __init__(self):
        self.keys = array("q")  # by position: iterate it for the keys in order
        self._bits = _FIRST_BITS
        self._slots = array("i", [_EMPTY]) * (1 << _FIRST_BITS)

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, key: int) -> int:
        """Return the key's position, or -1 when it was never added."""
        slots, keys = self._slots, self.keys
        mask = len(slots) - 1
        slot = ((key * _FIBONACCI) & _MASK64) >> (64 - self._bits)
        while True:
            position = slots[slot]
            if position == _EMPTY or keys[position] == key:
                return position
            slot = (slot + 1) & mask

    def add(self, key: int) -> tuple[int, bool]:
        """Return ``(position, added)``: the key's position, appended if absent."""
        if not 0 <= key < 1 << 63:
            raise ValueError(f"key out of range: {key}")
        slots, keys = self._slots, self.keys
        mask = len(slots) - 1
        slot = ((key * _FIBONACCI) & _MASK64) >> (64 - self._bits)
        while True:
            position = slots[slot]
            if position == _EMPTY:
                break
            if keys[position] == key:
                return position, False
            slot = (slot + 1) & mask
        position = len(keys)
        keys.append(key)
        slots[slot] = position
        if 2 * len(keys) > len(slots):  # at most half full keeps probes short
            self._grow()
        return position, True

    def _grow(self) -> None:
        self._bits += 1
        slots = self._slots = array("i", [_EMPTY]) * (1 << self._bits)
        mask, shift = len(slots) - 1, 64 - self._bits
        for position, key in enumerate(self.keys):
            slot = ((key * _FIBONACCI) & _MASK64) >> shift
            while slots[slot] != _EMPTY:
                slot = (slot + 1) & mask
            slots[slot] = position
