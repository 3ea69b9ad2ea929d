"""grid-dispatcher over the real binaries: a report posted to the intake is registered and dispatched,
then acknowledged, started, handled, verified and closed through the dispatcher's HTTP API, with every
step on the bus in order and visible in the intake's GET answer."""
import json
import signal
import subprocess
import time

import requests

from conftest import BIN, REPO
from test_intake import REPORT, bus_events, post
from test_security import eventually


def start_dispatcher(tmp_path, bus_ready, *extra):
    data = tmp_path / "dispatcher"
    ready_file = data / "grid-dispatcher.ready"
    process = subprocess.Popen(
        [str(BIN / "grid-dispatcher"), "--data-dir", str(data), "--http-port", "0", "--log-level", "warning",
         "--district-dir", str(REPO / "deploy" / "sample"), "--timers-interval", "100ms",
         "--bus-ingress", bus_ready["ingress"], "--bus-egress", bus_ready["egress"], "--bus-replay", bus_ready["replay"], *extra],
        stderr=open(tmp_path / "grid-dispatcher.err", "ab"))
    deadline = time.monotonic() + 30
    while not ready_file.exists():
        assert process.poll() is None, (tmp_path / "grid-dispatcher.err").read_text()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return process, json.loads(ready_file.read_text())["http"]


def test_a_report_goes_through_the_whole_lifecycle(intake):
    process, url = start_dispatcher(intake.tmp_path, intake.bus_ready)
    try:
        incident = post(intake, REPORT).json()
        iid = incident["id"]
        case = eventually(lambda: (r := requests.get(f"{url}/v1/cases/{iid}", timeout=5)).status_code == 200
                          and r.json()["state"] == "dispatched" and r.json())
        assert case["grid"] == "G-04-03-05" and case["role"] == "grid-worker" and len(case["assignees"]) == 1
        worker = case["assignees"][0]

        # An action the state does not allow: 409 with what is allowed.
        early = requests.post(f"{url}/v1/cases/{iid}/close", json={"by": worker}, timeout=5)
        assert early.status_code == 409 and set(early.json()["allowed"]) == {"acknowledge", "return", "dispatch"}

        for action, body in [("acknowledge", {}), ("start", {}), ("handle", {"note": "cleared", "photoUrls": ["https://example.org/after.jpg"]}),
                             ("verify-pass", {}), ("close", {})]:
            answer = requests.post(f"{url}/v1/cases/{iid}/{action}", json={"by": worker, **body}, timeout=5)
            assert answer.status_code == 200, (action, answer.text)
        assert answer.json()["state"] == "closed"

        types = lambda: [e["type"] for e in bus_events(intake.bus, b"incident.") if e.get("subject") == iid or e["data"].get("incidentId") == iid]
        expected = ["incident.reported", "incident.registered", "incident.dispatched", "incident.acknowledged", "incident.started",
                    "incident.handled", "incident.verified", "incident.closed"]
        assert eventually(lambda: types() == expected and True, timeout=15)
        view = eventually(lambda: (r := requests.get(f"{intake.url}/v1/incidents/{iid}", headers=intake.headers(), timeout=5).json())
                          ["status"] == "closed" and r, timeout=15)
        assert [step["type"] for step in view["timeline"]] == expected
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


def test_bad_actions_are_clear_errors(intake):
    process, url = start_dispatcher(intake.tmp_path, intake.bus_ready)
    try:
        iid = post(intake, REPORT).json()["id"]
        eventually(lambda: requests.get(f"{url}/v1/cases/{iid}", timeout=5).status_code == 200)
        cases = [
            ("fly", {"by": "m"}, 404, "action"),
            ("acknowledge", {}, 400, "by"),
            ("acknowledge", {"by": "m", "mood": "happy"}, 400, "mood"),
            ("handle", {"by": "m", "photoUrls": ["ftp://x"]}, 400, "photoUrls[0]"),
        ]
        for action, body, status, field in cases:
            answer = requests.post(f"{url}/v1/cases/{iid}/{action}", json=body, timeout=5)
            assert answer.status_code == status and answer.json()["errors"][0]["field"] == field, (action, answer.text)
        assert requests.post(f"{url}/v1/cases/inc-NOPE/acknowledge", json={"by": "m"}, timeout=5).status_code == 404
        # handle needs a note, return needs a reason: the lifecycle allows them, the request does not say enough.
        requests.post(f"{url}/v1/cases/{iid}/acknowledge", json={"by": "m"}, timeout=5)
        requests.post(f"{url}/v1/cases/{iid}/start", json={"by": "m"}, timeout=5)
        missing = requests.post(f"{url}/v1/cases/{iid}/handle", json={"by": "m"}, timeout=5)
        assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "note"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


