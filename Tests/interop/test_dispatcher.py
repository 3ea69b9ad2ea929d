"""grid-dispatcher over the real binaries: a report posted to the intake is registered and dispatched,
then acknowledged, started, handled, verified and closed through the dispatcher's HTTP API, with every
step on the bus in order and visible in the intake's GET answer."""
import json
import os
import signal
import sqlite3
import subprocess
import time

import requests

from conftest import BIN, REPO
from test_intake import REPORT, bus_events, post
from test_security import eventually


# The development keys of plugins/grid-dispatcher/clients.yaml.
HANDLER = {"Authorization": "Bearer dev-handler-key"}
OPERATOR = {"Authorization": "Bearer dev-operator-key"}
KEYS_FILE = REPO / "plugins" / "grid-dispatcher" / "clients.yaml"


def dispatcher_command(tmp_path, bus_ready, *extra, command=()):
    return [str(BIN / "grid-dispatcher"), *command, "--data-dir", str(tmp_path / "dispatcher"), "--log-level", "warning",
            "--district-dir", str(REPO / "deploy" / "sample"), "--auth-keys-file", str(KEYS_FILE),
            "--bus-ingress", bus_ready["ingress"], "--bus-egress", bus_ready["egress"], "--bus-replay", bus_ready["replay"], *extra]


