"""The gateway's cache of valid API tokens: bounded in time, emptied by a revocation."""

from gateway.tokens import Principal, TokenCache, hash_token

TOKEN = "axn_" + "t" * 43
OTHER = "axn_" + "u" * 43
PRINCIPAL = Principal(role="merchant", scope="91411103MA00000001", name="till",
                      token_id="abc")


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Reads:
    """A fake database: counts look-ups and returns the stored principal."""

    def __init__(self, answer=PRINCIPAL):
        self.answer = answer
        self.count = 0

    def __call__(self):
        self.count += 1
        return self.answer


def test_valid_token_is_read_once_within_its_time():
    clock, reads = Clock(), Reads()
    cache = TokenCache(seconds=5, clock=clock)
    assert cache.authenticate(TOKEN, reads) == PRINCIPAL
    clock.now += 4.9
    assert cache.authenticate(TOKEN, reads) == PRINCIPAL
    assert reads.count == 1


def test_token_is_read_again_when_its_time_is_up():
    clock, reads = Clock(), Reads()
    cache = TokenCache(seconds=5, clock=clock)
    cache.authenticate(TOKEN, reads)
    clock.now += 5.0
    reads.answer = None  # revoked in the database meanwhile, e.g. by another gateway
    assert cache.authenticate(TOKEN, reads) is None
    assert cache.authenticate(TOKEN, reads) is None
    assert reads.count == 3


def test_revocation_empties_the_cache():
    clock, reads = Clock(), Reads()
    cache = TokenCache(seconds=5, clock=clock)
    cache.authenticate(TOKEN, reads)
    cache.revoked()
    reads.answer = None
    assert cache.authenticate(TOKEN, reads) is None
    assert reads.count == 2


def test_lookup_that_began_before_a_revocation_is_not_kept():
    """A request read the token just before the revocation committed: its answer
    serves that request only, and the next request reads the database again."""
    cache = TokenCache(seconds=5, clock=Clock())

    def read_during_revocation():
        cache.revoked()  # the revocation commits while this read waits
        return PRINCIPAL

    assert cache.authenticate(TOKEN, read_during_revocation) == PRINCIPAL
    reads = Reads(answer=None)
    assert cache.authenticate(TOKEN, reads) is None
    assert reads.count == 1


def test_unknown_tokens_are_not_kept():
    reads = Reads(answer=None)
    cache = TokenCache(seconds=5, clock=Clock())
    for _ in range(3):
        assert cache.authenticate(OTHER, reads) is None
    assert reads.count == 3
    assert cache._entries == {}


def test_entries_are_keyed_by_hash_not_by_token():
    cache = TokenCache(seconds=5, clock=Clock())
    cache.authenticate(TOKEN, Reads())
    assert list(cache._entries) == [hash_token(TOKEN)]


def test_zero_seconds_reads_every_time():
    reads = Reads()
    cache = TokenCache(seconds=0, clock=Clock())
    cache.authenticate(TOKEN, reads)
    cache.authenticate(TOKEN, reads)
    assert reads.count == 2


def test_full_cache_starts_again():
    cache = TokenCache(seconds=5, max_tokens=2, clock=Clock())
    for number in range(5):
        cache.authenticate(f"axn_{number:043d}", Reads())
    assert len(cache._entries) <= 2
