"""Code that every Aixin service needs: contracts, money, clock, storage, outbox."""
