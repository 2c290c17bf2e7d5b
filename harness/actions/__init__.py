"""Actions: the only code that changes something: the switch of the .env, the baseline, attestations,
the paper test order. Each proves what it must before it writes."""
