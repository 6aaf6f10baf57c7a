import pytest

from services.redemption.domain.payment import split_payment

FACE = 30000


class TestSplitPayment:
    def test_below_face_value(self):
        assert split_payment(21050, FACE) == (21050, 0)

    def test_exact_face_value(self):
        assert split_payment(FACE, FACE) == (FACE, 0)

    def test_above_face_value(self):
        assert split_payment(35000, FACE) == (FACE, 5000)

    def test_one_fen_above(self):
        assert split_payment(30001, FACE) == (FACE, 1)

    @pytest.mark.parametrize(
        ("total", "face"),
        [(0, FACE), (-1, FACE), (100, 0), (100.0, FACE), (True, FACE)],
    )
    def test_invalid(self, total, face):
        with pytest.raises(ValueError):
            split_payment(total, face)
