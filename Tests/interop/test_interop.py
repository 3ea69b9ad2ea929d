"""Interop: a monitoring tool with nothing but pyzmq and docs/protocol.md, and the CloudEvents SDK."""
import json
import struct

import jsonschema
import pytest
import zmq
from cloudevents.core.formats.json import JSONFormat

from conftest import SCHEMAS, event, publish

TYPES = ["incident.reported", "incident.dispatched", "incident.closed"]


def schema_validator(name):
    return jsonschema.Draft202012Validator(json.loads((SCHEMAS / name).read_text()), format_checker=jsonschema.FormatChecker())


def check_event(raw):
    """Parses with the CloudEvents SDK and validates envelope and data against the exported schemas."""
    cloud_event = JSONFormat().read(None, raw)
    document = json.loads(raw)
    schema_validator("cloudevent.schema.json").validate(document)
    schema_validator(f"{cloud_event.get_type()}.schema.json").validate(document["data"])
    return cloud_event


def test_subscribe_decode_and_validate_every_event(bus):
    sub = bus.context.socket(zmq.SUB)
    sub.setsockopt(zmq.RCVTIMEO, 10_000)
    sub.connect(bus.egress)
    sub.subscribe(b"incident.")
    sub.subscribe(b"bus.heartbeat/")
    topic, _, _ = sub.recv_multipart()  # a heartbeat proves the subscription reached the daemon
    assert topic == b"bus.heartbeat/-"

    publisher = bus.dealer(bus.ingress)
    sent = {}
    for n in range(30):
        type_ = TYPES[n % 3]
        answer = publish(publisher, struct.pack(">Q", n), event(f"i-{n}", type_, grid=f"G-{n % 2}"))
        assert answer[0] == b"ACK", answer
        sent[f"i-{n}"] = struct.unpack(">Q", answer[2])[0]

    received = {}
    while len(received) < 30:
        topic, sequence_frame, raw = sub.recv_multipart()
        if topic == b"bus.heartbeat/-":
            heartbeat = check_event(raw)
            assert heartbeat.get_data()["head"] == struct.unpack(">Q", sequence_frame)[0]
            continue
        cloud_event = check_event(raw)
        sequence = struct.unpack(">Q", sequence_frame)[0]
        assert topic.decode() == f"{cloud_event.get_type()}/{cloud_event.get_extension('grid')}"
        assert cloud_event.get_extension("gridbusseq") == sequence
        received[cloud_event.get_id()] = sequence
    assert received == sent


def test_a_chain_names_each_events_predecessor_and_stays_out_of_everything(bus):
    """docs/protocol.md, "Chains": a pyzmq subscriber proves from the live stream alone that it
    missed nothing of its prefixes, while a subscriber to everything still gets plain events only."""
    everything = bus.context.socket(zmq.SUB)
    chain = bus.context.socket(zmq.SUB)
    key = b"bus.chain/incident.closed/|incident.reported/\n"
    for sub, prefixes in ((everything, [b""]), (chain, [key, b"bus.heartbeat/"])):
        sub.setsockopt(zmq.RCVTIMEO, 10_000)
        sub.connect(bus.egress)
        for prefix in prefixes:
            sub.subscribe(prefix)
        # A heartbeat proves the subscriptions (sent before it was asked for) reached the daemon.
        while not sub.recv_multipart()[0].startswith(b"bus.heartbeat/"):
            pass

    publisher = bus.dealer(bus.ingress)
    for n in range(30):
        assert publish(publisher, struct.pack(">Q", n), event(f"c-{n}", TYPES[n % 3], grid=f"G-{n % 2}"))[0] == b"ACK"

    links = []
    while len(links) < 20:
        frames = chain.recv_multipart()
        if frames[0].startswith(b"bus.heartbeat/"):
            continue
        assert len(frames) == 5 and frames[0] == key
        topic, sequence, previous, raw = frames[1], *(struct.unpack(">Q", f)[0] for f in frames[2:4]), frames[4]
        cloud_event = check_event(raw)
        assert cloud_event.get_type() in ("incident.reported", "incident.closed")
        assert topic.decode() == f"{cloud_event.get_type()}/{cloud_event.get_extension('grid')}"
        assert cloud_event.get_extension("gridbusseq") == sequence
        links.append((sequence, previous))
    assert links[0][1] < links[0][0]
    assert all(previous == links[i][0] for i, (_, previous) in enumerate(links[1:]))
    assert [sequence for sequence, _ in links] == sorted(sequence for sequence, _ in links)

    plain = 0
    while plain < 30:
        frames = everything.recv_multipart()
        assert len(frames) == 3 and not frames[0].startswith(b"bus.chain/")
        plain += not frames[0].startswith(b"bus.heartbeat/")
    assert everything.poll(300) == 0 or not everything.recv_multipart()[0].startswith(b"bus.chain/")


def test_a_publisher_sends_many_events_in_one_pub_and_gets_their_acks_in_one_message(bus):
    """docs/protocol.md, "Many events in one PUB", with nothing but pyzmq."""
    publisher = bus.dealer(bus.ingress)
    frames = [b"PUB"]
    for n in range(50):
        frames += [struct.pack(">Q", n), event(f"batch-{n}")]
    frames += [b"bad", b"{not json"]
    publisher.send_multipart(frames)
    refusal = publisher.recv_multipart()
    assert refusal[:3] == [b"NACK", b"bad", b"malformed"], refusal
    acks = publisher.recv_multipart()
    assert acks[0] == b"ACK" and len(acks) == 1 + 2 * 50
    pairs = [(struct.unpack(">Q", acks[i])[0], struct.unpack(">Q", acks[i + 1])[0]) for i in range(1, len(acks), 2)]
    assert [token for token, _ in pairs] == list(range(50))
    assert [sequence for _, sequence in pairs] == list(range(pairs[0][1], pairs[0][1] + 50))
    # Sent again in one PUB, every event is a duplicate: same sequences, nothing journaled twice.
    publisher.send_multipart(frames[:-2])
    again = publisher.recv_multipart()
    assert again == acks