def start_dispatcher(tmp_path, bus_ready, *extra):
    data = tmp_path / "dispatcher"
    ready_file = data / "grid-dispatcher.ready"
    process = subprocess.Popen(
        dispatcher_command(tmp_path, bus_ready, "--http-port", "0", "--timers-interval", "100ms", *extra),
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
        case = eventually(lambda: (r := requests.get(f"{url}/v1/cases/{iid}", headers=HANDLER, timeout=5)).status_code == 200
                          and r.json()["state"] == "dispatched" and r.json())
        assert case["grid"] == "G-04-03-05" and case["role"] == "grid-worker" and len(case["assignees"]) == 1
        worker = case["assignees"][0]

        # An action the state does not allow: 409 with what is allowed.
        early = requests.post(f"{url}/v1/cases/{iid}/close", json={"by": worker}, headers=HANDLER, timeout=5)
        assert early.status_code == 409 and set(early.json()["allowed"]) == {"acknowledge", "return", "dispatch"}

        for action, body in [("acknowledge", {}), ("start", {}), ("handle", {"note": "cleared", "photoUrls": ["https://example.org/after.jpg"]}),
                             ("verify-pass", {}), ("close", {})]:
            answer = requests.post(f"{url}/v1/cases/{iid}/{action}", json={"by": worker, **body}, headers=HANDLER, timeout=5)
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
        eventually(lambda: requests.get(f"{url}/v1/cases/{iid}", headers=HANDLER, timeout=5).status_code == 200)
        cases = [
            ("fly", {"by": "m"}, 404, "action"),
            ("acknowledge", {}, 400, "by"),
            ("acknowledge", {"by": "m", "mood": "happy"}, 400, "mood"),
            ("handle", {"by": "m", "photoUrls": ["ftp://x"]}, 400, "photoUrls[0]"),
        ]
        for action, body, status, field in cases:
            answer = requests.post(f"{url}/v1/cases/{iid}/{action}", json=body, headers=HANDLER, timeout=5)
            assert answer.status_code == status and answer.json()["errors"][0]["field"] == field, (action, answer.text)
        assert requests.post(f"{url}/v1/cases/inc-NOPE/acknowledge", json={"by": "m"}, headers=HANDLER, timeout=5).status_code == 404
        # handle needs a note, return needs a reason: the lifecycle allows them, the request does not say enough.
        requests.post(f"{url}/v1/cases/{iid}/acknowledge", json={"by": "m"}, headers=HANDLER, timeout=5)
        requests.post(f"{url}/v1/cases/{iid}/start", json={"by": "m"}, headers=HANDLER, timeout=5)
        missing = requests.post(f"{url}/v1/cases/{iid}/handle", json={"by": "m"}, headers=HANDLER, timeout=5)
        assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "note"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


def test_a_wrong_dispatch_goes_to_someone_else_and_is_counted(intake):
    process, url = start_dispatcher(intake.tmp_path, intake.bus_ready)
    try:
        iid = post(intake, REPORT).json()["id"]
        first = eventually(lambda: (r := requests.get(f"{url}/v1/cases/{iid}", headers=HANDLER, timeout=5)).status_code == 200
                           and r.json()["state"] == "dispatched" and r.json())
        back = requests.post(f"{url}/v1/cases/{iid}/return", json={"by": first["assignees"][0], "reason": "not my grid"}, headers=HANDLER, timeout=5).json()
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
        bad = requests.post(f"{url}/v1/modes", json={"scope": "galaxy", "target": "x", "mode": "panic"}, headers=OPERATOR, timeout=5)
        assert bad.status_code == 400 and {e["field"] for e in bad.json()["errors"]} == {"scope", "mode", "by"}
        unknown = requests.post(f"{url}/v1/modes", json={"scope": "town", "target": "T-99", "mode": "emergency", "by": "ops"}, headers=OPERATOR, timeout=5)
        assert unknown.status_code == 404
        switched = requests.post(f"{url}/v1/modes", json={"scope": "community", "target": "C-04-03", "mode": "emergency", "by": "ops",
                                                          "reason": "typhoon"}, headers=OPERATOR, timeout=5)
        assert switched.status_code == 200 and "open cases keep" in switched.json()["note"]
        iid = post(intake, REPORT).json()["id"]  # in G-04-03-05, community C-04-03
        case = eventually(lambda: (r := requests.get(f"{url}/v1/cases/{iid}", headers=HANDLER, timeout=5)).status_code == 200 and r.json())
        assert case["emergency"] is True and len(case["assignees"]) >= 3  # the whole roster of the grid
        changes = eventually(lambda: bus_events(intake.bus, b"grid.mode.changed"))
        assert changes[0]["data"]["mode"] == "emergency" and changes[0]["data"]["target"] == "C-04-03"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


def test_operators_act_with_gridctl(intake):
    process, url = start_dispatcher(intake.tmp_path, intake.bus_ready)
    environment = {**os.environ, "GRIDBUS_DISPATCHER_KEY": "dev-operator-key"}
    gridctl = lambda *args: subprocess.run([str(BIN / "gridctl"), *args, "--dispatcher", url], capture_output=True, text=True, timeout=30,
                                           env=environment)
    try:
        iid = post(intake, REPORT).json()["id"]
        eventually(lambda: requests.get(f"{url}/v1/cases/{iid}", headers=HANDLER, timeout=5).status_code == 200)
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


def test_api_keys_and_scopes(intake):
    """No key or an unknown one: 401. A handler may act on cases but not place reports or switch modes: 403."""
    process, url = start_dispatcher(intake.tmp_path, intake.bus_ready)
    try:
        iid = post(intake, REPORT).json()["id"]
        eventually(lambda: requests.get(f"{url}/v1/cases/{iid}", headers=HANDLER, timeout=5).status_code == 200)
        anonymous = requests.get(f"{url}/v1/cases/{iid}", timeout=5)
        assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == "Bearer"
        assert anonymous.json()["errors"][0]["field"] == "Authorization"
        assert requests.get(f"{url}/v1/cases/{iid}", headers={"Authorization": "Bearer nope"}, timeout=5).status_code == 401
        assert requests.get(f"{url}/v1/cases/{iid}", headers={"X-API-Key": "dev-handler-key"}, timeout=5).status_code == 200
        mode = {"scope": "grid", "target": "G-04-03-05", "mode": "emergency", "by": "m"}
        forbidden = requests.post(f"{url}/v1/modes", json=mode, headers=HANDLER, timeout=5)
        assert forbidden.status_code == 403 and "operator" in forbidden.json()["errors"][0]["reason"]
        assert requests.post(f"{url}/v1/cases/{iid}/place", json={"by": "m", "grid": "G-04-03-05"}, headers=HANDLER, timeout=5).status_code == 403
        assert requests.post(f"{url}/v1/modes", json=mode, headers=OPERATOR, timeout=5).status_code == 200
        assert requests.get(f"{url}/healthz", timeout=5).status_code == 200  # for probes, no key
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


def cases_of(path):
    with sqlite3.connect(path) as connection:
        return {row[0]: json.loads(row[1]) for row in connection.execute("SELECT id, body FROM cases")}


def test_a_store_rebuilt_from_the_journal_equals_the_live_one(intake):
    """Cases driven through several steps over the real bus; the dispatcher stopped; `grid-dispatcher
    rebuild` replays the journal into a new store, which holds the same cases (compared here row by
    row, not only by the command's own verdict)."""
    process, url = start_dispatcher(intake.tmp_path, intake.bus_ready)
    try:
        # Four categories, so that none merges into another.
        ids = [post(intake, {**REPORT, "category": category}).json()["id"] for category in ["E-01-02", "E-01-03", "E-01-04", "E-01-05"]]
        cases = [eventually(lambda: (r := requests.get(f"{url}/v1/cases/{iid}", headers=HANDLER, timeout=5)).status_code == 200
                            and r.json()["state"] == "dispatched" and r.json()) for iid in ids]
        act = lambda iid, action, **body: requests.post(f"{url}/v1/cases/{iid}/{action}", json={"by": "m", **body}, headers=HANDLER, timeout=5)
        for action, body in [("acknowledge", {}), ("start", {}), ("handle", {"note": "done"}), ("verify-pass", {}), ("close", {})]:
            assert act(ids[0], action, **body).status_code == 200
        assert act(ids[1], "return", reason="not mine").status_code == 200
        assert act(ids[2], "acknowledge").status_code == 200 and act(ids[2], "suspend").status_code == 200
        assert requests.post(f"{url}/v1/modes", json={"scope": "town", "target": "T-01", "mode": "emergency", "by": "ops"},
                             headers=OPERATOR, timeout=5).status_code == 200
        # Everything the dispatcher committed is on the bus before it stops.
        published = lambda: [e for e in bus_events(intake.bus, b"incident.") if e["source"] == "grid-dispatcher"]
        eventually(lambda: len(published()) >= 4 * 2 + 5 + 2 + 2)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    data = intake.tmp_path / "dispatcher"
    rebuilt = subprocess.run(dispatcher_command(intake.tmp_path, intake.bus_ready, command=["rebuild"]), capture_output=True, text=True, timeout=60)
    assert rebuilt.returncode == 0, rebuilt.stderr + rebuilt.stdout
    assert "equal to the live store" in rebuilt.stdout
    live, again = cases_of(data / "dispatcher.sqlite"), cases_of(data / "dispatcher.rebuilt.sqlite")
    assert set(live) == set(ids) and again == live
    assert {c["state"] for c in live.values()} >= {"closed", "dispatched", "suspended"}
    # A second rebuild into the same file is refused rather than mixed in.
    refused = subprocess.run(dispatcher_command(intake.tmp_path, intake.bus_ready, command=["rebuild"]), capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "already exists" in refused.stderr


def test_a_stray_word_on_the_command_line_is_an_error(tmp_path):
    answer = subprocess.run([str(BIN / "grid-dispatcher"), "--data-dir", str(tmp_path), "rebuild"], capture_output=True, text=True, timeout=30)
    assert answer.returncode == 2 and "rebuild" in answer.stderr and "unexpected argument" in answer.stderr


def test_an_idempotency_window_under_an_hour_is_refused_at_start(tmp_path):
    answer = subprocess.run([str(BIN / "grid-dispatcher"), "--auth-mode", "none", "--data-dir", str(tmp_path), "--requests-idempotency-window", "10m"],
                            capture_output=True, text=True, timeout=30)
    assert answer.returncode != 0
    assert "requests.idempotency-window" in answer.stderr and "'10m'" in answer.stderr and "at least 1h" in answer.stderr, answer.stderr
