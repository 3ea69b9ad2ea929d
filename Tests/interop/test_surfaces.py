"""What every process shows the outside, checked the same way for each: its /metrics passes
`promtool check metrics` (HELP and TYPE for every family, Prometheus names), and every worker's
HTTP API is described by the OpenAPI document it serves, which schemathesis fuzzes against the
running server (answers as documented, no 5xx)."""
import shutil
import subprocess
import sys

import pytest
import requests

from conftest import sha256
from test_dispatcher import HANDLER, OPERATOR, start_dispatcher
from test_intake import REPORT, post
from test_notifier import KEY as NOTIFIER_KEY
from test_notifier import start_notifier, stop
from test_security import eventually
from test_stats import AUTH as STATS_AUTH
from test_stats import start_stats


@pytest.fixture()
def district(intake):
    """gridbusd with all four workers on it, and a report taken through its first actions, so that
    every metric family has samples."""
    bus = intake.bus
    dispatcher, dispatcher_url = start_dispatcher(intake.tmp_path, intake.bus_ready)
    notifier, notifier_url = start_notifier(intake.tmp_path, bus, "routes: []\n")
    stats, stats_url = start_stats(intake.tmp_path, bus)
    filed = post(intake, REPORT)
    assert filed.status_code == 201, filed.text
    incident = filed.json()["id"]
    eventually(lambda: requests.get(f"{dispatcher_url}/v1/cases/{incident}", headers=HANDLER, timeout=5).status_code == 200)
    assignee = requests.get(f"{dispatcher_url}/v1/cases/{incident}", headers=HANDLER, timeout=5).json()["assignees"][0]
    acted = requests.post(f"{dispatcher_url}/v1/cases/{incident}/acknowledge", headers=HANDLER, json={"by": assignee}, timeout=5)
    assert acted.status_code == 200, acted.text
    assert requests.get(f"{notifier_url}/v1/silences", headers={"Authorization": f"Bearer {NOTIFIER_KEY}"}, timeout=5).status_code == 200
    assert requests.get(f"{stats_url}/api/v1/indicators", headers=STATS_AUTH, timeout=5).status_code == 200
    yield {"gridbusd": bus.http, "grid-intake": intake.url, "grid-dispatcher": dispatcher_url, "grid-notifier": notifier_url,
           "grid-stats": stats_url}
    for process in (stats, notifier, dispatcher):
        stop(process)


def promtool_check(text):
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: make test installs Debian's prometheus package"
    return subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)


def test_every_process_serves_metrics_that_pass_promtool(district):
    for program, url in district.items():
        text = requests.get(url + "/metrics", timeout=10).text
        checked = promtool_check(text)
        assert checked.returncode == 0 and checked.stdout == "" and checked.stderr == "", f"{program}: {checked.stdout}{checked.stderr}"
        families = {line.split()[2] for line in text.splitlines() if line.startswith("# HELP ")}
        assert families == {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}, program
        if program != "gridbusd":
            # The runtime's and the HTTP server's own, in every worker.
            assert {"gridbus_worker_outbox_events", "gridbus_http_requests_total", "gridbus_http_request_duration_seconds"} <= families, program
    intake = requests.get(district["grid-intake"] + "/metrics", timeout=10).text
    assert 'gridbus_intake_reports_total{outcome="created"} 1' in intake
    dispatcher = requests.get(district["grid-dispatcher"] + "/metrics", timeout=10).text
    assert 'gridbus_dispatcher_actions_total{action="acknowledge",outcome="done"} 1' in dispatcher
    assert 'gridbus_worker_events_handled_total{subscription="grid-dispatcher"} 1' in dispatcher


def test_promtool_tells_a_family_without_help():
    """The check above can fail: promtool names a family that lacks its HELP."""
    checked = promtool_check("# TYPE gridbus_example_total counter\ngridbus_example_total 1\n")
    assert checked.returncode != 0 and "no help text" in checked.stdout + checked.stderr


@pytest.mark.parametrize("program,headers", [
    ("grid-dispatcher", OPERATOR),
    ("grid-notifier", {"Authorization": f"Bearer {NOTIFIER_KEY}"}),
    ("grid-stats", STATS_AUTH),
])
def test_each_workers_openapi_document_describes_what_it_does(district, program, headers):
    url = district[program]
    document = requests.get(url + "/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.") and document["info"]["title"] == program
    unauthorized = [path for path, item in document["paths"].items() for operation in item.values()
                    if operation.get("security") != [] and "401" in operation["responses"]]
    assert unauthorized, "every guarded operation documents its 401"
    header = next(iter(headers.items()))
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", url + "/openapi.json",
         "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
         "--max-examples", "25", "--header", f"{header[0]}: {header[1]}", "--seed", "1",
         "--suppress-health-check", "all", "--generation-deterministic", "--request-timeout", "10"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
