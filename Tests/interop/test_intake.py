"""grid-intake over real HTTP (requests) in front of a real gridbusd: the native API, validation,
keys and limits, idempotency, triage, the lifecycle, and delivery to the bus."""
import json
import struct
import time

import pytest
import requests
import zmq

from conftest import event, intake_on, publish
from test_interop import check_event
from test_security import eventually


@pytest.fixture(params=["sqlite", "postgresql"])
def intake(tmp_path, request):
    """The intake on either store backend (conftest's is on SQLite)."""
    yield from intake_on(request.param, tmp_path, request)


REPORT = {"category": "E-01-02", "description": "Exposed rubbish by the east gate",
          "location": {"latitude": 30.2, "longitude": 120.15},
          "reporter": {"name": "Li", "phone": "+86 138 0000 0000", "wantsUpdates": True},
          "mediaUrls": ["https://example.org/p.jpg"]}


def parse_time(text):
    from datetime import datetime
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def bus_events(bus, prefix=b"incident.reported"):
    """Every journaled event under `prefix`, through replay."""
    dealer = bus.dealer(bus.replay)
    dealer.send_multipart([b"REPLAY", struct.pack(">Q", 0), struct.pack(">Q", 10_000), prefix])
    events = []
    while True:
        frames = dealer.recv_multipart()
        if frames[0] == b"END":
            return events
        events.append(json.loads(frames[3]))


def post(intake, body, client="hotline", **headers):
    return requests.post(intake.url + "/v1/incidents", json=body, headers=intake.headers(client, **headers), timeout=10)


def test_a_report_is_filed_resolved_to_its_grid_and_published(intake):
    response = post(intake, REPORT)
    assert response.status_code == 201, response.text
    incident = response.json()
    assert incident["id"].startswith("inc-") and response.headers["Location"] == f"/v1/incidents/{incident['id']}"
    assert incident["grid"] == "G-04-03-05" and incident["status"] == "reported" and incident["channel"] == "hotline"
    assert incident["agency"].startswith("环卫所") and incident["priority"] == "normal"
    assert [step["type"] for step in incident["timeline"]] == ["incident.reported"]
    fetched = requests.get(f"{intake.url}/v1/incidents/{incident['id']}", headers=intake.headers(), timeout=10)
    assert fetched.status_code == 200 and fetched.json() == incident
    published = eventually(lambda: bus_events(intake.bus))
    assert len(published) == 1
    raw = json.dumps(published[0]).encode()
    cloud_event = check_event(raw)  # the CloudEvents SDK and the exported JSON Schemas accept it
    assert cloud_event.get_type() == "incident.reported" and published[0]["grid"] == "G-04-03-05"
    assert published[0]["data"]["incidentId"] == incident["id"] and published[0]["data"]["reporter"]["wantsUpdates"] is True


@pytest.mark.parametrize("body,field,reason", [
    ({"description": "x"}, "category", "is required"),
    ({**REPORT, "category": "Z-99-99"}, "category", "not in the catalogue"),
    ({**REPORT, "description": "x" * 4001}, "description", "at most 4000"),
    ({**REPORT, "description": "<script>alert(1)</script>"}, "description", "HTML"),
    ({**REPORT, "description": "bell\u0007"}, "description", "control characters"),
    ({**REPORT, "description": "   "}, "description", "must not be empty"),
    ({**REPORT, "location": {"latitude": 91, "longitude": 120}}, "location.latitude", "out of range"),
    ({**REPORT, "location": {"latitude": 30, "longitude": "east"}}, "location.longitude", "must be a number"),
    ({**REPORT, "location": {"latitude": 30}}, "location.longitude", "is required"),
    ({**REPORT, "location": [30, 120]}, "location", "must be an object"),
    ({**REPORT, "mediaUrls": ["ftp://example.org/p.jpg"]}, "mediaUrls[0]", "http or https"),
    ({**REPORT, "mediaUrls": ["javascript:alert(1)"]}, "mediaUrls[0]", "http or https"),
    ({**REPORT, "mediaUrls": ["https://e.org/%d.jpg" % n for n in range(11)]}, "mediaUrls", "at most 10"),
    ({**REPORT, "priority": "asap"}, "priority", "normal, urgent, emergency"),
    ({**REPORT, "channel": "pigeon"}, "channel", "app, hotline"),
    ({**REPORT, "grid": "G-99"}, "grid", "not a grid"),
    ({**REPORT, "externalId": ""}, "externalId", "must not be empty"),
    ({**REPORT, "reportedAt": "yesterday"}, "reportedAt", "RFC 3339"),
    ({**REPORT, "reporter": {"phone": "call me"}}, "reporter.phone", "digits"),
    ({**REPORT, "reporter": {"wantsUpdates": "yes"}}, "reporter.wantsUpdates", "true or false"),
    ({**REPORT, "address": "<img src=x>"}, "address", "HTML"),
    ({**REPORT, "color": "red"}, "color", "unknown field"),
])
def test_every_validation_rule_answers_400_with_the_field_and_the_reason(intake, body, field, reason):
    response = post(intake, body)
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert any(e["field"] == field and reason in e["reason"] for e in errors), errors
    assert bus_events(intake.bus) == []


