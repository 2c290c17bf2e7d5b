"""One way to make bounded HTTP calls (Discord reads, the watch's webhook alert, GitHub comments).

`requests` reads `.netrc` and proxy variables when `trust_env` is on, and a `.netrc` entry replaces the
Authorization header we set. So `trust_env` is off, and what the operator's environment should still decide is
passed explicitly: the CA bundle (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) and proxies, never for loopback.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from harness.core.settings import is_loopback_host


def bounded_session(retry: Retry) -> requests.Session:
    """A session that retries as `retry` says, with the operator's CA bundle and no `.netrc`. Close it after use
    (`with bounded_session(...) as session:`); every call on it must still pass a timeout."""
    session = requests.Session()
    session.trust_env = False
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def proxies_for(url: str) -> dict[str, str]:
    """The operator's proxies for `url` (HTTPS_PROXY, NO_PROXY, ...), none for a loopback address."""
    return {} if is_loopback_host(urlsplit(url).hostname or "") else requests.utils.get_environ_proxies(url)
