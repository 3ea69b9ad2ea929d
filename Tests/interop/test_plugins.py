"""Plugin supervision with real processes: gridbusd starts, restarts and stops what its manifests name."""
import json
import os
import shutil
import signal
import struct
import subprocess
import time

import zmq

from conftest import BIN, REPO, Bus, SecureBus, event, keygen, publish, start_gridbusd, stop_gridbusd
from test_security import eventually, next_event, subscribed, wait_for_heartbeat


def alive(pid):
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def descendants(pid):
    """Every process below `pid`, from /proc (children are listed per thread: gridbusd forks from its supervisor thread)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                children = [int(child) for child in open(f"/proc/{current}/task/{task}/children").read().split()]
            except FileNotFoundError:
                continue
            found += children
            queue += children
    return found


def status(bus, socket=None):
    replay = socket or bus.dealer(bus.replay)
    replay.send_multipart([b"STATUS"])
    return json.loads(replay.recv_multipart()[1])


def plugin(bus, name, socket=None):
    return next(p for p in status(bus, socket)["plugins"] if p["name"] == name)


def write_manifest(directory, name, text):
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.yaml").write_text(f"name: {name}\n" + text)


def start(tmp_path, *extra):
    process, ready = start_gridbusd(tmp_path, "--security-mode", "none", "--plugins-dir", str(tmp_path / "plugins"), *extra,
                                    log_level="info")
    return Bus(process, ready, tmp_path)


def log_of(bus):
    return (bus.directory / "gridbusd.err").read_text()


def test_a_crashing_plugin_is_restarted_with_back_off_then_given_up_loudly(tmp_path):
    write_manifest(tmp_path / "plugins", "crasher",
                   'executable: sh\nargs: ["-c", "echo about to fail >&2; exit 3"]\n'
                   "backoff: {initial: 50ms, max: 200ms}\ngive-up: {crashes: 4, window: 60s}\n")
    bus = start(tmp_path)
    crasher = eventually(lambda: (p := plugin(bus, "crasher"))["state"] == "failed" and p)
    assert crasher["exits"] == 4 and crasher["restarts"] == 3 and crasher["lastExit"] == "exit status 3"
    metrics = bus.metrics()
    assert metrics['gridbus_plugin_state{plugin="crasher",state="failed"}'] == 1
    assert metrics['gridbus_plugin_restarts_total{plugin="crasher"}'] == 3
    log = log_of(bus)
    assert "gave up restarting" in log
    assert log.count("about to fail") == 4 and "plugin=crasher" in log and "stream=stderr" in log
    # The delays between starts grow: 50ms, 100ms, 200ms (checked exactly in RestartTrackerTests).
    assert log.count("plugin will restart") == 3 and "restart.in.seconds=0.1" in log and "restart.in.seconds=0.2" in log
    stop_gridbusd(bus.process, tmp_path)


def test_on_failure_does_not_restart_after_a_clean_exit(tmp_path):
    write_manifest(tmp_path / "plugins", "oneshot", 'executable: sh\nargs: ["-c", "echo done"]\nrestart: on-failure\n')
    write_manifest(tmp_path / "plugins", "keeper", 'executable: sh\nargs: ["-c", "echo again"]\nrestart: always\n'
                   "backoff: {initial: 50ms, max: 50ms}\n")
    bus = start(tmp_path)
    # "keeper" restarting several times bounds how long "oneshot" had to (wrongly) restart.
    eventually(lambda: plugin(bus, "keeper")["restarts"] >= 5)
    oneshot = plugin(bus, "oneshot")
    assert oneshot["state"] == "exited" and oneshot["exits"] == 1 and oneshot["restarts"] == 0
    assert oneshot["lastExit"] == "exit status 0"
    assert "done" in log_of(bus) and "stream=stdout" in log_of(bus)
    stop_gridbusd(bus.process, tmp_path)


SLEEPER = 'executable: sh\nargs: ["-c", "sleep 1000 & sleep 1000"]\n'  # a plugin with a helper of its own


def test_sigterm_of_gridbusd_leaves_no_child_running(tmp_path):
    write_manifest(tmp_path / "plugins", "a-sleeper", SLEEPER)
    write_manifest(tmp_path / "plugins", "b-sleeper", SLEEPER)
    bus = start(tmp_path)
    eventually(lambda: all(p["state"] == "running" for p in status(bus)["plugins"]))
    everything = eventually(lambda: len(found := descendants(bus.process.pid)) >= 5 and found)  # 2×(sh + 2 sleeps) + reaper
    stop_gridbusd(bus.process, tmp_path)
    assert not [pid for pid in everything if alive(pid)]
    log = log_of(bus)
    # Reverse order of start: b-sleeper stops first.
    stopped = [line for line in log.splitlines() if line.endswith("plugin stopped")]
    assert ["plugin=b-sleeper" in stopped[0], "plugin=a-sleeper" in stopped[1]] == [True, True], stopped


def test_kill_9_of_gridbusd_leaves_no_child_running(tmp_path):
    write_manifest(tmp_path / "plugins", "sleeper", SLEEPER)
    bus = start(tmp_path)
    eventually(lambda: plugin(bus, "sleeper")["state"] == "running")
    everything = eventually(lambda: len(found := descendants(bus.process.pid)) >= 4 and found)
    bus.process.send_signal(signal.SIGKILL)
    bus.process.wait(timeout=10)
    eventually(lambda: not [pid for pid in everything if alive(pid)])


def test_a_plugin_that_ignores_sigterm_is_killed_after_its_stop_timeout(tmp_path):
    write_manifest(tmp_path / "plugins", "stubborn",
                   'executable: python3\nargs: ["-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); '
                   'print(\'stubborn-ready\', flush=True); time.sleep(1000)"]\nstop-timeout: 300ms\n')
    bus = start(tmp_path)
    pid = eventually(lambda: (p := plugin(bus, "stubborn"))["state"] == "running" and "stubborn-ready" in log_of(bus) and p["pid"])
    stop_gridbusd(bus.process, tmp_path)
    assert not alive(pid)
    assert "did not stop in time; killing it" in log_of(bus)


def test_a_malformed_manifest_stops_gridbusd_unless_told_to_skip_it(tmp_path):
    write_manifest(tmp_path / "plugins", "good", 'executable: sh\nargs: ["-c", "sleep 1000"]\n')
    write_manifest(tmp_path / "plugins", "typo", "executable: sh\nrestart: sometimes\n")
    result = subprocess.run([str(BIN / "gridbusd"), "--security-mode", "none", "--data-dir", str(tmp_path / "bus"),
                             "--plugins-dir", str(tmp_path / "plugins"), "--http-port", "0"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "typo.yaml" in result.stderr and "'restart'" in result.stderr and "on-failure" in result.stderr
    bus = start(tmp_path, "--plugins-skip-invalid", "true")
    assert eventually(lambda: plugin(bus, "good")["state"] == "running")
    assert [p["name"] for p in status(bus)["plugins"]] == ["good"]
    assert "plugin manifest skipped" in log_of(bus)
    stop_gridbusd(bus.process, tmp_path)


def test_the_python_sample_plugin_subscribes_and_publishes_over_curve(tmp_path):
    """plugins/examples/receipt.yaml as shipped: gridbusd supervises it, hands it keys and endpoints."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    shutil.copy(REPO / "plugins" / "examples" / "receipt.yaml", plugins / "receipt.yaml")
    os.symlink(REPO / "plugins" / "examples" / "receipt", plugins / "receipt")
    keygen("receipt", plugins / "keys")
    keys = {name: keygen(name, tmp_path / "keys") for name in ["gridbusd", "ops"]}
    (tmp_path / "access.yaml").write_text("identities:\n  - name: ops\n    key-file: keys/ops.key\n    publish: ['*']\n    subscribe: ['*']\n")
    process, ready = start_gridbusd(tmp_path, "--security-server-key", str(tmp_path / "keys" / "gridbusd.key_secret"),
                                    "--security-access-file", str(tmp_path / "access.yaml"), "--plugins-dir", str(plugins),
                                    log_level="info")
    import zmq.auth
    bus = SecureBus(process, ready, tmp_path, keys, zmq.auth.load_certificate(str(tmp_path / "bus" / "gridbusd.key"))[0])
    watcher = subscribed(bus, "ops", b"notification.", b"bus.heartbeat")
    wait_for_heartbeat(watcher)
    ops = bus.socket(zmq.DEALER, bus.ingress, "ops")
    reports = 10
    for n in range(reports):
        assert publish(ops, str(n).encode(), event(f"report-{n}"))[0] == b"ACK"
    receipts = [json.loads(next_event(watcher)[2]) for _ in range(reports)]
    assert sorted(r["id"] for r in receipts) == sorted(f"receipt-report-{n}" for n in range(reports))
    assert all(r["source"] == "plugin/receipt" and r["data"]["channel"] == "log" for r in receipts)
    # It read them from its chain, not through a replay each (a plugin that only rings the bell
    # replays every one): only a heartbeat landing between a report and its copy replays one.
    metrics = bus.metrics()
    assert metrics["gridbus_egress_chains"] == 1 and metrics.get("gridbus_events_replayed_total", 0) < reports, metrics
    receipt = plugin(bus, "receipt", bus.socket(zmq.DEALER, bus.replay, "ops"))
    assert receipt["state"] == "running" and receipt["restarts"] == 0
    # What it reported through NOTIFY_SOCKET with Python's own socket module (docs/plugins.md, "Status").
    assert receipt["status"].startswith("caught up at sequence") and "role" not in receipt, receipt
    log = log_of(bus)
    assert "receipt sent to the reporter" in log and "plugin=receipt" in log
    assert "receipt" in status(bus, bus.socket(zmq.DEALER, bus.replay, "ops"))["identities"]
    stop_gridbusd(process, tmp_path)
    assert "receipt plugin stopped" in log_of(bus)


