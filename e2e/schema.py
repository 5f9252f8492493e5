"""Schema-driven API tests: schemathesis (`st run`, settings in e2e/schemathesis.toml, checks
of e2e/schema_hooks.py) against the gateway's own /openapi.json, with no payment ever sent:
no 5xx (beyond the documented 503 of an operation marked `x-unavailable`), every status code,
content type and body as the document says, every 4xx `application/problem+json`, and no
request reaching the Fly or DigitalOcean fake (their `provider_requests` counters, checked
after every answer and over the whole run). Each tested operation is one case; prints
`N passed, N failed`.

Run it on a quiet stack (the e2e runner starts it first): the fakes count every provider
request, so a worker acting on another suite's resources would show up here.

Env: GATEWAY_URL, FLY_FAKE_URL, FLY_TOKEN, DO_FAKE_URL, DO_TOKEN."""

import json
import os
import subprocess
import sys
import tempfile
import urllib.request

sys.dont_write_bytecode = True  # no e2e/__pycache__ (PYTHONDONTWRITEBYTECODE below does it for `st`)
from schema_hooks import FAKES, provider_counts  # noqa: E402

GATEWAY = os.environ["GATEWAY_URL"]
HERE = os.path.dirname(os.path.abspath(__file__))
ST = os.path.join(os.path.dirname(sys.executable), "st")
# One direct request per fake that its counter must see (a route each fake serves).
PROBES = {"fly": "/v1/apps?org_slug=e2e", "digitalocean": "/v2/account/keys"}

passed = failed = 0


def check(label, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   schema: {label}")
    else:
        failed += 1
        print(f"FAIL schema: {label} — {detail}")


def probe(name):
    url, token = FAKES[name]
    req = urllib.request.Request(f"{url}{PROBES[name]}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()


def run_schemathesis(tmp):
    """Runs `st run`; its exit code and its JSON report. Hypothesis keeps its files in `tmp`."""
    report = os.path.join(tmp, "report.json")
    env = dict(os.environ, SCHEMATHESIS_HOOKS="schema_hooks", PYTHONPATH=HERE, HYPOTHESIS_STORAGE_DIRECTORY=tmp,
               PYTHONDONTWRITEBYTECODE="1")
    cmd = [ST, "--config-file", os.path.join(HERE, "schemathesis.toml"), "--no-color", "run",
           f"{GATEWAY}/openapi.json", "--url", GATEWAY, "--report", "json", "--report-json-path", report]
    code = subprocess.run(cmd, cwd=HERE, env=env).returncode
    with open(report) as f:
        return code, json.load(f)


def main():
    # The counters move: one direct request to each fake is counted exactly once.
    for name in FAKES:
        before = provider_counts()[name]
        probe(name)
        after = provider_counts()[name]
        check(f"the {name} fake counts provider requests", after - before == 1, f"{before} -> {after}")

    before = provider_counts()
    with tempfile.TemporaryDirectory() as tmp:
        code, report = run_schemathesis(tmp)
    after = provider_counts()
    check("no provider request during the run", after == before, f"{before} -> {after}")

    ops, cases = report["operations"], report["test_cases"]
    print(f"schemathesis {report['schemathesis_version']}: {ops['tested']} of {ops['total']} operations, "
          f"{cases['generated']} test cases, {report['running_time']:.0f} s")
    check("every selected operation was tested, none errored",
          ops["tested"] == ops["selected"] > 80 and ops["errored"] == 0 and not report["errors"],
          json.dumps({"operations": ops, "errors": report["errors"]}))
    failing = {}
    for f in report["failures"]:
        for op in f["operations"]:
            failing.setdefault(op, []).append(f"{f['code']} {f['title']}")
    check("schemathesis exited 0", code == 0 and report["complete"], f"exit code {code}")
    # One case per operation: the failing ones by name, the others counted.
    global passed
    clean = ops["tested"] - len(failing)
    passed += clean
    print(f"ok   schema: {clean} operations without a failure")
    for op, titles in sorted(failing.items()):
        check(op, False, "; ".join(titles))


try:
    main()
except Exception as e:  # noqa: BLE001 — a crash is one failure, and the tally still prints.
    check("the suite ran to the end", False, repr(e))
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
