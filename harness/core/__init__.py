"""The ground: settings, the checklist, IBKR facts, the clock, HTTP, redaction, JSON files, the default log texts and
the names of evidence records. It imports nothing else of the harness; every other layer stands on it."""
