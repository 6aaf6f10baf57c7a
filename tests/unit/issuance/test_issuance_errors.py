import pytest

from aixin.errors import DomainError
from services.issuance.domain.errors import (
    ISSUANCE_ERRORS,
    BeneficiaryAlreadyHasVoucher,
)

DETAILS = {
    "serial": "014111020010000015",
    "state": "已发放",
    "reason": "lost",
    "deadline": "2023-02-28",
    "count": 10,
    "maximum": 999_999,
    "last_sequence": 999_990,
}


class TestIssuanceErrors:
    @pytest.mark.parametrize("error_class", ISSUANCE_ERRORS)
    def test_is_domain_error(self, error_class):
        assert isinstance(error_class(**DETAILS), DomainError)

    @pytest.mark.parametrize("error_class", ISSUANCE_ERRORS)
    def test_message_filled(self, error_class):
        assert "{" not in error_class(**DETAILS).message

    def test_codes_unique(self):
        codes = [error_class.code for error_class in ISSUANCE_ERRORS]
        assert len(codes) == len(set(codes))

    def test_details_kept(self):
        error = BeneficiaryAlreadyHasVoucher(serial="X")
        assert error.to_dict()["details"] == {"serial": "X"}
