"""Fixtures: a real gridbusd binary on free ports in a temporary data directory."""
import json
import os
import pathlib
import signal
import subprocess
import time

import pytest
import zmq

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(os.environ.get("GRIDBUS_BIN_DIR", REPO / ".build" / "debug")).resolve()  # absolute: manifests and units name it
SCHEMAS = REPO / "docs" / "schemas"


class Bus:
    def __init__(self, process, ready, directory):
        self.process = process
        self.ingress = ready["ingress"]
        self.egress = ready["egress"]
        self.replay = ready["replay"]
        self.http = ready["http"]
        self.directory = directory
        self.context = zmq.Context.instance()

    def dealer(self, endpoint):
        socket = self.context.socket(zmq.DEALER)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.RCVTIMEO, 10_000)
        socket.connect(endpoint)
        return socket

    def metrics(self):
        import urllib.request
        text = urllib.request.urlopen(self.http + "/metrics", timeout=5).read().decode()
        samples = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                samples[name] = float(value)
        return samples


def start_gridbusd(tmp_path, *arguments, log_level="warning"):
    """Starts gridbusd with `*` ports (unless `arguments` name them) and waits for its ready file;
    returns the process and the ready document."""
    data = tmp_path / "bus"
    defaults = {"--bus-ingress": "tcp://127.0.0.1:*", "--bus-egress": "tcp://127.0.0.1:*",
                "--bus-replay": "tcp://127.0.0.1:*", "--egress-heartbeat-interval": "200ms"}
    chosen = [item for flag, value in defaults.items() if flag not in arguments for item in (flag, value)]
    ready_file = data / "gridbusd.ready"
    if ready_file.exists():
        ready_file.unlink()
    process = subprocess.Popen(
        [str(BIN / "gridbusd"), "--data-dir", str(data), "--http-port", "0", "--log-level", log_level, *chosen, *arguments],
        stderr=open(tmp_path / "gridbusd.err", "ab"))
    deadline = time.monotonic() + 20
    while not ready_file.exists():
        assert process.poll() is None, (tmp_path / "gridbusd.err").read_text()
        assert time.monotonic() < deadline, "gridbusd did not become ready"
        time.sleep(0.02)
    return process, json.loads(ready_file.read_text())


def stop_gridbusd(process, tmp_path):
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0, (tmp_path / "gridbusd.err").read_text()


@pytest.fixture()
def bus(tmp_path):
    """gridbusd in development mode (no CURVE)."""
    process, ready = start_gridbusd(tmp_path, "--security-mode", "none")
    yield Bus(process, ready, tmp_path)
    stop_gridbusd(process, tmp_path)


def keygen(name, directory):
    """A key pair made by `gridctl keygen`, as pyzmq's zmq.auth reads it: (public, secret)."""
    import zmq.auth
    subprocess.run([str(BIN / "gridctl"), "keygen", name, "--dir", str(directory)], check=True, capture_output=True)
    return zmq.auth.load_certificate(str(directory / f"{name}.key_secret"))


class SecureBus(Bus):
    """gridbusd with CURVE on; identities: ops (everything), reader (reads incident.*), stranger (unlisted)."""

    def __init__(self, process, ready, directory, keys, server_public):
        super().__init__(process, ready, directory)
        self.keys = keys
        self.server_public = server_public

    def socket(self, kind, endpoint, identity):
        socket = self.context.socket(kind)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.RCVTIMEO, 10_000)
        public, secret = self.keys[identity]
        socket.curve_publickey = public
        socket.curve_secretkey = secret
        socket.curve_serverkey = self.server_public
        socket.connect(endpoint)
        return socket

    def write_access(self, text):
        (self.directory / "access.yaml").write_text(text)


ACCESS = """
identities:
  - name: ops
    key-file: keys/ops.key
    publish: ["*"]
    subscribe: ["*"]
  - name: reader
    key-file: keys/reader.key
    subscribe: ["incident.*"]
"""


