#!/usr/bin/env python3
"""Sample GridBus worker plugin in Python: sends a receipt for every reported incident.

Proof that the plugin contract needs nothing from Swift: pyzmq, the environment gridbusd hands
over (docs/plugins.md) and the wire protocol (docs/protocol.md). For each `incident.reported` it
"sends" the reporter a receipt (here: a log line) and publishes `notification.sent`.

Delivery follows the protocol's rules for a filtered subscriber (docs/protocol.md, "Chains"): it
subscribes to its prefix's chain, whose copies each name the previous matching event. A copy
whose previous event is at or below the cursor kept in GRIDBUS_DATA_DIR is handled straight from
the live stream; anything else (a copy dropped, a restart, a heartbeat) reads in order through
REPLAY from the cursor, so nothing is lost. Publishing uses a deterministic event id, so a retry
after a lost ACK is de-duplicated by the bus.
"""
import json
import os
import signal
import socket
import struct
import sys
import time
import uuid

import zmq
import zmq.auth

PREFIX = b"incident.reported/"
CHAIN = b"bus.chain/" + PREFIX + b"\n"  # one prefix; several are sorted and joined by "|"
HEARTBEAT = b"bus.heartbeat/"
running = True


def log(message, **fields):
    # stderr is forwarded into gridbusd's log, tagged with this plugin's name.
    print(message, json.dumps(fields, sort_keys=True) if fields else "", file=sys.stderr, flush=True)


def secure(socket):
    """CURVE when gridbusd runs with it (GRIDBUS_BUS_KEY and GRIDBUS_BUS_SERVER_KEY are set)."""
    key_file = os.environ.get("GRIDBUS_BUS_KEY")
    if key_file:
        public, secret = zmq.auth.load_certificate(key_file)
        server_public, _ = zmq.auth.load_certificate(os.environ["GRIDBUS_BUS_SERVER_KEY"])
        socket.curve_publickey, socket.curve_secretkey, socket.curve_serverkey = public, secret, server_public
    return socket


class Cursor:
    def __init__(self, directory):
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, "cursor")
        self.value = int(open(self.path).read()) if os.path.exists(self.path) else 0

    def save(self, value):
        self.value = value
        with open(self.path + ".tmp", "w") as file:
            file.write(str(value))
        os.replace(self.path + ".tmp", self.path)


def publish(ingress, event):
    """PUB until ACKed; a NACK that says to retry is retried, any other is logged and dropped."""
    token = uuid.uuid4().bytes[:8]
    payload = json.dumps(event).encode()
    while running:
        ingress.send_multipart([b"PUB", token, payload])
        if ingress.poll(5000):
            answer = ingress.recv_multipart()
            if answer[0] == b"ACK" and answer[1] == token:
                return
            if answer[0] == b"NACK" and answer[1] == token:
                if answer[2] in (b"overloaded", b"storage"):
                    time.sleep(0.5)
                    continue
                log("publish refused", code=answer[2].decode(), reason=answer[3].decode())
                return


def receipt_for(report):
    data = report.get("data", {})
    incident = data.get("incidentId", report["id"])
    log("receipt sent to the reporter", incident=incident)
    return {
        "specversion": "1.0", "id": "receipt-" + report["id"], "source": "plugin/" + os.environ["GRIDBUS_PLUGIN_NAME"],
        "type": "notification.sent", "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "datacontenttype": "application/json", **({"grid": report["grid"]} if "grid" in report else {}),
        "data": {"schemaVersion": 1, "notificationId": "receipt-" + report["id"], "incidentId": incident,
                 "recipient": "reporter:" + incident, "channel": "log", "attempts": 1, "latencyMs": 0},
    }


def catch_up(replay, ingress, cursor):
    """REPLAY from the cursor until the answer says we reached the head."""
    while running:
        replay.send_multipart([b"REPLAY", struct.pack(">Q", cursor.value), struct.pack(">Q", 500), PREFIX])
        next_cursor = cursor.value
        while True:
            frames = replay.recv_multipart()
            if frames[0] == b"EVENT":
                publish(ingress, receipt_for(json.loads(frames[3])))
                next_cursor = struct.unpack(">Q", frames[2])[0]
            elif frames[0] == b"END":
                next_cursor, head = struct.unpack(">Q", frames[1])[0], struct.unpack(">Q", frames[2])[0]
                break
            else:
                raise RuntimeError(f"replay refused: {frames}")
        cursor.save(next_cursor)
        if next_cursor >= head:
            return


def notify(**fields):
    """Tells gridbusd (or systemd) how the plugin is: docs/plugins.md, "Status". Optional."""
    address = os.environ.get("NOTIFY_SOCKET")
    if address:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
            message = "\n".join(f"{key}={value}" for key, value in fields.items()).encode()
            sender.sendto(message, "\0" + address[1:] if address.startswith("@") else address)


def main():
    signal.signal(signal.SIGTERM, lambda *_: globals().update(running=False))
    context = zmq.Context()
    egress = secure(context.socket(zmq.SUB))
    egress.subscribe(CHAIN)  # not PREFIX as well: each event would come twice
    egress.subscribe(HEARTBEAT)
    egress.connect(os.environ["GRIDBUS_BUS_EGRESS"])
    replay = secure(context.socket(zmq.DEALER))
    replay.setsockopt(zmq.RCVTIMEO, 10_000)  # a daemon gone for good: crash and let gridbusd restart us
    replay.connect(os.environ["GRIDBUS_BUS_REPLAY"])
    ingress = secure(context.socket(zmq.DEALER))
    ingress.connect(os.environ["GRIDBUS_BUS_INGRESS"])
    cursor = Cursor(os.environ["GRIDBUS_DATA_DIR"])
    log("receipt plugin started", cursor=cursor.value)
    catch_up(replay, ingress, cursor)
    notify(READY=1, STATUS=f"caught up at sequence {cursor.value}")
    while running:
        if not egress.poll(200):
            continue
        frames = egress.recv_multipart()
        if frames[0] == CHAIN:
            _, _, sequence, previous, payload = frames
            sequence, previous = struct.unpack(">Q", sequence)[0], struct.unpack(">Q", previous)[0]
            if sequence <= cursor.value:
                continue  # already read through replay
            if previous <= cursor.value:
                publish(ingress, receipt_for(json.loads(payload)))  # nothing of ours came between
                cursor.save(sequence)
            else:
                catch_up(replay, ingress, cursor)  # a copy was dropped: read in order from replay
        elif struct.unpack(">Q", frames[1])[0] > cursor.value:
            catch_up(replay, ingress, cursor)  # a heartbeat past the cursor: look for what we missed
    log("receipt plugin stopped", cursor=cursor.value)
    context.destroy(linger=0)


if __name__ == "__main__":
    main()
