"""number_setting: gateway settings from the config, the environment or the default."""

import pytest

from gateway.settings import number_setting


@pytest.mark.parametrize("configured, message", [
    ("0", "must be at least 1"),
    ("many", "is not a whole number"),
    ("2.5", "is not a whole number"),
])
def test_invalid_setting_names_the_value(configured, message):
    with pytest.raises(ValueError, match=message) as error:
        number_setting({"GATEWAY_REDEMPTION_BATCH": configured},
                       "GATEWAY_REDEMPTION_BATCH", 32, int, minimum=1)
    assert repr(configured) in str(error.value)


def test_unset_setting_takes_the_environment_or_default(monkeypatch):
    monkeypatch.delenv("GATEWAY_REDEMPTION_BATCH", raising=False)
    assert number_setting({}, "GATEWAY_REDEMPTION_BATCH", 32, int) == 32
    monkeypatch.setenv("GATEWAY_REDEMPTION_BATCH", "5")
    assert number_setting({"GATEWAY_REDEMPTION_BATCH": ""},
                          "GATEWAY_REDEMPTION_BATCH", 32, int) == 5
    assert number_setting({"GATEWAY_TOKEN_CACHE_S": "0.5"},
                          "GATEWAY_TOKEN_CACHE_S", 5.0) == 0.5
