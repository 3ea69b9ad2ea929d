"""grid-stats over the real binaries: events published with pyzmq become indicators over HTTP,
/metrics passes `promtool check metrics` (Debian's prometheus package), a restart resumes from
the cursor, `grid-stats rebuild` equals the live store, and the dashboard loads in headless
Chromium (Debian's chromium, driven over the DevTools protocol) without console errors, draws the
map and charts, and updates when an event arrives. A screenshot is kept in test-artifacts/."""
import csv
import io
import json
import shutil
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from conftest import BIN, REPO, publish, sha256
from test_security import eventually

KEY = "stats-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
ARTIFACTS = REPO / "test-artifacts"
SHANGHAI = timezone(timedelta(hours=8))


def start_stats(tmp_path, bus, *extra):
    data = tmp_path / "stats"
    data.mkdir(exist_ok=True)
    (tmp_path / "stats-clients.yaml").write_text(f"clients:\n  - name: dash\n    key-sha256: {sha256(KEY)}\n")
    ready = data / "grid-stats.ready"
    if ready.exists():
        ready.unlink()
    process = subprocess.Popen(stats_command(tmp_path, bus, "--http-port", "0", *extra), stderr=open(tmp_path / "grid-stats.err", "ab"))
    eventually(lambda: ready.exists() or process.poll() is not None, timeout=30)
    assert process.poll() is None, (tmp_path / "grid-stats.err").read_text()
    return process, json.loads(ready.read_text())["http"]


def stats_command(tmp_path, bus, *extra, command=()):
    return [str(BIN / "grid-stats"), *command, "--data-dir", str(tmp_path / "stats"), "--log-level", "warning",
            "--district-dir", str(REPO / "deploy" / "sample"), "--auth-keys-file", str(tmp_path / "stats-clients.yaml"),
            "--bus-ingress", bus.ingress, "--bus-egress", bus.egress, "--bus-replay", bus.replay, *extra]


def stop(process):
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0