def test_a_wrong_dispatch_goes_to_someone_else_and_is_counted(intake):
    process, url = start_dispatcher(intake.tmp_path, intake.bus_ready)
    try:
        iid = post(intake, REPORT).json()["id"]
        first = eventually(lambda: (r := requests.get(f"{url}/v1/cases/{iid}", timeout=5)).status_code == 200
                           and r.json()["state"] == "dispatched" and r.json())
        back = requests.post(f"{url}/v1/cases/{iid}/return", json={"by": first["assignees"][0], "reason": "not my grid"}, timeout=5).json()
        assert back["state"] == "dispatched" and back["returns"] == 1 and back["assignees"] != first["assignees"]
        def mine():
            return [e for e in bus_events(intake.bus, b"incident.") if e["data"].get("incidentId") == iid]
        events = eventually(lambda: len(found := mine()) >= 5 and found)
        types = [e["type"] for e in events]
        assert types[-2:] == ["incident.returned", "incident.dispatched"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


def test_emergency_mode_over_http(intake):
    process, url = start_dispatcher(intake.tmp_path, intake.bus_ready)
    try:
        bad = requests.post(f"{url}/v1/modes", json={"scope": "galaxy", "target": "x", "mode": "panic"}, timeout=5)
        assert bad.status_code == 400 and {e["field"] for e in bad.json()["errors"]} == {"scope", "mode", "by"}
        unknown = requests.post(f"{url}/v1/modes", json={"scope": "town", "target": "T-99", "mode": "emergency", "by": "ops"}, timeout=5)
        assert unknown.status_code == 404
        switched = requests.post(f"{url}/v1/modes", json={"scope": "community", "target": "C-04-03", "mode": "emergency", "by": "ops",
                                                          "reason": "typhoon"}, timeout=5)
        assert switched.status_code == 200 and "open cases keep" in switched.json()["note"]
        iid = post(intake, REPORT).json()["id"]  # in G-04-03-05, community C-04-03
        case = eventually(lambda: (r := requests.get(f"{url}/v1/cases/{iid}", timeout=5)).status_code == 200 and r.json())
        assert case["emergency"] is True and len(case["assignees"]) >= 3  # the whole roster of the grid
        changes = eventually(lambda: bus_events(intake.bus, b"grid.mode.changed"))
        assert changes[0]["data"]["mode"] == "emergency" and changes[0]["data"]["target"] == "C-04-03"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


def test_operators_act_with_gridctl(intake):
    process, url = start_dispatcher(intake.tmp_path, intake.bus_ready)
    gridctl = lambda *args: subprocess.run([str(BIN / "gridctl"), *args, "--dispatcher", url], capture_output=True, text=True, timeout=30)
    try:
        iid = post(intake, REPORT).json()["id"]
        eventually(lambda: requests.get(f"{url}/v1/cases/{iid}", timeout=5).status_code == 200)
        shown = gridctl("case", "show", iid)
        assert shown.returncode == 0 and json.loads(shown.stdout)["state"] == "dispatched"
        refused = gridctl("case", "close", iid, "--by", "ops")
        assert refused.returncode == 1 and "allowed: acknowledge, return, dispatch" in refused.stderr
        done = gridctl("case", "acknowledge", iid, "--by", "ops", "--note", "on my way", "--idempotency-key", "k1")
        assert done.returncode == 0 and json.loads(done.stdout)["state"] == "acknowledged"
        again = gridctl("case", "acknowledge", iid, "--by", "ops", "--idempotency-key", "k1")
        assert again.returncode == 0  # a retried command is harmless
        assert gridctl("case", "fly", iid, "--by", "ops").returncode == 2
        assert gridctl("case", "start", iid).returncode == 2  # --by is required
        switched = gridctl("mode", "grid", "G-04-03-05", "emergency", "--by", "ops", "--reason", "drill")
        assert switched.returncode == 0 and json.loads(switched.stdout)["mode"] == "emergency"
        assert gridctl("mode", "grid", "G-404", "emergency", "--by", "ops").returncode == 1
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
