"""pytest plugin entry point (stub; filled in by the foundation work)."""