def test_replay_with_pyzmq_returns_every_event_once(bus):
    publisher = bus.dealer(bus.ingress)
    for n in range(25):
        assert publish(publisher, b"t", event(f"r-{n}", TYPES[n % 3], grid=f"G-{n % 5}"))[0] == b"ACK"

    replay = bus.dealer(bus.replay)
    cursor, events = 0, []
    while True:  # batches of 10: the client pulls, the daemon never floods it
        replay.send_multipart([b"REPLAY", struct.pack(">Q", cursor), struct.pack(">Q", 10), b"incident."])
        while True:
            frames = replay.recv_multipart()
            if frames[0] == b"END":
                next_, head, tail = (struct.unpack(">Q", f)[0] for f in frames[1:4])
                break
            assert frames[0] == b"EVENT"
            events.append((struct.unpack(">Q", frames[2])[0], check_event(frames[3])))
        cursor = next_
        if next_ >= head:
            break
    assert [sequence for sequence, _ in events] == list(range(1, 26))
    assert sorted(e.get_id() for _, e in events) == sorted(f"r-{n}" for n in range(25))
    assert tail == 1

    # One grid only: a prefix per type selects it.
    replay.send_multipart([b"REPLAY", struct.pack(">Q", 0), struct.pack(">Q", 100)] + [f"{t}/G-3".encode() for t in TYPES])
    grid3 = []
    while (frames := replay.recv_multipart())[0] != b"END":
        grid3.append(json.loads(frames[3])["id"])
    assert sorted(grid3) == sorted(f"r-{n}" for n in range(25) if n % 5 == 3)


def test_status_and_ping_with_a_req_socket(bus):
    req = bus.context.socket(zmq.REQ)
    req.setsockopt(zmq.RCVTIMEO, 10_000)
    req.connect(bus.replay)
    req.send(b"PING")
    command, head = req.recv_multipart()
    assert command == b"PONG" and struct.unpack(">Q", head)[0] == 0
    req.send(b"STATUS")
    command, body = req.recv_multipart()
    status = json.loads(body)
    assert command == b"STATUS" and status["head"] == 0 and status["durability"] == "full"


GARBAGE = [
    (b"", "malformed"),
    (b"\xff\xfe\x00", "malformed"),
    (b'{"specversion":"1.0","id":"x","source":"s"}', "invalid"),
    (b'{"specversion":"1.0","id":"x","source":"s","type":"incident.unheard-of"}', "unknown-type"),
    (b'{"specversion":"1.0","id":"x","source":"s","type":"incident.reported","data":' + b"1" * (1 << 20) + b"}", "too-large"),
    (b'{"specversion":"1.0","id":"x","source":"s","type":"incident.reported","time":"noon"}', "invalid"),
]


@pytest.mark.parametrize("payload,code", GARBAGE, ids=["empty", "binary", "missing-type", "unknown-type", "1MiB-plus", "bad-time"])
def test_bad_input_gets_its_nack(bus, payload, code):
    socket = bus.dealer(bus.ingress)
    answer = publish(socket, b"tok", payload)
    assert answer[0] == b"NACK" and answer[1] == b"tok" and answer[2].decode() == code, answer[:3]
    assert answer[3], "a NACK always says why"


def test_a_flood_of_garbage_from_several_clients_is_counted_and_good_publishers_keep_going(bus):
    clients = [bus.dealer(bus.ingress) for _ in range(4)]
    good = bus.dealer(bus.ingress)
    per_client = 500
    for n in range(per_client):
        for index, client in enumerate(clients):
            client.send_multipart([b"PUB", b"g", GARBAGE[(n + index) % (len(GARBAGE) - 1)][0]])  # all but the 1 MiB one
            client.send_multipart([b"NOPE"]) if n % 100 == 0 else None
        if n % 5 == 0:
            assert publish(good, b"ok", event(f"good-{n}"))[0] == b"ACK"
    nacks = 0
    for client in clients:
        for _ in range(per_client + per_client // 100):
            assert client.recv_multipart()[0] == b"NACK"
            nacks += 1
    metrics = bus.metrics()
    nacked = sum(value for name, value in metrics.items() if name.startswith("gridbus_events_nacked_total"))
    assert nacked == nacks == 4 * (per_client + per_client // 100)
    assert metrics["gridbus_events_acked_total"] == per_client // 5
    assert metrics["gridbus_journal_events"] == per_client // 5  # nothing bad reached the journal


def test_development_mode_is_visible_in_status_metrics_and_log(bus):
    replay = bus.dealer(bus.replay)
    replay.send_multipart([b"STATUS"])
    status = json.loads(replay.recv_multipart()[1])
    assert status["security"] == "none (development mode)" and status["identities"] == []
    metrics = bus.metrics()
    assert metrics['gridbus_security_mode{mode="none"}'] == 1 and metrics['gridbus_security_mode{mode="curve"}'] == 0
    assert "DEVELOPMENT MODE" in (bus.directory / "gridbusd.err").read_text()
