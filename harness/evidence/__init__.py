"""Evidence: records facts and outcomes, always redacted (Allure, evidence.jsonl). It never decides."""
