"""The verdict: one status per checklist item and one for the run, decided from the scenarios' outcomes
and the attestations (`decide`), fed by pytest's hooks (`hooks`) and recorded per phase (`record`)."""
