"""Security over real sockets: pyzmq clients with keys made by `gridctl keygen`, against gridbusd with CURVE."""
import os
import signal
import socket as tcp
import struct
import time

import zmq

from conftest import event, publish


def eventually(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def nothing_within(socket, milliseconds=800):
    """True when nothing arrives on `socket` within the bound (used after a positive control)."""
    return socket.poll(milliseconds) == 0


def subscribed(bus, identity, *prefixes):
    sub = bus.socket(zmq.SUB, bus.egress, identity)
    for prefix in prefixes:
        sub.subscribe(prefix)
    return sub


def wait_for_heartbeat(sub):
    """A heartbeat proves the connection is up and the subscriptions were applied."""
    while True:
        topic, _, _ = sub.recv_multipart()
        if topic.startswith(b"bus.heartbeat"):
            return


def next_event(sub):
    while True:
        topic, seq, payload = sub.recv_multipart()
        if not topic.startswith(b"bus.heartbeat"):
            return topic, struct.unpack(">Q", seq)[0], payload


def test_an_unlisted_key_receives_nothing_and_cannot_publish(secure_bus):
    ops = secure_bus.socket(zmq.DEALER, secure_bus.ingress, "ops")
    watcher = subscribed(secure_bus, "ops", b"")
    wait_for_heartbeat(watcher)
    stranger_sub = subscribed(secure_bus, "stranger", b"")
    stranger_pub = secure_bus.socket(zmq.DEALER, secure_bus.ingress, "stranger")
    stranger_pub.send_multipart([b"PUB", b"s1", event("from-stranger")])

    assert publish(ops, b"t1", event("from-ops"))[0] == b"ACK"
    topic, _, payload = next_event(watcher)  # positive control: the event went out
    assert b"from-ops" in payload
    assert nothing_within(stranger_sub)
    assert nothing_within(stranger_pub)

    replay = secure_bus.socket(zmq.DEALER, secure_bus.replay, "ops")
    replay.send_multipart([b"REPLAY", struct.pack(">Q", 0), struct.pack(">Q", 100)])
    answers = []
    while True:
        frames = replay.recv_multipart()
        answers.append(frames)
        if frames[0] == b"END":
            break
    assert [frames[3] for frames in answers if frames[0] == b"EVENT"] and all(b"from-stranger" not in frames[-1] for frames in answers)
    failures = eventually(lambda: sum(value for name, value in secure_bus.metrics().items()
                                      if name.startswith("gridbus_auth_failures_total") and 'reason="unlisted-key"' in name) >= 2)
    assert failures
    # Counted by peer address, never by key; no key material in the log either.
    exported = "\n".join(secure_bus.metrics())
    log = (secure_bus.directory / "gridbusd.err").read_text()
    for public, secret in secure_bus.keys.values():
        for key in (public.decode(), secret.decode()):
            assert key not in exported and key not in log


def test_a_read_only_identity_reads_its_prefixes_and_its_publish_is_refused(secure_bus):
    reader_sub = subscribed(secure_bus, "reader", b"incident.", b"bus.heartbeat")
    wait_for_heartbeat(reader_sub)
    ops = secure_bus.socket(zmq.DEALER, secure_bus.ingress, "ops")
    assert publish(ops, b"t1", event("ev-1"))[0] == b"ACK"
    topic, sequence, payload = next_event(reader_sub)
    assert topic == b"incident.reported/G-1" and sequence == 1

    replay = secure_bus.socket(zmq.DEALER, secure_bus.replay, "reader")
    replay.send_multipart([b"REPLAY", struct.pack(">Q", 0), struct.pack(">Q", 10), b"incident."])
    assert replay.recv_multipart()[0] == b"EVENT"
    assert replay.recv_multipart()[0] == b"END"
    replay.send_multipart([b"REPLAY", struct.pack(">Q", 0), struct.pack(">Q", 10)])
    assert replay.recv_multipart()[:2] == [b"ERROR", b"forbidden"]
    replay.send_multipart([b"STATUS"])
    assert replay.recv_multipart()[0] == b"STATUS"

    reader_pub = secure_bus.socket(zmq.DEALER, secure_bus.ingress, "reader")
    answer = publish(reader_pub, b"t2", event("ev-2"))
    assert answer[:3] == [b"NACK", b"t2", b"forbidden"], answer
    assert b"reader" in answer[3] and b"incident.reported/G-1" in answer[3]
    metrics = secure_bus.metrics()
    assert metrics['gridbus_acl_denials_total{identity="reader",action="publish"}'] == 1
    assert metrics['gridbus_acl_denials_total{identity="reader",action="replay"}'] == 1
    assert metrics['gridbus_events_nacked_total{reason="forbidden"}'] == 1


def test_a_subscription_outside_the_acl_delivers_nothing(secure_bus):
    # "" (everything) is outside reader's incident.* and must not be applied; incident.closed is inside.
    reader_sub = subscribed(secure_bus, "reader", b"", b"incident.closed", b"bus.heartbeat")
    wait_for_heartbeat(reader_sub)
    ops = secure_bus.socket(zmq.DEALER, secure_bus.ingress, "ops")
    assert publish(ops, b"t1", event("reported", type_="incident.reported"))[0] == b"ACK"
    assert publish(ops, b"t2", event("closed", type_="incident.closed"))[0] == b"ACK"
    # Messages on one connection arrive in order: had "" been applied, the report would come first.
    topic, sequence, _ = next_event(reader_sub)
    assert (topic, sequence) == (b"incident.closed/G-1", 2)
    denials = secure_bus.metrics()['gridbus_acl_denials_total{identity="reader",action="subscribe"}']
    assert denials >= 1
    log = (secure_bus.directory / "gridbusd.err").read_text()
    assert "access denied" in log and "every topic" in log


def test_a_chain_is_open_only_to_an_identity_that_may_read_every_prefix_it_lists(secure_bus):
    # reader may read incident.* but not notification.*: the first chain is denied, the second applied.
    denied = b"bus.chain/incident.reported/|notification.sent/\n"
    allowed = b"bus.chain/incident.closed/\n"
    reader_sub = subscribed(secure_bus, "reader", denied, allowed, b"bus.heartbeat")
    wait_for_heartbeat(reader_sub)
    ops = secure_bus.socket(zmq.DEALER, secure_bus.ingress, "ops")
    assert publish(ops, b"t1", event("reported", type_="incident.reported"))[0] == b"ACK"
    assert publish(ops, b"t2", event("closed", type_="incident.closed"))[0] == b"ACK"
    # In order on one connection: had the denied chain been applied, the report's copy would come first.
    while (frames := reader_sub.recv_multipart())[0].startswith(b"bus.heartbeat"):
        pass
    assert frames[:2] == [allowed, b"incident.closed/G-1"]
    assert struct.unpack(">Q", frames[2])[0] == 2
    assert secure_bus.metrics()['gridbus_acl_denials_total{identity="reader",action="subscribe"}'] >= 1


def test_an_identity_keeps_at_most_its_share_of_chains_and_a_refused_chain_is_kept_for_another(secure_bus):
    share = 16  # EgressChains.limitPerIdentity
    mine = [b"bus.chain/incident.x%d/\n" % n for n in range(share)]
    wanted = b"bus.chain/incident.closed/\n"
    reader_sub = subscribed(secure_bus, "reader", *mine, wanted, b"bus.heartbeat")
    wait_for_heartbeat(reader_sub)
    eventually(lambda: "this identity keeps too many chains" in (secure_bus.directory / "gridbusd.err").read_text())
    assert secure_bus.metrics()["gridbus_egress_chains"] == share
    # Another identity asks for the chain the reader was refused: it is kept, for both.
    ops_sub = subscribed(secure_bus, "ops", wanted, b"bus.heartbeat")
    wait_for_heartbeat(ops_sub)
    eventually(lambda: secure_bus.metrics()["gridbus_egress_chains"] == share + 1)
    ops = secure_bus.socket(zmq.DEALER, secure_bus.ingress, "ops")
    assert publish(ops, b"t1", event("closed", type_="incident.closed"))[0] == b"ACK"
    for sub in (ops_sub, reader_sub):
        while (frames := sub.recv_multipart())[0].startswith(b"bus.heartbeat"):
            pass
        assert frames[:2] == [wanted, b"incident.closed/G-1"]


def test_a_revoked_key_is_refused_after_sighup(secure_bus):
    reader = secure_bus.socket(zmq.DEALER, secure_bus.replay, "reader")
    reader.send_multipart([b"PING"])
    assert reader.recv_multipart()[0] == b"PONG"
    reader_sub = subscribed(secure_bus, "reader", b"incident.", b"bus.heartbeat")
    wait_for_heartbeat(reader_sub)

    secure_bus.write_access("identities:\n  - name: ops\n    key-file: keys/ops.key\n    publish: ['*']\n    subscribe: ['*']\n")
    secure_bus.process.send_signal(signal.SIGHUP)
    eventually(lambda: secure_bus.metrics().get('gridbus_security_reloads_total{result="success"}') == 1)

    # The open connection: its identity is checked on every message.
    reader.send_multipart([b"PING"])
    assert reader.recv_multipart()[:2] == [b"ERROR", b"forbidden"]
    # Its live subscription ends too: the egress reopens, and the reconnection meets the ZAP handler.
    eventually(lambda: "egress reopened" in (secure_bus.directory / "gridbusd.err").read_text())
    while reader_sub.poll(0):
        reader_sub.recv_multipart()
    watcher = subscribed(secure_bus, "ops", b"incident.", b"bus.heartbeat")
    wait_for_heartbeat(watcher)
    ops_pub = secure_bus.socket(zmq.DEALER, secure_bus.ingress, "ops")
    assert publish(ops_pub, b"t1", event("after-revocation"))[0] == b"ACK"
    assert b"after-revocation" in next_event(watcher)[2]
    assert nothing_within(reader_sub)
    # A new connection: the handshake is refused.
    fresh = secure_bus.socket(zmq.DEALER, secure_bus.replay, "reader")
    fresh.send_multipart([b"PING"])
    assert nothing_within(fresh, 1000)
    # ops still works, and the bus never went down.
    ops = secure_bus.socket(zmq.DEALER, secure_bus.replay, "ops")
    ops.send_multipart([b"PING"])
    assert ops.recv_multipart()[0] == b"PONG"
    assert secure_bus.process.poll() is None

    # A broken access file keeps the policy in force.
    secure_bus.write_access("identities:\n  - name: ops\n    key-fil: keys/ops.key\n")
    secure_bus.process.send_signal(signal.SIGHUP)
    eventually(lambda: secure_bus.metrics().get('gridbus_security_reloads_total{result="failure"}') == 1)
    ops.send_multipart([b"PING"])
    assert ops.recv_multipart()[0] == b"PONG"
    assert "did you mean 'key-file'" in (secure_bus.directory / "gridbusd.err").read_text()


def hostile_peer(endpoint, rounds):
    """Random bytes, a bogus CURVE greeting and a truncated HELLO, over plain TCP."""
    host, port = endpoint.removeprefix("tcp://").rsplit(":", 1)
    for n in range(rounds):
        with tcp.create_connection((host, int(port)), timeout=2) as raw:
            if n % 3 == 0:
                raw.sendall(os.urandom(512))
            elif n % 3 == 1:
                # ZMTP 3.0 greeting announcing CURVE, then a HELLO command full of garbage.
                greeting = b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"CURVE".ljust(20, b"\x00") + b"\x00" + b"\x00" * 31
                raw.sendall(greeting + b"\x04\xc8\x05HELLO" + os.urandom(194))
            else:
                raw.sendall(b"\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f\x03")  # a greeting cut short
            try:
                raw.recv(64)
            except OSError:
                pass


def test_bogus_handshakes_and_random_bytes_do_not_stop_good_clients(secure_bus):
    import threading
    attackers = [threading.Thread(target=hostile_peer, args=(endpoint, 60))
                 for endpoint in (secure_bus.ingress, secure_bus.egress, secure_bus.replay)]
    # Plain (NULL mechanism) ZeroMQ clients against CURVE sockets, too.
    plain = secure_bus.context.socket(zmq.DEALER)
    plain.setsockopt(zmq.LINGER, 0)
    plain.connect(secure_bus.ingress)
    plain.send_multipart([b"PUB", b"x", event("plain")])
    for attacker in attackers:
        attacker.start()
    ops = secure_bus.socket(zmq.DEALER, secure_bus.ingress, "ops")
    for n in range(300):
        assert publish(ops, str(n).encode(), event(f"good-{n}"))[0] == b"ACK"
    for attacker in attackers:
        attacker.join()
    for n in range(300, 310):
        assert publish(ops, str(n).encode(), event(f"good-{n}"))[0] == b"ACK"
    assert secure_bus.process.poll() is None
    import urllib.request
    assert urllib.request.urlopen(secure_bus.http + "/healthz", timeout=5).status == 200
    assert nothing_within(plain, 200)
    # Counted by peer and reason; logged at most a few times a minute per peer, not 180 times.
    failures = {name: value for name, value in secure_bus.metrics().items() if name.startswith("gridbus_auth_failures_total")}
    assert sum(value for name, value in failures.items() if "handshake" in name) >= 60, failures
    log = (secure_bus.directory / "gridbusd.err").read_text()
    assert 1 <= log.count("authentication refused") <= 5