def test_grid_intake_runs_as_a_plugin_with_its_identity(tmp_path):
    """plugins/grid-intake.yaml under gridbusd with CURVE: its identity may publish reports and read incidents."""
    import requests
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    for name in [".build", "deploy"]:
        os.symlink(REPO / name, tmp_path / name)  # the manifest's relative paths resolve as in the repository
    port = free_port()
    manifest = (REPO / "plugins" / "grid-intake.yaml").read_text().replace('GRIDBUS_HTTP_PORT: "8080"', f'GRIDBUS_HTTP_PORT: "{port}"')
    (plugins / "grid-intake.yaml").write_text(manifest)
    shutil.copytree(REPO / "plugins" / "grid-intake", plugins / "grid-intake")
    keygen("grid-intake", plugins / "keys")
    keys = {name: keygen(name, tmp_path / "keys") for name in ["gridbusd", "ops"]}
    (tmp_path / "access.yaml").write_text("identities:\n  - name: ops\n    key-file: keys/ops.key\n    publish: ['*']\n    subscribe: ['*']\n")
    process, ready = start_gridbusd(tmp_path, "--security-server-key", str(tmp_path / "keys" / "gridbusd.key_secret"),
                                    "--security-access-file", str(tmp_path / "access.yaml"), "--plugins-dir", str(plugins),
                                    log_level="info")
    import zmq.auth
    bus = SecureBus(process, ready, tmp_path, keys, zmq.auth.load_certificate(str(tmp_path / "bus" / "gridbusd.key"))[0])
    intake_ready = tmp_path / "bus" / "plugins" / "grid-intake" / "grid-intake.ready"
    eventually(lambda: intake_ready.exists(), timeout=30)
    url = json.loads(intake_ready.read_text())["http"]
    response = requests.post(url + "/v1/incidents", headers={"Authorization": "Bearer dev-hotline-key"}, timeout=10,
                             json={"category": "E-01-02", "description": "rubbish", "location": {"latitude": 30.2, "longitude": 120.15}})
    assert response.status_code == 201, response.text
    iid = response.json()["id"]
    watcher = subscribed(bus, "ops", b"incident.reported", b"bus.heartbeat")
    replay = bus.socket(zmq.DEALER, bus.replay, "ops")

    def reported():
        # The intake answers once the report is in its outbox; the bus has it a moment later.
        replay.send_multipart([b"REPLAY", struct.pack(">Q", 0), struct.pack(">Q", 100), b"incident.reported"])
        events = []
        while (frames := replay.recv_multipart())[0] == b"EVENT":
            events.append(json.loads(frames[3]))
        return events
    assert eventually(reported)[0]["data"]["incidentId"] == iid
    # Its lifecycle subscription works through its ACL: a dispatch shows in the GET answer.
    ops = bus.socket(zmq.DEALER, bus.ingress, "ops")
    body = {"specversion": "1.0", "id": "d1", "source": "grid-dispatcher", "type": "incident.registered", "datacontenttype": "application/json",
            "data": {"schemaVersion": 1, "incidentId": iid, "category": "E-01-02", "grid": "G-04-03-05", "priority": "normal",
                     "deadline": "2026-11-28T10:00:00Z"}}
    assert publish(ops, b"t", json.dumps(body).encode())[0] == b"ACK"
    eventually(lambda: requests.get(f"{url}/v1/incidents/{iid}", headers={"Authorization": "Bearer dev-hotline-key"}, timeout=10)
               .json()["status"] == "registered", timeout=15)
    assert plugin(bus, "grid-intake", bus.socket(zmq.DEALER, bus.replay, "ops"))["state"] == "running"
    stop_gridbusd(process, tmp_path)


