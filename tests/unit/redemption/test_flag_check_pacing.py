"""When the redemption service runs the cash-out rules for its open-flag check."""

from services.redemption.flag_checks import Pacing


class FakeTime:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def pacing() -> tuple[Pacing, FakeTime]:
    clock = FakeTime()
    return Pacing(max_wait_s=60, clock=clock), clock


class TestPacing:
    def test_change_waits_one_tick(self):
        pace, _ = pacing()
        assert not pace.ready("c1", "m1")
        assert pace.ready("c1", "m1")

    def test_continuing_changes_wait(self):
        pace, clock = pacing()
        for step, marker in enumerate(("m1", "m2", "m3")):
            clock.now = step * 5.0
            assert not pace.ready("c1", marker)

    def test_continuing_changes_wait_no_longer_than_the_limit(self):
        pace, clock = pacing()
        assert not pace.ready("c1", "m1")
        clock.now = 60.0
        assert pace.ready("c1", "m2")

    def test_check_starts_a_new_wait(self):
        pace, clock = pacing()
        pace.ready("c1", "m1")
        clock.now = 60.0
        pace.checked("c1")
        assert not pace.ready("c1", "m2")

    def test_campaigns_wait_apart(self):
        pace, _ = pacing()
        assert not pace.ready("c1", "m1")
        assert not pace.ready("c2", "m1")
        assert pace.ready("c1", "m1")
