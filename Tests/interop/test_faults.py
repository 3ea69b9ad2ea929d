"""The fault suite: a district under `gridctl load --handle` (20,000 incidents by default) while the
test kills each worker and the daemon with -9 at random moments, stalls a subscriber, fills the
journal's disk and jumps the clock. Afterwards every accepted report is on the bus exactly once,
every case is in the state the load drove it to, no notification took effect twice, and the
statistics equal the counts computed from the load's script.

It runs twice: with the workers' stores on SQLite, and with every store on PostgreSQL and two
instances of each worker behind HAProxy (deploy/cluster/haproxy.cfg), where each kill and the
stall hit the active instance and its standby takes over.

GRIDBUS_FAULT_INCIDENTS sets the size (GRIDBUS_FAULT_INCIDENTS_POSTGRESQL the second run's, if
it is to differ);
GRIDBUS_FAULT_SEED replays a run's fault schedule; GRIDBUS_FAULT_LOG_LEVEL=info puts the workers'
own log lines in gridbusd's."""
import collections
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from conftest import BIN, REPO, journal_events, sha256
from test_notifier import SECRET, Receiver
from test_plugins import free_port
from test_security import eventually

INCIDENTS = int(os.environ.get("GRIDBUS_FAULT_INCIDENTS", "20000"))
INCIDENTS_ON_POSTGRESQL = int(os.environ.get("GRIDBUS_FAULT_INCIDENTS_POSTGRESQL", str(INCIDENTS)))
SEED = int(os.environ.get("GRIDBUS_FAULT_SEED", str(random.SystemRandom().randrange(1 << 30))))
FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
WORKERS = ["grid-intake", "grid-dispatcher", "grid-notifier", "grid-stats"]
DEFAULT_PORTS = ["8080", "8081", "8082", "8083"]  # theirs in plugins/ and deploy/cluster/haproxy.cfg
SHANGHAI = timezone(timedelta(hours=8))

RULES = """
group-wait: 0s
quiet-hours: {roles: {}}
channel-order: [webhook]
routes:
  - match: {type: [incident.dispatched, incident.returned]}
    to: [assignees]
retry: {initial: 200ms, max: 2s, deadline: 10m}
"""