_HANDED_OUT = set()


def free_port():
    """A port nothing listens on, below the kernel's ephemeral range: one from inside it could be
    handed to another socket before the server that is to bind it starts. Never the same one twice
    in a run: the probe lets go of the port at once, so two calls could otherwise pick the same
    one for two servers, and the second would never start."""
    import random
    import socket
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    for _ in range(200):
        port = random.randrange(10_000, max(10_001, low))
        if port in _HANDED_OUT:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError("no free port below the ephemeral range")


def test_the_intake_and_the_dispatcher_run_as_plugins_over_curve(tmp_path):
    """The four workers' manifests as shipped (intake, dispatcher, notifier, stats) together over CURVE,
    each with its identity and access list: a report posted to the intake is dispatched, acknowledged
    in the intake's answer, told to the assignee, and counted by the statistics."""
    import requests
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    for name in [".build", "deploy"]:
        os.symlink(REPO / name, tmp_path / name)
    ports = {"grid-intake": free_port(), "grid-dispatcher": free_port(), "grid-notifier": free_port(), "grid-stats": free_port()}
    for name, default in [("grid-intake", "8080"), ("grid-dispatcher", "8081"), ("grid-notifier", "8082"), ("grid-stats", "8083")]:
        manifest = (REPO / "plugins" / f"{name}.yaml").read_text().replace(f'GRIDBUS_HTTP_PORT: "{default}"', f'GRIDBUS_HTTP_PORT: "{ports[name]}"')
        # The notifier without its 30 s group wait, so that the test need not wait for it.
        manifest = manifest.replace("  GRIDBUS_CHANNELS_DIR: channels\n", "  GRIDBUS_CHANNELS_DIR: channels\n  GRIDBUS_RULES_FILE: grid-notifier/rules.yaml\n")
        (plugins / f"{name}.yaml").write_text(manifest)
        keygen(name, plugins / "keys")
        shutil.copytree(REPO / "plugins" / name, plugins / name)
    shutil.copytree(REPO / "plugins" / "channels", plugins / "channels")
    (plugins / "grid-notifier" / "rules.yaml").write_text("group-wait: 0s\nquiet-hours: {roles: {}}\n")
    keygen("gridbusd", tmp_path / "keys")
    (tmp_path / "access.yaml").write_text("identities: []\n")
    process, ready = start_gridbusd(tmp_path, "--security-server-key", str(tmp_path / "keys" / "gridbusd.key_secret"),
                                    "--security-access-file", str(tmp_path / "access.yaml"), "--plugins-dir", str(plugins),
                                    log_level="info")
    try:
        intake = f"http://127.0.0.1:{ports['grid-intake']}"
        dispatcher = f"http://127.0.0.1:{ports['grid-dispatcher']}"
        eventually(lambda: all((tmp_path / "bus" / "plugins" / name / f"{name}.ready").exists() for name in ports), timeout=30)
        headers = {"Authorization": "Bearer dev-hotline-key"}
        iid = requests.post(intake + "/v1/incidents", headers=headers, timeout=10,
                            json={"category": "E-01-02", "description": "rubbish", "location": {"latitude": 30.2, "longitude": 120.15}}).json()["id"]
        handler = {"Authorization": "Bearer dev-handler-key"}
        case = eventually(lambda: (r := requests.get(f"{dispatcher}/v1/cases/{iid}", headers=handler, timeout=5)).status_code == 200
                          and r.json()["state"] == "dispatched" and r.json(), timeout=20)
        assert requests.post(f"{dispatcher}/v1/cases/{iid}/acknowledge", json={"by": case["assignees"][0]}, headers=handler,
                             timeout=5).status_code == 200
        # Mode changes pass the dispatcher's access list too.
        assert requests.post(f"{dispatcher}/v1/modes", json={"scope": "grid", "target": "G-04-03-05", "mode": "emergency", "by": "ops"},
                             headers={"Authorization": "Bearer dev-operator-key"}, timeout=5).status_code == 200
        view = eventually(lambda: (r := requests.get(f"{intake}/v1/incidents/{iid}", headers=headers, timeout=5).json())["status"] == "acknowledged" and r,
                          timeout=20)
        # The notifier told the assignee (through the SMS plugin, run dry) and said so on the bus.
        notifier = f"http://127.0.0.1:{ports['grid-notifier']}"
        told = eventually(lambda: [n for n in requests.get(f"{notifier}/v1/notifications", params={"incident": iid},
                                                          headers={"Authorization": "Bearer dev-notifier-key"}, timeout=5).json()["notifications"]
                                   if n["status"] == "sent"], timeout=30)
        assert told[0]["recipient"] == case["assignees"][0] and told[0]["channel"] == "sms"
        # The statistics count it, and the notice, through their own access list.
        stats = f"http://127.0.0.1:{ports['grid-stats']}"
        row = eventually(lambda: (rows := requests.get(f"{stats}/api/v1/indicators", headers={"Authorization": "Bearer dev-stats-key"},
                                                       timeout=5).json()["rows"]) and rows[0]["acknowledged"] == 1
                                  and rows[0].get("notificationsSent", 0) >= 1 and rows[0], timeout=30)
        assert row["registered"] == 1 and row["dispatched"] == 1
        assert [s["type"] for s in view["timeline"]] == ["incident.reported", "incident.registered", "incident.dispatched", "incident.acknowledged"]
        log = (tmp_path / "gridbusd.err").read_text()
        assert "access denied" not in log  # each plugin stayed inside its access list
    finally:
        stop_gridbusd(process, tmp_path)
