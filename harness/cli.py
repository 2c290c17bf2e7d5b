"""Console script `harness` (stub)."""


def main() -> int:
    return 0