@pytest.fixture()
def secure_bus(tmp_path):
    keys = {name: keygen(name, tmp_path / "keys") for name in ["gridbusd", "ops", "reader", "stranger"]}
    (tmp_path / "access.yaml").write_text(ACCESS)
    process, ready = start_gridbusd(tmp_path, "--security-server-key", str(tmp_path / "keys" / "gridbusd.key_secret"),
                                    "--security-access-file", str(tmp_path / "access.yaml"), log_level="notice")
    import zmq.auth
    server_public, _ = zmq.auth.load_certificate(str(tmp_path / "bus" / "gridbusd.key"))
    assert server_public == keys["gridbusd"][0]
    yield SecureBus(process, ready, tmp_path, keys, server_public)
    stop_gridbusd(process, tmp_path)


def event(event_id, type_="incident.reported", grid="G-1", source="interop", data=None):
    """A CloudEvent in JSON format, as bytes."""
    body = {"specversion": "1.0", "id": event_id, "source": source, "type": type_, "datacontenttype": "application/json",
            "time": "2026-11-27T10:00:00Z", "data": data if data is not None else example_data(type_)}
    if grid is not None:
        body["grid"] = grid
    return json.dumps(body).encode()


def example_data(type_):
    """Data that satisfies the exported schema of `type_`."""
    examples = {
        "incident.reported": {"schemaVersion": 1, "incidentId": "inc-1", "category": "E-01-02", "description": "rubbish",
                              "priority": "normal", "channel": "app", "reportedAt": "2026-11-27T10:00:00Z"},
        "incident.dispatched": {"schemaVersion": 1, "incidentId": "inc-1", "assignees": ["m-1"], "role": "grid-worker",
                                "acknowledgeBy": "2026-11-27T10:30:00Z", "deadline": "2026-11-28T10:00:00Z"},
        "incident.closed": {"schemaVersion": 1, "incidentId": "inc-1", "by": "m-2", "onTime": True},
    }
    return examples[type_]


def publish(socket, token, payload):
    """Sends PUB and returns the answer frames."""
    socket.send_multipart([b"PUB", token, payload])
    return socket.recv_multipart()


def journal_events(path):
    """Every event in a gridbusd journal file, oldest first, as (sequence, source, id, topic, event) with
    bytes for topic and event. Decodes the chunk format that docs/operations.md ("Reading the journal")
    describes, independently of gridbusd's own reader."""
    import sqlite3
    import struct
    events = []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        for first, last, records in db.execute("SELECT first_seq, last_seq, records FROM event_chunks ORDER BY first_seq"):
            offset, sequence = 0, first
            while offset < len(records):
                event_length, topic_length, source_length, id_length = struct.unpack_from("<4I", records, offset)
                offset += 16
                topic = records[offset:offset + topic_length]
                offset += topic_length
                source = records[offset:offset + source_length].decode()
                offset += source_length
                event_id = records[offset:offset + id_length].decode()
                offset += id_length
                events.append((sequence, source, event_id, bytes(topic), bytes(records[offset:offset + event_length])))
                offset += event_length
                sequence += 1
            assert sequence - 1 == last, f"chunk {first}..{last} holds {sequence - first} events"
    return events


def sha256(text):
    import hashlib
    return hashlib.sha256(text.encode()).hexdigest()


class Intake:
    """A real grid-intake in front of a real gridbusd; `keys` maps client names to their API keys."""

    def __init__(self, tmp_path, bus_ready, keys, store=()):
        self.tmp_path = tmp_path
        self.bus_ready = bus_ready
        self.keys = keys
        self.store = list(store)  # --store-backend … flags; restarts keep the same store
        self.process = None
        self.url = None

    def start(self, *extra):
        data = self.tmp_path / "intake"
        ready_file = data / "grid-intake.ready"
        if ready_file.exists():
            ready_file.unlink()
        self.process = subprocess.Popen(
            [str(BIN / "grid-intake"), "--data-dir", str(data), "--http-port", "0", "--log-level", "warning",
             "--district-dir", str(REPO / "deploy" / "sample"), "--auth-keys-file", str(self.tmp_path / "clients.yaml"),
             "--bus-ingress", self.bus_ready["ingress"], "--bus-egress", self.bus_ready["egress"],
             "--bus-replay", self.bus_ready["replay"], *self.store, *extra],
            stderr=open(self.tmp_path / "grid-intake.err", "ab"))
        deadline = time.monotonic() + 30
        while not ready_file.exists():
            assert self.process.poll() is None, (self.tmp_path / "grid-intake.err").read_text()
            assert time.monotonic() < deadline, "grid-intake did not become ready"
            time.sleep(0.02)
        self.url = json.loads(ready_file.read_text())["http"]
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            assert self.process.wait(timeout=20) == 0, (self.tmp_path / "grid-intake.err").read_text()

    def headers(self, client="hotline", **extra):
        return {"Authorization": f"Bearer {self.keys[client]}", **extra}