def test_bodies_that_are_not_reports(intake):
    for raw in [b"not json", b"[1,2]", b"", b"\xff\xfe"]:
        response = requests.post(intake.url + "/v1/incidents", data=raw, headers=intake.headers(), timeout=10)
        assert response.status_code == 400, (raw, response.text)
        assert response.json()["errors"][0]["field"] == ""
    big = requests.post(intake.url + "/v1/incidents", data=b"{" + b" " * 70_000 + b"}", headers=intake.headers(), timeout=10)
    assert big.status_code == 413


def test_keys_and_rate_limits(intake):
    assert requests.post(intake.url + "/v1/incidents", json=REPORT, timeout=10).status_code == 401
    wrong = requests.post(intake.url + "/v1/incidents", json=REPORT, headers={"Authorization": "Bearer nope"}, timeout=10)
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"] == "Bearer"
    header = requests.post(intake.url + "/v1/incidents", json=REPORT, headers={"X-API-Key": intake.keys["app"]}, timeout=10)
    assert header.status_code == 201 and header.json()["channel"] == "app"
    # "slow" may send 1 a second, in bursts of 2.
    answers = [post(intake, REPORT, client="slow").status_code for _ in range(4)]
    assert answers[:2] == [201, 201] and 429 in answers[2:]
    limited = post(intake, REPORT, client="slow")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert "hotline-secret-1" not in (intake.tmp_path / "clients.yaml").read_text()  # only hashes are stored


