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
BIN = pathlib.Path(os.environ.get("GRIDBUS_BIN_DIR", REPO / ".build" / "debug"))
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


@pytest.fixture()
def bus(tmp_path):
    """Starts gridbusd with `*` ports and waits for its ready file; stops it with SIGTERM afterwards."""
    data = tmp_path / "bus"
    process = subprocess.Popen(
        [str(BIN / "gridbusd"), "--data-dir", str(data), "--http-port", "0", "--log-level", "warning",
         "--ingress-endpoint", "tcp://127.0.0.1:*", "--egress-endpoint", "tcp://127.0.0.1:*",
         "--replay-endpoint", "tcp://127.0.0.1:*", "--egress-heartbeat-interval", "200ms"],
        stderr=open(tmp_path / "gridbusd.err", "wb"))
    ready_file = data / "gridbusd.ready"
    deadline = time.monotonic() + 20
    while not ready_file.exists():
        assert process.poll() is None, (tmp_path / "gridbusd.err").read_text()
        assert time.monotonic() < deadline, "gridbusd did not become ready"
        time.sleep(0.02)
    yield Bus(process, json.loads(ready_file.read_text()), tmp_path)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0, (tmp_path / "gridbusd.err").read_text()


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
