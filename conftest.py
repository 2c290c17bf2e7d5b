"""Root conftest: only loads the step definitions (pytest-bdd registers steps as fixtures of the module
that defines them, so step modules are plugins)."""

pytest_plugins = ["steps.common", "steps.configuration", "steps.preflight", "steps.startup", "steps.orders",
                  "steps.rollback", "steps.first_day"]