def test_a_retry_returns_the_same_incident_and_publishes_once(intake):
    first = post(intake, REPORT, **{"Idempotency-Key": "call-17"})
    again = post(intake, REPORT, **{"Idempotency-Key": "call-17"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    reused = post(intake, {**REPORT, "description": "something else"}, **{"Idempotency-Key": "call-17"})
    assert reused.status_code == 422 and reused.json()["errors"][0]["field"] == "Idempotency-Key"
    by_external = [post(intake, {**REPORT, "externalId": "app-77"}).json()["id"] for _ in range(3)]
    assert len(set(by_external)) == 1
    # Keys are per client: another system may use the same Idempotency-Key for its own report.
    other = post(intake, REPORT, client="app", **{"Idempotency-Key": "call-17"})
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    time.sleep(0.5)  # a duplicate would have been published by now
    published = eventually(lambda: len(found := bus_events(intake.bus)) >= 3 and found)
    ids = [e["data"]["incidentId"] for e in published]
    assert sorted(ids) == sorted({first.json()["id"], by_external[0], other.json()["id"]})


def test_a_report_outside_every_grid_waits_in_triage(intake):
    outside = post(intake, {**REPORT, "location": {"latitude": 10.0, "longitude": 10.0}}).json()
    assert outside["status"] == "triage" and "grid" not in outside and "manual triage" in outside["statusNotes"]
    nowhere = post(intake, {k: v for k, v in REPORT.items() if k != "location"}).json()
    assert nowhere["status"] == "triage"
    chosen = post(intake, {**REPORT, "grid": "G-01-01-01", "location": {"latitude": 10.0, "longitude": 10.0}}).json()
    assert chosen["grid"] == "G-01-01-01" and chosen["status"] == "reported"  # the reporter's grid wins
    events = eventually(lambda: len(found := bus_events(intake.bus)) == 3 and found)
    assert sum(1 for e in events if "grid" not in e) == 2  # published without a grid: topic incident.reported/-


def test_listing_filters_and_pages(intake):
    created = []
    for n in range(7):
        grid = "G-01-01-01" if n % 2 == 0 else "G-01-01-02"
        created.append(post(intake, {**REPORT, "grid": grid, "category": "E-01-02" if n < 5 else "C-01-05"}).json())
    page = requests.get(intake.url + "/v1/incidents", params={"grid": "G-01-01-01", "limit": 2}, headers=intake.headers(), timeout=10).json()
    seen = [i["id"] for i in page["incidents"]]
    while page["next"]:
        page = requests.get(intake.url + "/v1/incidents", params={"grid": "G-01-01-01", "limit": 2, "cursor": page["next"]},
                            headers=intake.headers(), timeout=10).json()
        seen += [i["id"] for i in page["incidents"]]
    expected = [i["id"] for i in reversed(created) if i["grid"] == "G-01-01-01"]
    assert seen == expected  # newest first, no repeats, nothing skipped
    by_category = requests.get(intake.url + "/v1/incidents", params={"category": "C-01-05"}, headers=intake.headers(), timeout=10).json()
    assert len(by_category["incidents"]) == 2
    future = requests.get(intake.url + "/v1/incidents", params={"since": "2099-01-01T00:00:00Z"}, headers=intake.headers(), timeout=10).json()
    assert future["incidents"] == [] and future["next"] is None
    for params, field in [({"status": "lost"}, "status"), ({"limit": "0"}, "limit"), ({"since": "soon"}, "since"),
                          ({"cursor": "abc"}, "cursor"), ({"colour": "red"}, "colour")]:
        bad = requests.get(intake.url + "/v1/incidents", params=params, headers=intake.headers(), timeout=10)
        assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == field, bad.text
    missing = requests.get(intake.url + "/v1/incidents/inc-NOPE", headers=intake.headers(), timeout=10)
    assert missing.status_code == 404
    # Another client sees the incident, not who reported it.
    foreign = requests.get(f"{intake.url}/v1/incidents/{created[0]['id']}", headers=intake.headers("app"), timeout=10).json()
    assert "reporter" not in foreign and foreign["id"] == created[0]["id"]


def lifecycle(intake, incident_id, type_, data, event_id):
    publisher = intake.bus.dealer(intake.bus.ingress)
    body = {"specversion": "1.0", "id": event_id, "source": "grid-dispatcher", "type": type_, "time": "2026-11-27T11:00:00Z",
            "datacontenttype": "application/json", "data": {"schemaVersion": 1, "incidentId": incident_id, **data}}
    assert publish(publisher, b"t", json.dumps(body).encode())[0] == b"ACK"


def test_get_answers_follow_the_lifecycle_on_the_bus(intake):
    incident = post(intake, REPORT).json()
    iid = incident["id"]
    lifecycle(intake, iid, "incident.registered", {"category": "E-01-02", "grid": "G-04-03-05", "priority": "normal",
                                                    "deadline": "2026-11-28T10:00:00Z"}, "e1")
    lifecycle(intake, iid, "incident.dispatched", {"assignees": ["m-00001"], "role": "grid-worker",
                                                    "acknowledgeBy": "2026-11-27T12:00:00Z", "deadline": "2026-11-28T09:00:00Z"}, "e2")
    lifecycle(intake, iid, "incident.handled", {"by": "m-00001", "note": "cleared"}, "e3")
    lifecycle(intake, iid, "incident.handled", {"by": "m-00001", "note": "cleared"}, "e3")  # a duplicate: applied once
    current = eventually(lambda: (r := requests.get(f"{intake.url}/v1/incidents/{iid}", headers=intake.headers(), timeout=10).json())
                         ["status"] == "handled" and r)
    assert [s["type"] for s in current["timeline"]] == ["incident.reported", "incident.registered", "incident.dispatched", "incident.handled"]
    assert parse_time(current["deadline"]) == parse_time("2026-11-28T09:00:00Z") and current["statusNotes"] == "cleared"
    open311 = requests.get(f"{intake.url}/open311/v2/requests/{iid}.json", timeout=10).json()[0]
    assert open311["status"] == "open" and parse_time(open311["expected_datetime"]) == parse_time("2026-11-28T09:00:00Z")
    lifecycle(intake, iid, "incident.closed", {"by": "m-00002", "onTime": True}, "e4")
    eventually(lambda: requests.get(f"{intake.url}/open311/v2/requests/{iid}.json", timeout=10).json()[0]["status"] == "closed")


def test_a_late_earlier_step_joins_the_timeline_without_setting_the_status(intake):
    """The bus may journal a publish retried after a NACK after a later one: the dispatcher's steps
    (ids <incident>-<n>) arriving 1, 3, 2 leave the status at step 3 and the timeline in step order."""
    iid = post(intake, REPORT).json()["id"]
    lifecycle(intake, iid, "incident.registered", {"category": "E-01-02", "grid": "G-04-03-05", "priority": "normal",
                                                    "deadline": "2026-11-28T10:00:00Z"}, f"{iid}-1")
    lifecycle(intake, iid, "incident.acknowledged", {"by": "m-00001"}, f"{iid}-3")
    eventually(lambda: requests.get(f"{intake.url}/v1/incidents/{iid}", headers=intake.headers(), timeout=10).json()["status"] == "acknowledged")
    lifecycle(intake, iid, "incident.dispatched", {"assignees": ["m-00001"], "role": "grid-worker",
                                                    "acknowledgeBy": "2026-11-27T12:00:00Z", "deadline": "2026-11-28T09:00:00Z"}, f"{iid}-2")
    current = eventually(lambda: len((r := requests.get(f"{intake.url}/v1/incidents/{iid}", headers=intake.headers(), timeout=10).json())
                                     ["timeline"]) == 4 and r)
    assert current["status"] == "acknowledged"
    assert [s["type"] for s in current["timeline"]] == ["incident.reported", "incident.registered", "incident.dispatched", "incident.acknowledged"]
    assert [s.get("step") for s in current["timeline"]] == [None, 1, 2, 3]


def test_reports_accepted_while_the_daemon_is_down_reach_it_once_it_is_back(tmp_path):
    from conftest import CLIENTS, Intake as IntakeProcess, start_gridbusd, stop_gridbusd, write_clients
    ctx = zmq.Context.instance()
    ports = []
    for _ in range(3):
        probe = ctx.socket(zmq.ROUTER)
        ports.append(probe.bind_to_random_port("tcp://127.0.0.1"))
        probe.close(0)
    endpoints = {"ingress": f"tcp://127.0.0.1:{ports[0]}", "egress": f"tcp://127.0.0.1:{ports[1]}", "replay": f"tcp://127.0.0.1:{ports[2]}"}
    write_clients(tmp_path / "clients.yaml")
    intake = IntakeProcess(tmp_path, endpoints, {name: value[0] for name, value in CLIENTS.items()}).start()
    ids = [post(intake, {**REPORT, "externalId": f"down-{n}"}).json()["id"] for n in range(20)]
    process, ready = start_gridbusd(tmp_path, "--security-mode", "none", "--bus-ingress", endpoints["ingress"],
                                    "--bus-egress", endpoints["egress"], "--bus-replay", endpoints["replay"])
    from conftest import Bus
    bus = Bus(process, ready, tmp_path)
    published = eventually(lambda: len(found := bus_events(bus)) >= 20 and found, timeout=20)
    assert sorted(e["data"]["incidentId"] for e in published) == sorted(ids)
    intake.stop()
    stop_gridbusd(process, tmp_path)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kill_9_between_commit_and_publish_loses_nothing(tmp_path, backend, request):
    """Reports are committed while the daemon is away; the intake is killed with them in its outbox
    (a file of its own, or its schema in PostgreSQL)."""
    import signal as signals
    from conftest import Bus, CLIENTS, Intake as IntakeProcess, start_gridbusd, stop_gridbusd, store_flags, write_clients
    process, ready = start_gridbusd(tmp_path, "--security-mode", "none")
    write_clients(tmp_path / "clients.yaml")
    intake = IntakeProcess(tmp_path, ready, {name: value[0] for name, value in CLIENTS.items()}, store_flags(backend, request)).start()
    first = [post(intake, {**REPORT, "externalId": f"a-{n}"}).json()["id"] for n in range(30)]
    stop_gridbusd(process, tmp_path)  # from here on, answered reports wait in the outbox
    second = [post(intake, {**REPORT, "externalId": f"b-{n}"}).json()["id"] for n in range(30)]
    intake.process.send_signal(signals.SIGKILL)
    intake.process.wait(timeout=10)
    process, ready = start_gridbusd(tmp_path, "--security-mode", "none", "--bus-ingress", ready["ingress"],
                                    "--bus-egress", ready["egress"], "--bus-replay", ready["replay"])
    intake.start()
    published = eventually(lambda: len(found := bus_events(Bus(process, ready, tmp_path))) >= 60 and found, timeout=20)
    ids = [e["data"]["incidentId"] for e in published]
    assert sorted(ids) == sorted(first + second) and len(ids) == len(set(ids))  # all of them, once each
    again = post(intake, {**REPORT, "externalId": "b-3"})
    assert again.status_code == 200 and again.json()["id"] == second[3]  # the store survived the kill too
    intake.stop()
    stop_gridbusd(process, tmp_path)
