"""Root conftest of the clone: every pytest run here (the features, and the tests that run them) uses the
harness's plugin, which loads the step definitions. Elsewhere the plugin waits to be named (harness.pytest.entry)."""

pytest_plugins = ["harness.pytest.plugin"]