class District:
    """gridbusd with the four workers as plugins (development security, to keep the run short),
    every process under libfaketime so that the test can move their wall clock (their timers, on the
    monotonic clock, keep running), the journal alone on a small filesystem of its own.

    With `store` (a PostgreSQL URL), every worker keeps its store there and runs twice, as plugins
    NAME and NAME-2, behind HAProxy, which sends requests to the active instance: `ports` are then
    HAProxy's."""

    def __init__(self, tmp_path, receiver, store=None):
        self.tmp = tmp_path
        self.log = []
        self.clock = tmp_path / "clock"
        self.clock.write_text("+0\n")
        self.disk = tmp_path / "journal-disk"
        self.disk.mkdir()
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400m", "tmpfs", str(self.disk)], capture_output=True, text=True)
        assert mounted.returncode == 0, f"the disk-full fault needs a small filesystem (run as root): {mounted.stderr}"
        self.instances = {name: [name, f"{name}-2"] if store else [name] for name in WORKERS}
        self.instance_ports = {instance: free_port() for name in WORKERS for instance in self.instances[name]}
        self.ports = {name: free_port() if store else self.instance_ports[name] for name in WORKERS}
        self.proxy = None
        self.bus_ports = [free_port() for _ in range(3)]
        plugins = tmp_path / "plugins"
        plugins.mkdir()
        for name in [".build", "deploy"]:
            os.symlink(REPO / name, tmp_path / name)
        # Only the wall clock jumps, as an NTP step would: a faked monotonic clock would stop every
        # timer in the workers (libdispatch hands its deadlines to the kernel, which keeps real time),
        # and so would libfaketime's shifting of the timers' deadlines (timerfd_passthrough.c).
        passthrough = tmp_path / "timerfd_passthrough.so"
        compiled = subprocess.run([shutil.which("cc") or shutil.which("clang"), "-shared", "-fPIC", "-O2", "-o", str(passthrough),
                                   str(REPO / "Tests" / "interop" / "timerfd_passthrough.c")], capture_output=True, text=True)
        assert compiled.returncode == 0, compiled.stderr
        clock = {"LD_PRELOAD": f"{passthrough} {FAKETIME}", "FAKETIME_TIMESTAMP_FILE": str(self.clock), "FAKETIME_CACHE_DURATION": "1",
                 "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
        for name, default in zip(WORKERS, DEFAULT_PORTS):
            extra = dict(clock)
            if name == "grid-notifier":
                extra |= {"GRIDBUS_RULES_FILE": str(tmp_path / "rules.yaml"), "GRIDBUS_WEBHOOK_URL": receiver.url,
                          "GRIDBUS_WEBHOOK_SECRET_FILE": str(tmp_path / "webhook.secret")}
            if store:
                extra |= {"GRIDBUS_STORE_BACKEND": "postgresql", "GRIDBUS_STORE_URL": store}
            lines = "".join(f'  {key}: "{value}"\n' for key, value in extra.items())
            for instance in self.instances[name]:
                manifest = (REPO / "plugins" / f"{name}.yaml").read_text().replace("executable: ../.build/debug/", f"executable: {BIN}/")
                manifest = manifest.replace(f'GRIDBUS_HTTP_PORT: "{default}"', f'GRIDBUS_HTTP_PORT: "{self.instance_ports[instance]}"')
                manifest = manifest.replace(f"name: {name}\n", f"name: {instance}\n", 1)
                (plugins / f"{instance}.yaml").write_text(manifest.replace("environment:\n", "environment:\n" + lines, 1))
            shutil.copytree(REPO / "plugins" / name, plugins / name)
        shutil.copytree(REPO / "plugins" / "channels", plugins / "channels")
        (tmp_path / "rules.yaml").write_text(RULES)
        (tmp_path / "webhook.secret").write_bytes(SECRET + b"\n")
        (tmp_path / "webhook.secret").chmod(0o600)
        # gridbusd takes its configuration from the environment here: libfaketime hides the first
        # command-line argument from the Swift runtime.
        self.environment = {**os.environ, **clock, "GRIDBUS_SECURITY_MODE": "none", "GRIDBUS_DATA_DIR": str(tmp_path / "bus"),
                            "GRIDBUS_JOURNAL_PATH": str(self.disk / "journal.sqlite"), "GRIDBUS_PLUGINS_DIR": str(plugins),
                            "GRIDBUS_BUS_INGRESS": f"tcp://127.0.0.1:{self.bus_ports[0]}",
                            "GRIDBUS_BUS_EGRESS": f"tcp://127.0.0.1:{self.bus_ports[1]}",
                            "GRIDBUS_BUS_REPLAY": f"tcp://127.0.0.1:{self.bus_ports[2]}",
                            "GRIDBUS_HTTP_PORT": "0", "GRIDBUS_LOG_LEVEL": os.environ.get("GRIDBUS_FAULT_LOG_LEVEL", "warning")}
        self.daemon = None
        self.store = store

    def note(self, text):
        self.log.append(f"{time.strftime('%H:%M:%S')} {text}")

    def ready_file(self, name, instance):
        return self.tmp / "bus" / "plugins" / instance / f"{name}.ready"

    def start(self):
        for name in WORKERS:
            for instance in self.instances[name]:
                self.ready_file(name, instance).unlink(missing_ok=True)
        if self.store and not self.proxy:
            self.start_proxy()
        self.daemon = subprocess.Popen([str(BIN / "gridbusd")], env=self.environment, stderr=open(self.tmp / "gridbusd.err", "ab"))
        # Only the active instance of a worker becomes ready; a standby waits.
        eventually(lambda: all(any(self.ready_file(name, i).exists() for i in self.instances[name]) for name in WORKERS)
                   or self.daemon.poll() is not None, timeout=60)
        assert self.daemon.poll() is None, (self.tmp / "gridbusd.err").read_text()[-3000:]

    def start_proxy(self):
        """HAProxy with deploy/cluster/haproxy.cfg, its two machines' addresses made this host's ports."""
        config = "".join(line + "\n" for line in (REPO / "deploy" / "cluster" / "haproxy.cfg").read_text().splitlines()
                         if not line.strip().startswith(("log ", "option httplog", "#")))
        for name, default in zip(WORKERS, DEFAULT_PORTS):
            first, second = (self.instance_ports[instance] for instance in self.instances[name])
            config = config.replace(f"bind :{default}\n", f"bind 127.0.0.1:{self.ports[name]}\n")
            config = config.replace(f"10.0.0.11:{default} ", f"127.0.0.1:{first} ").replace(f"10.0.0.12:{default} ", f"127.0.0.1:{second} ")
        assert "10.0.0." not in config
        (self.tmp / "haproxy.cfg").write_text(config)
        self.proxy = subprocess.Popen(["haproxy", "-db", "-f", str(self.tmp / "haproxy.cfg")], stdout=subprocess.DEVNULL,
                                      stderr=open(self.tmp / "haproxy.err", "ab"))

    def stop(self):
        if self.daemon and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            self.daemon.wait(timeout=90)
        if self.proxy:
            self.proxy.terminate()
            self.proxy.wait(timeout=10)
        subprocess.run(["umount", "-l", str(self.disk)], capture_output=True)

    def status(self):
        answer = subprocess.run([str(BIN / "gridctl"), "status", "--json", "--replay", f"tcp://127.0.0.1:{self.bus_ports[2]}"],
                                capture_output=True, text=True, timeout=30)
        assert answer.returncode == 0, answer.stderr
        return json.loads(answer.stdout)

    def worker_pid(self, name):
        """The worker's pid; with two instances, the active one's (and its plugin name)."""
        def running():
            for plugin in self.status()["plugins"]:
                if plugin["name"] in self.instances[name] and plugin["state"] == "running" and plugin.get("pid"):
                    if not self.store or plugin.get("role") == "active":
                        return plugin["pid"], plugin["name"]
            return None
        return eventually(running, timeout=60)

    # The faults.

    def kill_worker(self, name):
        pid, instance = self.worker_pid(name)
        os.kill(pid, signal.SIGKILL)
        self.note(f"kill -9 {instance} (pid {pid}{', the active instance' if self.store else ''})")

    def kill_daemon(self):
        self.daemon.send_signal(signal.SIGKILL)
        self.daemon.wait(timeout=10)
        self.note("kill -9 gridbusd (its workers die with it); starting it again")
        time.sleep(1)
        self.start()

    def stall(self, name, seconds):
        pid, instance = self.worker_pid(name)
        os.kill(pid, signal.SIGSTOP)
        # With a standby, it takes over meanwhile, and the stalled one, fenced, exits once it goes on.
        self.note(f"SIGSTOP {instance} for {seconds} s (a stalled subscriber)")
        time.sleep(seconds)
        os.kill(pid, signal.SIGCONT)

    def fill_disk(self, seconds):
        filler = self.disk / "filler"
        with open(filler, "wb") as file:
            chunk = b"\0" * (1 << 20)
            try:
                while True:
                    file.write(chunk)
                    file.flush()
            except OSError:
                pass
        free = os.statvfs(self.disk).f_bavail * os.statvfs(self.disk).f_frsize
        self.note(f"journal disk full ({free} bytes free) for {seconds} s")
        time.sleep(seconds)
        filler.unlink()

    def jump_clock(self, offset):
        self.clock.write_text(f"{offset}\n")
        self.note(f"clock of every server process jumps {offset}")


def loader(district, tmp_path, count):
    return subprocess.Popen(
        [str(BIN / "gridctl"), "load", "--count", str(count), "--rate", "400", "--connections", "8", "--handlers", "16", "--handle",
         "--seed", str(SEED % 100_000), "--emergency-after", "30", "--emergency-for", "40", "--retry-for", "180", "--drain-timeout", "300",
         "--intake", f"http://127.0.0.1:{district.ports['grid-intake']}", "--dispatcher", f"http://127.0.0.1:{district.ports['grid-dispatcher']}",
         "--script", str(tmp_path / "script.jsonl")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def expected_statistics(records):
    plans = collections.Counter(record["plan"] for record in records)
    driven = sum(count for plan, count in plans.items() if plan not in ("duplicate", "outside", "placed"))
    closed = plans["closed"] + plans["returned-then-closed"] + plans["reworked-then-closed"]
    handled = closed + plans["handled"]
    registered = driven + plans["placed"]
    return {"reports": len(records), "merged": plans["duplicate"], "rejected": 0, "registered": registered, "dispatched": registered,
            "acknowledged": driven - plans["dispatched"], "handled": handled, "closed": closed, "reopened": 0,
            "accurateDispatchRate": round((registered - plans["returned-then-closed"]) / registered, 4),
            "reworkRate": round(plans["reworked-then-closed"] / handled, 4)}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_nothing_is_lost_or_doubled_through_kills_a_stall_a_full_disk_and_a_clock_jump(tmp_path, backend, request):
    assert os.path.exists(FAKETIME), "libfaketime (Debian's faketime) moves the servers' clock"
    store = request.getfixturevalue("postgres") if backend == "postgresql" else None
    receiver = Receiver()
    district = District(tmp_path, receiver, store.database() if store else None)
    incidents = INCIDENTS_ON_POSTGRESQL if store else INCIDENTS
    schedule = random.Random(SEED)
    try:
        district.start()
        load = loader(district, tmp_path, incidents)
        # Progress by the handlers' actions (about 3.4 a report), which go on long after the
        # reports are all posted: the faults then fall across the whole run.
        actions = [0]
        expected_actions = 3.3 * incidents

        def follow():
            for line in load.stderr:
                if match := re.match(r"posted \d+, accepted \d+, actions (\d+)", line):
                    actions[0] = int(match[1])
                else:
                    district.note("gridctl load: " + line.strip())
        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        # Each fault at a random share of the run, in random order.
        faults = [(lambda name=name: district.kill_worker(name)) for name in WORKERS]
        faults += [lambda: district.stall("grid-stats", 10), lambda: district.fill_disk(8), lambda: district.jump_clock("+10m"),
                   district.kill_daemon]
        moments = sorted(schedule.uniform(0.05, 0.85) for _ in faults)
        schedule.shuffle(faults)
        district.note(f"seed {SEED}: faults at {[round(m, 2) for m in moments]} of the run ({incidents} reports)")
        for moment, fault in zip(moments, faults):
            while actions[0] < moment * expected_actions and load.poll() is None:
                time.sleep(0.2)
            fault()
            assert district.daemon.poll() is None, "gridbusd died: " + (tmp_path / "gridbusd.err").read_text()[-3000:]
        load.wait(timeout=900)
        follower.join(timeout=10)  # the load's last words (its problems) are in the log
        summary = json.loads(load.stdout.read() or "{}")
        district.note(f"gridctl load finished: {summary}")
        context = "\n".join(district.log)
        print(context)
        assert load.returncode == 0, f"{summary}\n{context}"
        records = [json.loads(line) for line in (tmp_path / "script.jsonl").read_text().splitlines()]
        assert summary["accepted"] == incidents == len(records), context

        # 1. Every accepted report is on the bus exactly once.
        reported = [event.removeprefix("reported-") for _, _, event, topic, _ in journal_events(district.disk / "journal.sqlite")
                    if topic.startswith(b"incident.reported/")]
        assert len(reported) == len(set(reported)) == incidents
        assert set(reported) == {record["id"] for record in records}

        # 2. Every case is in the state the load drove it to (the dispatcher's store, all of them).
        if store:
            states = dict(store.query(district.store, "SELECT id, state FROM gridbus_dispatcher.cases"))
        else:
            dispatcher_store = tmp_path / "bus" / "plugins" / "grid-dispatcher" / "dispatcher.sqlite"
            with sqlite3.connect(f"file:{dispatcher_store}?mode=ro", uri=True) as db:
                states = dict(db.execute("SELECT id, state FROM cases"))
        wrong = [(r["id"], r["plan"], r["expect"], states.get(r["id"])) for r in records if states.get(r["id"]) != r["expect"]]
        assert not wrong, f"{len(wrong)} cases not where the load drove them, e.g. {wrong[:5]}\n{context}"
        # …and the HTTP API says the same for a sample.
        for record in schedule.sample(records, 50):
            answer = requests.get(f"http://127.0.0.1:{district.ports['grid-dispatcher']}/v1/cases/{record['id']}",
                                  headers={"Authorization": "Bearer dev-handler-key"}, timeout=10)
            assert answer.json()["state"] == record["expect"]

        # Each worker's store changed hands (its kill, and the daemon's, which may fall before the
        # first takeover is done): every takeover is one more epoch of its lease.
        if store:
            for schema in ["gridbus_intake", "gridbus_dispatcher", "gridbus_notifier", "gridbus_stats"]:
                epoch = int(store.query(district.store, f"SELECT epoch FROM {schema}.gridbus_lease")[0][0])
                assert epoch >= 2, f"{schema}'s lease is at epoch {epoch}: its active instance was never replaced\n{context}"

        # 3. No notification took effect twice: a repeated Idempotency-Key carries the same
        # message, and no notice is in two messages.
        def deliveries():
            by_key = {}
            for headers, body, _ in receiver.bodies():
                by_key.setdefault(headers["Idempotency-Key"], set()).add(tuple(sorted(n["id"] for n in body["notifications"])))
            return by_key
        by_key = deliveries()
        assert all(len(contents) == 1 for contents in by_key.values())
        notices = [notice for contents in by_key.values() for notice in next(iter(contents))]
        assert len(notices) == len(set(notices)) and len(notices) > incidents // 2

        # 4. The statistics equal the counts computed from the script, once they have caught up.
        days = [(datetime.now(SHANGHAI) + timedelta(days=d)).strftime("%Y-%m-%d") for d in (-1, 1)]
        expected = expected_statistics(records)

        def statistics():
            rows = requests.get(f"http://127.0.0.1:{district.ports['grid-stats']}/api/v1/indicators",
                                params={"from": days[0], "to": days[1]}, headers={"Authorization": "Bearer dev-stats-key"}, timeout=30).json()["rows"]
            row = rows[0] if rows else {}
            return {key: (round(row.get(key) or 0, 4) if isinstance(value, float) else row.get(key)) for key, value in expected.items()}
        try:
            eventually(lambda: statistics() == expected, timeout=180)
        except AssertionError:
            assert statistics() == expected, context
    finally:
        district.stop()
        receiver.close()
