"""Probes: read the world (the bot's .env, logs, git, processes; the IB Gateway; Discord; the NYSE
calendar) and return plain, frozen facts. They never assert and never raise for a fault of the world."""
