"""A bad setting is one clear usage error before any test runs: no traceback, no world started."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.acceptance.runner import REPO


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--gateway", "localhost:99999"], {}, "--gateway='localhost:99999' is not a port number"),
        (["--phase", "launch"], {}, "--phase='launch' is not a phase"),
        (["--bot-dir", "/no/such/bot"], {}, "--bot-dir='/no/such/bot' is not an existing directory"),
        ([], {"HARNESS_CLIENT_ID": "abc"}, "HARNESS_CLIENT_ID='abc' is not an integer client id"),
        (["--live-gateway"], {}, "give --bot-dir"),
        (["--phase", "first-day"], {}, "the first-day phase has no checks in this version"),
    ],
)
def test_bad_setting_is_one_usage_error(args, env, says):
    import os

    environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")} | env
    result = subprocess.run([sys.executable, "-m", "pytest", "features/", "-p", "no:cacheprovider", *args],
                            cwd=REPO, env=environ, capture_output=True, text=True, timeout=120)
    assert result.returncode == 4  # pytest's usage error
    assert says in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
