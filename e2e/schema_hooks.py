"""schemathesis checks of e2e/schema.py (loaded through SCHEMATHESIS_HOOKS=schema_hooks).

- `problem_json_on_4xx`: every 4xx answer is `application/problem+json` (RFC 9457).
- `no_provider_request`: after each answer, the provider fakes' `provider_requests` counters
  (GET /__fake/state, hooks excluded) are unchanged: an unpaid request never reaches a
  provider. A change fails the case that caused it, with the provider requests it made.

Env: FLY_FAKE_URL, FLY_TOKEN, DO_FAKE_URL, DO_TOKEN."""

import json
import os
import urllib.request

import schemathesis

PROBLEM_JSON = "application/problem+json"
FAKES = {
    "fly": (os.environ["FLY_FAKE_URL"], os.environ["FLY_TOKEN"]),
    "digitalocean": (os.environ["DO_FAKE_URL"], os.environ["DO_TOKEN"]),
}


def fake_state(name):
    """`GET /__fake/state` of the fake `name`."""
    url, token = FAKES[name]
    req = urllib.request.Request(f"{url}/__fake/state", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def provider_counts():
    """The `provider_requests` counter of each fake."""
    return {name: int(fake_state(name)["provider_requests"]) for name in FAKES}


def media_type(response):
    value = response.headers.get("content-type") or [""]
    value = value[0] if isinstance(value, list) else value
    return value.split(";", 1)[0].strip().lower()


@schemathesis.check
def problem_json_on_4xx(ctx, response, case):
    """A 4xx answer carries problem details."""
    if 400 <= response.status_code < 500 and media_type(response) != PROBLEM_JSON:
        raise AssertionError(f"{response.status_code} answered with Content-Type {media_type(response)!r}, not {PROBLEM_JSON}")


# The counters when schemathesis loads this module, before its first request.
_seen = provider_counts()


@schemathesis.check
def no_provider_request(ctx, response, case):
    """No provider fake saw a request since the previous answer."""
    global _seen
    now = provider_counts()
    before, _seen = _seen, now
    moved = {name: now[name] - before[name] for name in now if now[name] != before[name]}
    if moved:
        detail = []
        for name, n in moved.items():
            requests = [r for r in fake_state(name)["requests"] if "/__fake/" not in r]
            detail.append(f"{name}: {n} request(s), the last: {requests[-n:]}")
        raise AssertionError("an unpaid request reached a provider fake — " + "; ".join(detail))
