"""Two instances of grid-intake on one PostgreSQL store: one active, one standby that answers 503
with the active one's address, and takes over after a kill -9 of the active one within the lease
timeout, with nothing the active one accepted lost or published twice."""
import json
import os
import signal
import subprocess
import time

import requests

from conftest import BIN, Bus, CLIENTS, REPO, start_gridbusd, stop_gridbusd, write_clients
from test_intake import REPORT, bus_events
from test_plugins import free_port, status
from test_security import eventually

KEY = {"Authorization": f"Bearer {CLIENTS['hotline'][0]}"}


class Instance:
    def __init__(self, tmp_path, name, ready, store_url):
        self.data = tmp_path / name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [
            str(BIN / "grid-intake"), "--data-dir", str(self.data), "--http-port", str(self.port), "--log-level", "notice",
            "--district-dir", str(REPO / "deploy" / "sample"), "--auth-keys-file", str(tmp_path / "clients.yaml"),
            "--bus-ingress", ready["ingress"], "--bus-egress", ready["egress"], "--bus-replay", ready["replay"],
            "--store-backend", "postgresql", "--store-url", store_url]
        self.log = tmp_path / f"{name}.err"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(self.command, stderr=open(self.log, "ab"))
        return self

    def health(self):
        try:
            return requests.get(self.url + "/healthz", timeout=2).json()
        except requests.RequestException:
            return None

    def post(self, body, **headers):
        return requests.post(self.url + "/v1/incidents", json=body, headers={**KEY, **headers}, timeout=10)


def test_a_standby_answers_with_the_active_address_and_takes_over_after_kill_9(tmp_path, postgres):
    process, ready = start_gridbusd(tmp_path, "--security-mode", "none")
    write_clients(tmp_path / "clients.yaml")
    url = postgres.database()
    a = Instance(tmp_path, "a", ready, url).start()
    eventually(lambda: (a.data / "grid-intake.ready").exists(), timeout=30)
    b = Instance(tmp_path, "b", ready, url).start()
    assert eventually(lambda: (h := b.health()) and h.get("role") == "standby" and h, timeout=30)["active"] == a.url

    refused = b.post({**REPORT, "externalId": "to-the-standby"})
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert refused.json()["active"] == a.url and refused.json()["errors"][0]["field"] == "instance"
    first = [a.post({**REPORT, "externalId": f"a-{n}"}).json()["id"] for n in range(30)]

    a.process.send_signal(signal.SIGKILL)
    a.process.wait(timeout=10)
    killed = time.monotonic()

    def accepted():
        try:
            response = b.post({**REPORT, "externalId": "after-the-kill"})
        except requests.RequestException:
            return None
        return response.status_code in (200, 201) and response.json()["id"]
    after = eventually(accepted, timeout=20)
    takeover = time.monotonic() - killed
    print(f"takeover after kill -9: {takeover:.2f} s")
    assert takeover <= 5, f"the standby took {takeover:.1f} s to take over"
    assert b.health()["status"] == "ok" and "role" not in b.health()
    # What the killed instance accepted is there, once (the intake's idempotency by external id).
    again = b.post({**REPORT, "externalId": "a-7"})
    assert again.status_code == 200 and again.json()["id"] == first[7]
    second = [b.post({**REPORT, "externalId": f"b-{n}"}).json()["id"] for n in range(30)]

    bus = Bus(process, ready, tmp_path)
    expected = sorted(first + [after] + second)
    published = eventually(lambda: len(found := bus_events(bus)) >= len(expected) and found, timeout=30)
    ids = [event["data"]["incidentId"] for event in published]
    assert sorted(ids) == expected, "every accepted report on the bus, once"

    # The killed instance, started again, waits: the other one now holds the lease.
    a.start()
    assert eventually(lambda: (h := a.health()) and h.get("role") == "standby" and h, timeout=30)["active"] == b.url
    metrics = requests.get(b.url + "/metrics", timeout=5).text
    assert "gridbus_worker_takeovers_total 1" in metrics and "gridbus_worker_active 1" in metrics

    for instance in (a, b):
        instance.process.send_signal(signal.SIGTERM)
        assert instance.process.wait(timeout=20) == 0, instance.log.read_text()
    stop_gridbusd(process, tmp_path)