class Script:
    """Publishes the dispatcher's, the intake's and the notifier's events with pyzmq, timed from now."""

    def __init__(self, bus):
        self.ingress = bus.dealer(bus.ingress)
        self.count = 0
        # An hour ago, but never before today's midnight in the district: the events all fall on today.
        midnight = datetime.now(SHANGHAI).replace(hour=0, minute=0, second=1, microsecond=0).astimezone(timezone.utc)
        self.start = max(datetime.now(timezone.utc) - timedelta(hours=1), midnight).replace(microsecond=0)

    def event(self, type_, data, at, subject=None, source="grid-dispatcher", grid="G-01-01-01"):
        self.count += 1
        body = {"specversion": "1.0", "id": f"s-{self.count}", "source": source, "type": type_, "datacontenttype": "application/json",
                "time": (self.start + timedelta(seconds=at)).isoformat().replace("+00:00", "Z"), "data": {"schemaVersion": 1, **data}}
        if subject:
            body["subject"] = subject
        if grid:
            body["grid"] = grid
        assert publish(self.ingress, b"t", json.dumps(body).encode())[0] == b"ACK", body

    def stamp(self, seconds):
        return (self.start + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")

    def case(self, iid, at=0, close=True, on_time=True, grid="G-01-01-01"):
        self.event("incident.reported", {"incidentId": iid, "category": "E-01-02", "description": "d", "priority": "normal", "channel": "app",
                                         "reportedAt": self.stamp(at), "grid": grid}, at, iid, source="grid-intake", grid=grid)
        self.event("incident.registered", {"incidentId": iid, "category": "E-01-02", "grid": grid, "priority": "normal",
                                           "deadline": self.stamp(at + 7200)}, at + 60, iid, grid=grid)
        self.event("incident.dispatched", {"incidentId": iid, "assignees": ["m-00001"], "role": "grid-worker", "acknowledgeBy": self.stamp(at + 1800),
                                           "deadline": self.stamp(at + 7200), "policy": "least-load"}, at + 120, iid, grid=grid)
        self.event("incident.acknowledged", {"incidentId": iid, "by": "m-00001"}, at + 420, iid, grid=grid)
        if close:
            self.event("incident.handled", {"incidentId": iid, "by": "m-00001", "note": "done"}, at + 1260, iid, grid=grid)
            self.event("incident.verified", {"incidentId": iid, "by": "c", "passed": True}, at + 1300, iid, grid=grid)
            self.event("incident.closed", {"incidentId": iid, "by": "c", "onTime": on_time}, at + 1400, iid, grid=grid)


def today():
    return datetime.now(SHANGHAI).strftime("%Y-%m-%d")


def indicators(url, **params):
    answer = requests.get(f"{url}/api/v1/indicators", params={"from": today(), "to": today(), **params}, headers=AUTH, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["rows"]


def test_indicators_metrics_and_csv_over_http(bus, tmp_path):
    process, url = start_stats(tmp_path, bus)
    try:
        script = Script(bus)
        script.case("inc-1")
        script.case("inc-2", on_time=False)
        script.case("inc-3", close=False)
        script.event("notification.sent", {"notificationId": "n-1", "incidentId": "inc-1", "recipient": "m-00001", "channel": "sms", "attempts": 1,
                                           "latencyMs": 5}, 200, "inc-1", source="grid-notifier")
        script.event("grid.mode.changed", {"scope": "town", "target": "T-01", "mode": "emergency", "by": "ops", "reason": "typhoon"}, 300, grid=None)
        row = eventually(lambda: (rows := indicators(url)) and rows[0]["closed"] == 2 and rows[0], timeout=20)
        assert (row["reports"], row["registered"], row["dispatched"], row["acknowledged"]) == (3, 3, 3, 3)
        assert row["timelyDispatchRate"] == 1 and row["acknowledgeMeanSeconds"] == 300 and row["acknowledgeP90Seconds"] == 360
        assert row["handleMeanSeconds"] == 1200 and row["closureRate"] == pytest.approx(2 / 3) and row["onTimeClosureRate"] == 0.5
        assert row["notificationSuccessRate"] == 1
        assert requests.get(f"{url}/api/v1/indicators", timeout=10).status_code == 401
        bad = requests.get(f"{url}/api/v1/indicators", params={"by": "planet"}, headers=AUTH, timeout=10)
        assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "by"
        exported = requests.get(f"{url}/api/v1/indicators.csv", params={"from": today(), "to": today(), "by": "grid"}, headers=AUTH, timeout=10)
        assert exported.headers["Content-Type"].startswith("text/csv")
        [line] = list(csv.DictReader(io.StringIO(exported.text)))
        assert line["key"] == "G-01-01-01" and line["closed"] == "2" and line["onTimeClosureRate"] == "0.5000"
        emergencies = requests.get(f"{url}/api/v1/emergencies", headers=AUTH, timeout=10).json()["emergencies"]
        assert emergencies[0]["place"] == "town:T-01" and "endedAt" not in emergencies[0]  # still on

        metrics = requests.get(f"{url}/metrics", timeout=10).text
        assert 'gridbus_stats_reports_total{town="T-01"} 3' in metrics and "gridbus_stats_emergency_places 1" in metrics
        promtool = shutil.which("promtool")
        assert promtool, "promtool is missing: make test installs Debian's prometheus package"
        checked = subprocess.run([promtool, "check", "metrics"], input=metrics, capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    finally:
        stop(process)


def test_a_restart_resumes_from_the_cursor_and_a_rebuild_equals_the_live_store(bus, tmp_path):
    process, url = start_stats(tmp_path, bus)
    script = Script(bus)
    script.case("inc-1")
    eventually(lambda: (rows := indicators(url)) and rows[0]["closed"] == 1, timeout=20)
    stop(process)
    # While it is down: more events. Started again, it takes them from where it stopped, once.
    script.case("inc-2", close=False)
    script.event("incident.escalated", {"incidentId": "inc-2", "level": "grid-chief", "to": ["m-00028"], "reason": "late"}, 2000, "inc-2")
    process, url = start_stats(tmp_path, bus)
    try:
        row = eventually(lambda: (rows := indicators(url)) and rows[0]["escalations"] == 1 and rows[0], timeout=20)
        assert (row["reports"], row["registered"], row["closed"]) == (2, 2, 1)
    finally:
        stop(process)
    rebuilt = subprocess.run(stats_command(tmp_path, bus, command=["rebuild"]), capture_output=True, text=True, timeout=60)
    assert rebuilt.returncode == 0 and "equal to the live store" in rebuilt.stdout, rebuilt.stdout + rebuilt.stderr
    again = subprocess.run(stats_command(tmp_path, bus, command=["rebuild"]), capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "already exists" in again.stderr


class Browser:
    """Headless Chromium over the DevTools protocol (websocket-client)."""

    def __init__(self, tmp_path):
        import websocket
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        assert binary, "chromium is missing: make test installs Debian's chromium package"
        profile = tmp_path / "chromium"
        self.process = subprocess.Popen([binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0",
                                         f"--user-data-dir={profile}", "--window-size=1400,1300", "about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "chromium.err", "ab"))
        port_file = profile / "DevToolsActivePort"
        eventually(lambda: port_file.exists() and port_file.read_text().strip(), timeout=30)
        port = port_file.read_text().split()[0]
        targets = eventually(lambda: [t for t in requests.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json() if t["type"] == "page"], timeout=15)
        self.socket = websocket.create_connection(targets[0]["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.next_id = 0
        self.errors = []
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"]:
            self.call(domain)

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message.get("result", {})
            self.note(message)

    def note(self, message):
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            self.errors.append(params["exceptionDetails"].get("text", "") + " " + json.dumps(params["exceptionDetails"].get("exception", {}).get("description", "")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append(" ".join(str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", [])))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(params["entry"]["text"] + " " + params["entry"].get("url", ""))

    def evaluate(self, expression):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def close(self):
        self.socket.close()
        self.process.kill()
        self.process.wait(timeout=10)


def test_the_dashboard_in_headless_chromium(bus, tmp_path):
    process, url = start_stats(tmp_path, bus)
    script = Script(bus)
    script.case("inc-1")
    script.case("inc-2", close=False)
    eventually(lambda: (rows := indicators(url)) and rows[0]["reports"] == 2, timeout=20)
    browser = Browser(tmp_path)
    try:
        browser.call("Page.navigate", url=f"{url}/#key={KEY}")
        eventually(lambda: browser.evaluate("document.body.dataset.ready === 'true' && document.getElementById('live').className === 'on'"), timeout=30)
        assert browser.evaluate("document.querySelectorAll('#map path').length") == 884  # every grid of the sample district
        assert browser.evaluate("document.querySelector('#map path[data-grid=\"G-01-01-01\"]').getAttribute('fill')") != "#d9dee5"
        assert browser.evaluate("document.querySelectorAll('#trend polyline.series').length") == 3
        assert browser.evaluate("document.querySelectorAll('#categories tbody tr').length") == 1
        assert browser.evaluate("document.getElementById('emergency').hidden") is True
        assert browser.evaluate("document.querySelector('#summary .tile b').textContent") == "2"

        # A new event reaches the page through the live stream.
        script.case("inc-3", close=False)
        script.event("grid.mode.changed", {"scope": "community", "target": "C-01-01", "mode": "emergency", "by": "ops", "reason": "typhoon"}, 500, grid=None)
        eventually(lambda: browser.evaluate("Number(document.getElementById('updates').textContent) > 0 && "
                                            "document.querySelector('#summary .tile b').textContent === '3' && "
                                            "!document.getElementById('emergency').hidden"), timeout=20)
        assert "community:C-01-01" in browser.evaluate("document.getElementById('emergency').textContent")
        ARTIFACTS.mkdir(exist_ok=True)
        import base64
        shot = browser.call("Page.captureScreenshot", format="png")["data"]
        (ARTIFACTS / "dashboard.png").write_bytes(base64.b64decode(shot))
        assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000
        time.sleep(0.3)
        browser.evaluate("1")  # drain the events that arrived meanwhile
        assert browser.errors == [], browser.errors
    finally:
        browser.close()
        stop(process)
