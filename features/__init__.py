"""The Gherkin features of Task 4.3 (one per seed step). A package only so that they ship inside the harness
(`harness.features`): `harness check` runs them from any folder, `pytest features/` from a clone."""
