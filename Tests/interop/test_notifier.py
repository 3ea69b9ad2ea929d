"""grid-notifier over the real binaries: events published on the bus with pyzmq become signed
webhooks at a real local HTTP receiver (checked with Python's hmac), retries and fallbacks, no
duplicate in effect after `kill -9`, silences over HTTP and gridctl, and the channel plugins as
shipped against a real HTTP gateway and a stand-in sendmail."""
import hashlib
import hmac
import http.server
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from datetime import datetime, timezone

import pytest
import requests

from conftest import BIN, REPO, publish, sha256
from test_intake import bus_events
from test_security import eventually

SECRET = b"interop-webhook-secret-0123456789"
KEY = "notifier-test-key"


class Receiver:
    """A webhook receiver on a free port: keeps every request; answers from a script (status codes
    for the next requests; "hang": 200 after 3 s; "large": 200 with a 256 KiB body), then 200; may
    be slowed down."""

    def __init__(self, delay=0.0):
        self.requests = []
        self.script = []
        self.delay = delay
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers["Content-Length"])
                body = self.rfile.read(length)
                if len(body) < length:
                    self.close_connection = True  # the sender died mid-request (kill -9): nothing was delivered
                    return
                with receiver.lock:
                    receiver.requests.append((self.headers, body))  # case-insensitive, as HTTP is
                    status = receiver.script.pop(0) if receiver.script else 200
                if receiver.delay or status == "hang":
                    time.sleep(3 if status == "hang" else receiver.delay)
                answer = json.dumps({"id": "hook-%d" % len(receiver.requests), "padding": "x" * (256 << 10 if status == "large" else 0)}).encode()
                status = 200 if status in ("hang", "large") else status
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self):
        with self.lock:
            return [(headers, json.loads(body), body) for headers, body in self.requests]

    def close(self):
        self.server.shutdown()


def start_notifier(tmp_path, bus, rules, *extra, fresh=True):
    data = tmp_path / "notifier"
    data.mkdir(exist_ok=True)
    secret = tmp_path / "webhook.secret"
    secret.write_bytes(SECRET + b"\n")
    secret.chmod(0o600)
    (tmp_path / "rules.yaml").write_text(rules)
    (tmp_path / "notifier-clients.yaml").write_text(f"clients:\n  - name: ops\n    key-sha256: {sha256(KEY)}\n")
    ready = data / "grid-notifier.ready"
    if ready.exists():
        ready.unlink()
    process = subprocess.Popen(
        [str(BIN / "grid-notifier"), "--data-dir", str(data), "--http-port", "0", "--log-level", "warning",
         "--district-dir", str(REPO / "deploy" / "sample"), "--rules-file", str(tmp_path / "rules.yaml"),
         "--webhook-secret-file", str(secret), "--channels-dir", str(tmp_path / "no-channels"),
         "--auth-keys-file", str(tmp_path / "notifier-clients.yaml"), "--delivery-interval", "20ms",
         "--bus-ingress", bus.ingress, "--bus-egress", bus.egress, "--bus-replay", bus.replay, *extra],
        stderr=open(tmp_path / "grid-notifier.err", "ab"))
    eventually(lambda: ready.exists() or process.poll() is not None, timeout=30)
    assert process.poll() is None, (tmp_path / "grid-notifier.err").read_text()
    return process, json.loads(ready.read_text())["http"]


def stop(process):
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0


def cloud_event(event_id, type_, data, subject=None, grid="G-01-01-01"):
    body = {"specversion": "1.0", "id": event_id, "source": "grid-dispatcher", "type": type_, "datacontenttype": "application/json",
            "time": "2026-11-27T02:00:00Z", "grid": grid, "data": {"schemaVersion": 1, **data}}
    if subject:
        body["subject"] = subject
    return json.dumps(body).encode()


def dispatch(ingress, incident, assignee, priority="normal"):
    """The dispatcher's registered and dispatched events for one incident, published with pyzmq."""
    for event in [
        cloud_event(f"{incident}-1", "incident.registered", {"incidentId": incident, "category": "E-01-02", "grid": "G-01-01-01",
                                                            "priority": priority, "deadline": "2026-11-27T04:00:00Z"}, incident),
        cloud_event(f"{incident}-2", "incident.dispatched", {"incidentId": incident, "assignees": [assignee], "role": "grid-worker",
                                                            "acknowledgeBy": "2026-11-27T02:30:00Z", "deadline": "2026-11-27T04:00:00Z",
                                                            "policy": "least-load"}, incident),
    ]:
        assert publish(ingress, incident.encode(), event)[0] == b"ACK"


