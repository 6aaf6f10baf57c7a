"""Settlement service: the Finance Bureau's ledger, allocation and clearing."""