def test_gridbusd_shows_which_instance_is_active_and_counts_takeovers(tmp_path, postgres):
    """Two instances of grid-intake as plugins of one gridbusd, on one store: each reports its role
    to the supervisor (systemd's notification protocol), gridctl status shows it, and a kill -9 of
    the active one shows as a takeover."""
    write_clients(tmp_path / "clients.yaml")
    url, plugins, ports = postgres.database(), tmp_path / "plugins", {}
    plugins.mkdir()
    for name in ["intake-a", "intake-b"]:
        ports[name] = free_port()
        (plugins / f"{name}.yaml").write_text(json.dumps({
            "name": name, "executable": str(BIN / "grid-intake"), "restart": "always", "backoff": {"initial": "3s", "max": "3s"},
            "environment": {"GRIDBUS_HTTP_PORT": str(ports[name]), "GRIDBUS_DISTRICT_DIR": str(REPO / "deploy" / "sample"),
                            "GRIDBUS_AUTH_KEYS_FILE": str(tmp_path / "clients.yaml"), "GRIDBUS_LOG_LEVEL": "notice",
                            "GRIDBUS_STORE_BACKEND": "postgresql", "GRIDBUS_STORE_URL": url, "GRIDBUS_STORE_LEASE_TIMEOUT": "2s"}}))
    process, ready = start_gridbusd(tmp_path, "--security-mode", "none", "--plugins-dir", str(plugins), log_level="info")
    bus = Bus(process, ready, tmp_path)

    def roles():
        found = {p["name"]: p for p in status(bus)["plugins"]}
        by_role = {p.get("role"): p for p in found.values()}
        return set(by_role) == {"active", "standby"} and by_role
    first = eventually(roles, timeout=30)
    active, standby = first["active"], first["standby"]
    assert active["epoch"] >= 1 and active["status"].startswith("active") and "epoch" not in standby
    shown = subprocess.run([str(BIN / "gridctl"), "status", "--replay", ready["replay"]], capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0, shown.stderr
    rows = {line.split()[0]: line for line in shown.stdout.splitlines() if line.startswith("intake-")}
    assert f"active (epoch {active['epoch']})" in rows[active["name"]] and " standby " in rows[standby["name"]], shown.stdout
    assert requests.get(f"http://127.0.0.1:{ports[standby['name']]}/healthz", timeout=5).json()["role"] == "standby"

    os.kill(active["pid"], signal.SIGKILL)

    # The standby takes over once the lease lapses; the killed one is restarted and waits. (Its
    # restart may also win the lease after it lapsed: either way, exactly one takeover.)
    def after_the_kill():
        found = {p["name"]: p for p in status(bus)["plugins"]}
        by_role = {p.get("role"): p for p in found.values()}
        return set(by_role) == {"active", "standby"} and found[active["name"]]["restarts"] == 1 and by_role
    now = eventually(after_the_kill, timeout=30)
    assert now["active"]["epoch"] == active["epoch"] + 1
    killed = next(p for p in status(bus)["plugins"] if p["name"] == active["name"])
    assert killed["lastExit"] == "killed by signal 9" and killed["pid"] != active["pid"]
    samples = bus.metrics()
    takeovers = {name: samples[f'gridbus_plugin_takeovers_total{{plugin="{name}"}}'] for name in ports}
    assert takeovers[now["active"]["name"]] == 1 and sum(takeovers.values()) == 1, takeovers
    assert samples[f'gridbus_plugin_active{{plugin="{now["active"]["name"]}"}}'] == 1
    assert samples[f'gridbus_plugin_active{{plugin="{now["standby"]["name"]}"}}'] == 0
    stop_gridbusd(process, tmp_path)