# No quiet hours: the tests run at any hour of the day.
WEBHOOK_RULES = """
group-wait: 0s
quiet-hours: {roles: {}}
channel-order: [webhook, log]
routes:
  - match: {type: [incident.dispatched, incident.escalated]}
    to: [assignees]
retry: {initial: 100ms, max: 400ms, deadline: 3s}
"""

MEMBERS = ["m-00001", "m-00002", "m-00028", "m-00029"]


def test_webhooks_are_signed_and_every_delivery_is_on_the_bus(bus, tmp_path):
    receiver = Receiver()
    process, _ = start_notifier(tmp_path, bus, WEBHOOK_RULES, "--webhook-url", receiver.url)
    try:
        ingress = bus.dealer(bus.ingress)
        for number, member in enumerate(MEMBERS[:3]):
            dispatch(ingress, f"inc-{number}", member)
        bodies = eventually(lambda: len(found := receiver.bodies()) >= 3 and found, timeout=20)
        for headers, body, raw in bodies:
            expected = "sha256=" + hmac.new(SECRET, headers["X-GridBus-Timestamp"].encode() + b"." + raw, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(headers["X-GridBus-Signature"], expected)
            assert headers["Idempotency-Key"] == body["messageId"] and headers["Content-Type"] == "application/json"
            assert abs(int(headers["X-GridBus-Timestamp"]) - time.time()) < 60
            [notice] = body["notifications"]
            assert notice["type"] == "incident.dispatched" and notice["incidentId"] in notice["text"]
        assert sorted(b["recipient"]["id"] for _, b, _ in bodies) == sorted(MEMBERS[:3])
        # A tampered body does not verify: the check above can fail.
        headers, _, raw = bodies[0]
        assert not hmac.compare_digest(headers["X-GridBus-Signature"],
                                       "sha256=" + hmac.new(SECRET, headers["X-GridBus-Timestamp"].encode() + b"." + raw + b" ", hashlib.sha256).hexdigest())
        sent = eventually(lambda: len(found := bus_events(bus, b"notification.sent")) >= 3 and found, timeout=15)
        assert sorted(e["data"]["recipient"] for e in sent) == sorted(MEMBERS[:3])
        assert {e["data"]["channel"] for e in sent} == {"webhook"} and all(e["source"] == "grid-notifier" for e in sent)
    finally:
        stop(process)
        receiver.close()


def test_a_503_is_retried_and_a_400_falls_back_to_the_next_channel(bus, tmp_path):
    receiver = Receiver()
    receiver.script = [503, 503]
    process, _ = start_notifier(tmp_path, bus, WEBHOOK_RULES, "--webhook-url", receiver.url)
    try:
        ingress = bus.dealer(bus.ingress)
        dispatch(ingress, "inc-retry", "m-00001")
        eventually(lambda: len(receiver.bodies()) == 3, timeout=20)
        ids = {b["messageId"] for _, b, _ in receiver.bodies()}
        assert len(ids) == 1  # one message, tried three times under one id
        assert [b["attempt"] for _, b, _ in receiver.bodies()] == [1, 2, 3]
        sent = eventually(lambda: bus_events(bus, b"notification.sent"), timeout=15)
        assert sent[0]["data"]["attempts"] == 3

        receiver.script = [400]
        dispatch(ingress, "inc-bad", "m-00002")
        failed = eventually(lambda: bus_events(bus, b"notification.failed"), timeout=15)
        assert failed[0]["data"]["channel"] == "webhook" and "HTTP 400" in failed[0]["data"]["reason"]
        log = tmp_path / "notifier" / "notifications.jsonl"
        lines = eventually(lambda: log.exists() and [json.loads(line) for line in log.read_text().splitlines()], timeout=15)
        assert lines[0]["channel"] == "log" and lines[0]["notifications"][0]["incidentId"] == "inc-bad"
    finally:
        stop(process)
        receiver.close()


def test_a_receiver_that_does_not_answer_in_time_is_tried_again_and_a_large_answer_counts(bus, tmp_path):
    receiver = Receiver()
    receiver.script = ["hang", "large"]
    process, _ = start_notifier(tmp_path, bus, WEBHOOK_RULES, "--webhook-url", receiver.url, "--webhook-timeout", "500ms")
    try:
        dispatch(bus.dealer(bus.ingress), "inc-slow", "m-00001")
        sent = eventually(lambda: bus_events(bus, b"notification.sent"), timeout=15)
        assert sent[0]["data"]["attempts"] == 2 and sent[0]["data"]["channel"] == "webhook"
        assert [b["attempt"] for _, b, _ in receiver.bodies()] == [1, 2]
        assert not bus_events(bus, b"notification.failed")
    finally:
        stop(process)
        receiver.close()


def test_no_duplicate_in_effect_after_kill_9_mid_burst(bus, tmp_path):
    """300 dispatches; the notifier is killed with -9 while the receiver is busy, then started again.
    Every notice arrives; a message in flight at the kill may arrive twice, but then under the same
    Idempotency-Key, so a receiver that drops repeated keys sees each notice once."""
    count = 300
    receiver = Receiver(delay=0.005)
    process, _ = start_notifier(tmp_path, bus, WEBHOOK_RULES, "--webhook-url", receiver.url, "--webhook-concurrency", "4")
    members = [line.split(",")[0] for line in (REPO / "deploy" / "sample" / "roster.csv").read_text().splitlines()[1:]][:count]
    ingress = bus.dealer(bus.ingress)
    for number in range(count):
        dispatch(ingress, f"inc-{number:04d}", members[number])
    eventually(lambda: len(receiver.bodies()) >= count // 3, timeout=60)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    process, _ = start_notifier(tmp_path, bus, WEBHOOK_RULES, "--webhook-url", receiver.url)
    try:
        def effects():
            seen, notices = set(), []
            for headers, body, _ in receiver.bodies():
                if headers["Idempotency-Key"] in seen:
                    continue  # what a receiver does with a repeated key
                seen.add(headers["Idempotency-Key"])
                notices += [n["incidentId"] for n in body["notifications"]]
            return notices
        notices = eventually(lambda: len(found := effects()) >= count and found, timeout=90)
        assert sorted(notices) == [f"inc-{n:04d}" for n in range(count)]  # all there, none twice
        by_key = {}
        for headers, body, _ in receiver.bodies():
            by_key.setdefault(headers["Idempotency-Key"], set()).add(tuple(n["id"] for n in body["notifications"]))
        assert all(len(contents) == 1 for contents in by_key.values())  # a repeated key is the same message
        sent = eventually(lambda: len(found := bus_events(bus, b"notification.sent")) >= count and found, timeout=30)
        assert len({e["data"]["notificationId"] for e in sent}) == len(sent) == count
    finally:
        stop(process)
        receiver.close()


def test_silences_over_http_and_gridctl(bus, tmp_path):
    receiver = Receiver()
    process, url = start_notifier(tmp_path, bus, WEBHOOK_RULES, "--webhook-url", receiver.url)
    auth = {"Authorization": f"Bearer {KEY}"}
    gridctl = lambda *args: subprocess.run([str(BIN / "gridctl"), *args, "--notifier", url, "--api-key", KEY],
                                           capture_output=True, text=True, timeout=30)
    try:
        assert requests.get(f"{url}/v1/silences", timeout=5).status_code == 401
        bad = requests.post(f"{url}/v1/silences", json={"matchers": {}, "duration": "soon"}, headers=auth, timeout=5)
        assert bad.status_code == 400 and {e["field"] for e in bad.json()["errors"]} == {"matchers", "duration", "createdBy"}
        created = requests.post(f"{url}/v1/silences", json={"matchers": {"recipient": "m-00001"}, "duration": "1h", "createdBy": "ops",
                                                            "comment": "on leave"}, headers=auth, timeout=5)
        assert created.status_code == 201
        silence = created.json()
        added = gridctl("silence", "add", "--grid", "G-01-01", "--type", "reminder", "--duration", "30m", "--by", "ops")
        assert added.returncode == 0, added.stderr
        listed = json.loads(gridctl("silence", "list").stdout)["silences"]
        assert {s["id"] for s in listed} == {silence["id"], json.loads(added.stdout)["id"]}
        assert gridctl("silence", "add", "--duration", "1h", "--by", "ops").returncode != 0  # no matcher

        ingress = bus.dealer(bus.ingress)
        dispatch(ingress, "inc-quiet", "m-00001")  # silenced
        dispatch(ingress, "inc-loud", "m-00002")
        eventually(lambda: len(receiver.bodies()) >= 1, timeout=15)
        time.sleep(0.5)
        assert [b["notifications"][0]["incidentId"] for _, b, _ in receiver.bodies()] == ["inc-loud"]
        log = requests.get(f"{url}/v1/notifications", params={"incident": "inc-quiet"}, headers=auth, timeout=5).json()["notifications"]
        assert log[0]["status"] == "silenced" and silence["id"] in log[0]["detail"]

        assert gridctl("silence", "expire", silence["id"]).returncode == 0
        assert json.loads(gridctl("silence", "list").stdout)["silences"][0]["id"] != silence["id"]
        assert gridctl("silence", "expire", "s-nope").returncode == 1
    finally:
        stop(process)
        receiver.close()


def test_the_reminders_to_come_over_http(bus, tmp_path):
    receiver = Receiver()
    process, url = start_notifier(tmp_path, bus, WEBHOOK_RULES, "--webhook-url", receiver.url)
    auth = {"Authorization": f"Bearer {KEY}"}
    reminders = lambda **params: requests.get(f"{url}/v1/reminders", params=params, headers=auth, timeout=5)
    try:
        assert requests.get(f"{url}/v1/reminders", timeout=5).status_code == 401
        ingress = bus.dealer(bus.ingress)
        dispatch(ingress, "inc-remind-1", "m-00001")
        dispatch(ingress, "inc-remind-2", "m-00002")
        listed = eventually(lambda: len(found := reminders().json()["reminders"]) == 2 and found, timeout=15)
        assert {(r["incident"], r["recipient"], r["sent"], r["left"]) for r in listed} == {("inc-remind-1", "m-00001", 0, 3), ("inc-remind-2", "m-00002", 0, 3)}
        # The default repeat.interval, 15 minutes from the dispatch.
        next_at = datetime.fromisoformat(listed[0]["nextAt"].replace("Z", "+00:00"))
        assert 14 * 60 < (next_at - datetime.now(timezone.utc)).total_seconds() <= 15 * 60
        assert [r["incident"] for r in reminders(recipient="m-00002").json()["reminders"]] == ["inc-remind-2"]
        assert len(reminders(limit="1").json()["reminders"]) == 1
        bad = reminders(limit="0")
        assert bad.status_code == 400 and [e["field"] for e in bad.json()["errors"]] == ["limit"]
        listed_by_gridctl = subprocess.run([str(BIN / "gridctl"), "reminders", "--incident", "inc-remind-1", "--notifier", url, "--api-key", KEY],
                                           capture_output=True, text=True, timeout=30)
        assert listed_by_gridctl.returncode == 0, listed_by_gridctl.stderr
        assert [r["recipient"] for r in json.loads(listed_by_gridctl.stdout)["reminders"]] == ["m-00001"]
    finally:
        stop(process)
        receiver.close()


def test_metrics_show_the_notices_in_flight_without_a_key_and_pass_promtool(bus, tmp_path):
    receiver = Receiver(delay=3.0)  # a slow gateway: the messages stay in flight for 3 s
    process, url = start_notifier(tmp_path, bus, WEBHOOK_RULES, "--webhook-url", receiver.url)

    def sample(text, series):
        values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(series + " ")]
        return values[0] if values else None

    try:
        idle = requests.get(f"{url}/metrics", timeout=5)
        assert idle.status_code == 200 and idle.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert sample(idle.text, 'gridbus_notifier_due{kind="reminder"}') == 0 and sample(idle.text, 'gridbus_notifier_due{kind="notice"}') == 0
        assert sample(idle.text, "gridbus_notifier_log_removed_total") == 0

        ingress = bus.dealer(bus.ingress)
        for number, member in enumerate(MEMBERS[:3]):
            dispatch(ingress, f"inc-metrics-{number}", member)
        in_flight = 'gridbus_notifier_open_notices{status="sending",channel="webhook"}'
        busy = eventually(lambda: sample(text := requests.get(f"{url}/metrics", timeout=5).text, in_flight) == 3 and text, timeout=15)
        promtool = shutil.which("promtool")
        assert promtool, "promtool is missing: make test installs Debian's prometheus package"
        checked = subprocess.run([promtool, "check", "metrics"], input=busy, capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stdout + checked.stderr

        # Answered: nothing open, nothing due (the series stay, at 0).
        settled = eventually(lambda: sample(text := requests.get(f"{url}/metrics", timeout=5).text, in_flight) == 0 and text, timeout=20)
        assert sample(settled, 'gridbus_notifier_open_notices{status="pending",channel="webhook"}') == 0
        assert sample(settled, 'gridbus_notifier_open_notices{status="retry",channel="log"}') == 0
        assert sample(settled, 'gridbus_notifier_due_age_seconds{kind="notice"}') == 0
        assert len(receiver.bodies()) == 3
    finally:
        stop(process)
        receiver.close()


def test_a_notification_log_max_age_under_a_day_is_refused_at_start(tmp_path):
    started = subprocess.run(
        [str(BIN / "grid-notifier"), "--auth-mode", "none", "--data-dir", str(tmp_path / "data"), "--notification-log-max-age", "12h"],
        capture_output=True, text=True, timeout=30)
    assert started.returncode != 0
    assert "notification-log.max-age" in started.stderr and "'12h'" in started.stderr and "at least 1d" in started.stderr, started.stderr


def run_channel(script, envelope, **environment):
    return subprocess.run([str(REPO / "plugins" / "channels" / script)], input=json.dumps(envelope).encode(), capture_output=True,
                          timeout=30, env={**os.environ, **environment})


ENVELOPE = {"messageId": "m-1", "channel": "sms", "address": "13159636558", "subject": "网格通知", "text": "【网格】新派单 inc-1",
            "recipient": {"id": "m-00001", "name": "罗军", "language": "zh"}, "notifications": [], "attempt": 1}


def test_the_sms_plugin_against_a_real_gateway():
    gateway = Receiver()
    try:
        done = run_channel("sms-gateway.py", ENVELOPE, SMS_GATEWAY_URL=gateway.url, SMS_GATEWAY_TOKEN="t0k")
        assert done.returncode == 0 and json.loads(done.stdout)["providerMessageId"] == "hook-1"
        headers, body, _ = gateway.bodies()[0]
        assert body == {"to": "13159636558", "text": "【网格】新派单 inc-1", "reference": "m-1"}
        assert headers["Idempotency-Key"] == "m-1" and headers["Authorization"] == "Bearer t0k"
        gateway.script = [503, 400]
        assert run_channel("sms-gateway.py", ENVELOPE, SMS_GATEWAY_URL=gateway.url).returncode == 75
        refused = run_channel("sms-gateway.py", ENVELOPE, SMS_GATEWAY_URL=gateway.url)
        assert refused.returncode == 1 and b"400" in refused.stderr
        assert run_channel("sms-gateway.py", ENVELOPE, SMS_GATEWAY_URL="http://127.0.0.1:9/none").returncode == 75
        unset = run_channel("sms-gateway.py", ENVELOPE, SMS_GATEWAY_URL="")
        assert unset.returncode == 1 and b"SMS_GATEWAY_URL" in unset.stderr
    finally:
        gateway.close()


def test_the_email_plugin_hands_a_utf8_message_to_sendmail(tmp_path):
    spool = tmp_path / "mail.eml"
    fake = tmp_path / "sendmail"
    fake.write_text(f"#!/bin/sh\n[ \"$1\" = -t ] && [ \"$2\" = -oi ] || exit 64\ncat > {spool}\n")
    fake.chmod(0o755)
    done = run_channel("sendmail.py", {**ENVELOPE, "address": "m-00028@grid.example.org"}, SENDMAIL=str(fake), EMAIL_FROM="ops@example.org")
    assert done.returncode == 0, done.stderr
    import email
    import email.policy
    message = email.message_from_bytes(spool.read_bytes(), policy=email.policy.default)
    assert message["To"] == "m-00028@grid.example.org" and message["From"] == "ops@example.org" and message["Subject"] == "网格通知"
    assert message.get_content().strip() == "【网格】新派单 inc-1"
    fake.write_text("#!/bin/sh\ncat > /dev/null\nexit 75\n")
    assert run_channel("sendmail.py", ENVELOPE, SENDMAIL=str(fake)).returncode == 75
    assert run_channel("sendmail.py", ENVELOPE, SENDMAIL=str(tmp_path / "missing")).returncode == 1