CLIENTS = {"hotline": ("hotline-secret-1", 1000, "hotline"), "app": ("app-secret-2", 1000, "app"), "slow": ("slow-secret-3", 1, "other")}


def write_clients(path):
    lines = ["clients:"]
    for name, (key, rate, channel) in CLIENTS.items():
        lines += [f"  - name: {name}", f"    key-sha256: {sha256(key)}", f"    rate: {rate}", f"    channel: {channel}"]
    path.write_text("\n".join(lines) + "\n")


class PostgresServer:
    """A real PostgreSQL server from Debian's package for the whole run, run as the `postgres` user
    (it refuses root) in a temporary folder on a free loopback port; each test takes a database."""

    def __init__(self):
        import glob
        import shutil
        import tempfile
        from test_plugins import free_port
        self.binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))[-1]
        self.directory = tempfile.mkdtemp(prefix="gridbus-interop-postgres-")
        os.chmod(self.directory, 0o755)
        shutil.chown(self.directory, "postgres", "postgres")
        self.port = free_port()
        self.run("initdb", "-D", f"{self.directory}/data", "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        with open(f"{self.directory}/data/postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.directory}'\n"
                       "fsync = off\nmax_connections = 200\n")
        self.run("pg_ctl", "-D", f"{self.directory}/data", "-l", f"{self.directory}/server.log", "-w", "start")
        self.databases = 0

    def run(self, program, *arguments):
        subprocess.run(["runuser", "-u", "postgres", "--", f"{self.binaries}/{program}", *arguments],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def database(self):
        """A new database's URL."""
        self.databases += 1
        name = f"interop_{os.getpid()}_{self.databases}"
        self.run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-c", f"CREATE DATABASE {name}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}?sslmode=disable"

    def query(self, url, sql):
        """The rows of `sql` in the database of `url`, as tuples of strings."""
        name = url.rsplit("/", 1)[1].split("?")[0]
        answer = subprocess.run(["runuser", "-u", "postgres", "--", f"{self.binaries}/psql", "-h", "127.0.0.1", "-p", str(self.port),
                                 "-U", "postgres", "-d", name, "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                                check=True, capture_output=True, text=True)
        return [tuple(line.split("\t")) for line in answer.stdout.splitlines()]

    def stop(self):
        import shutil
        self.run("pg_ctl", "-D", f"{self.directory}/data", "-m", "immediate", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    server = PostgresServer()
    yield server
    server.stop()


def store_flags(backend, request):
    """The flags that put a worker's store on `backend` (a new database for PostgreSQL)."""
    if backend == "sqlite":
        return []
    return ["--store-backend", "postgresql", "--store-url", request.getfixturevalue("postgres").database()]


@pytest.fixture()
def intake(tmp_path, request):
    yield from intake_on("sqlite", tmp_path, request)


def intake_on(backend, tmp_path, request):
    """A real grid-intake with its store on `backend`, in front of a real gridbusd: the modules
    that test the intake's own store (its API, Open311) run on both backends."""
    process, ready = start_gridbusd(tmp_path, "--security-mode", "none")
    write_clients(tmp_path / "clients.yaml")
    service = Intake(tmp_path, ready, {name: value[0] for name, value in CLIENTS.items()}, store_flags(backend, request)).start()
    service.bus = Bus(process, ready, tmp_path)
    yield service
    service.stop()
    stop_gridbusd(process, tmp_path)
