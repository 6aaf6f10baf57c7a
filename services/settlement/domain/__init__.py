"""Settlement rules in plain Python: ledger, allocation, reimbursement, clearing."""
