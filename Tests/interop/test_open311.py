"""Open311 GeoReport v2 conformance, written from the spec (https://wiki.open311.org/GeoReport_v2),
in JSON and XML, against a real grid-intake; then the OpenAPI document against the server."""
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import intake_on
from test_intake import REPORT, bus_events, lifecycle, post
from test_security import eventually


@pytest.fixture(params=["sqlite", "postgresql"])
def intake(tmp_path, request):
    """The intake on either store backend (conftest's is on SQLite)."""
    yield from intake_on(request.param, tmp_path, request)


V2 = "/open311/v2"


def get(intake, path, **params):
    return requests.get(intake.url + V2 + path, params=params, timeout=10)


def submit(intake, fmt="json", key="hotline", **fields):
    data = {"service_code": "E-01-02", "lat": "30.2", "long": "120.15", "description": "Overflowing bin", **fields}
    if key:
        data["api_key"] = intake.keys[key]
    return requests.post(f"{intake.url}{V2}/requests.{fmt}", data=data, timeout=10)


def errors(response, fmt):
    """The spec's error list, from either format: [(code, description)]."""
    if fmt == "json":
        return [(e["code"], e["description"]) for e in response.json()]
    root = ET.fromstring(response.content)
    assert root.tag == "errors"
    return [(int(e.find("code").text), e.find("description").text) for e in root.findall("error")]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_list_and_definitions(intake, fmt):
    response = get(intake, f"/services.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        assert response.headers["Content-Type"].startswith("application/json")
        services = response.json()
    else:
        assert response.headers["Content-Type"].startswith("text/xml")
        root = ET.fromstring(response.content)
        assert root.tag == "services"
        services = [{child.tag: child.text for child in service} for service in root.findall("service")]
    assert len(services) == 55
    rubbish = next(s for s in services if s["service_code"] == "E-01-02")
    assert set(rubbish) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert rubbish["type"] == "realtime" and "Exposed rubbish" in rubbish["service_name"] and rubbish["group"].startswith("市容环境")
    assert rubbish["metadata"] in (True, "true")

    definition = get(intake, f"/services/E-01-02.{fmt}")
    assert definition.status_code == 200
    if fmt == "json":
        body = definition.json()
        assert body["service_code"] == "E-01-02"
        attributes = body["attributes"]
        codes = [a["code"] for a in attributes]
        assert all(a["variable"] is True and a["datatype"] == "singlevaluelist" and a["values"] for a in attributes)
    else:
        root = ET.fromstring(definition.content)
        assert root.tag == "service_definition" and root.find("service_code").text == "E-01-02"
        codes = [a.find("code").text for a in root.find("attributes").findall("attribute")]
        assert all(a.find("values").findall("value") for a in root.find("attributes").findall("attribute"))
    assert codes == ["priority", "wants_updates"]

    missing = get(intake, f"/services/Z-00-00.{fmt}")
    assert missing.status_code == 404 and errors(missing, fmt)[0][0] == 404


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_submit_then_read_back_a_service_request(intake, fmt):
    response = submit(intake, fmt, **{"attribute[priority]": "urgent", "attribute[wants_updates]": "yes", "first_name": "Wang",
                                      "phone": "13800000000", "media_url": "https://example.org/bin.jpg", "address_string": "12 East Road"})
    assert response.status_code == 201, response.text
    if fmt == "json":
        created = response.json()[0]
    else:
        root = ET.fromstring(response.content)
        assert root.tag == "service_requests"
        created = {child.tag: child.text for child in root.find("request")}
    request_id, token = created["service_request_id"], created["token"]
    assert request_id.startswith("inc-") and token

    one = get(intake, f"/requests/{request_id}.{fmt}")
    assert one.status_code == 200
    if fmt == "json":
        record = one.json()[0]
    else:
        record = {child.tag: child.text for child in ET.fromstring(one.content).find("request")}
    expected_fields = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description", "agency_responsible",
                       "service_notice", "requested_datetime", "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
                       "lat", "long", "media_url"}
    assert set(record) == expected_fields
    assert record["status"] == "open" and record["service_code"] == "E-01-02" and record["address"] == "12 East Road"
    assert record["media_url"] == "https://example.org/bin.jpg" and float(record["lat"]) == 30.2
    assert "Wang" not in one.text and "13800000000" not in one.text  # the public view leaves the reporter out

    by_token = get(intake, f"/tokens/{token}.{fmt}")
    assert by_token.status_code == 200
    assert request_id in by_token.text

    # What reached the bus carries the attributes.
    published = eventually(lambda: bus_events(intake.bus))
    data = published[0]["data"]
    assert data["priority"] == "urgent" and data["channel"] == "open311" and data["reporter"]["wantsUpdates"] is True


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("fields,key,status,text", [
    ({}, None, 403, "api_key is required"),
    ({"api_key": "wrong"}, None, 403, "not valid"),
    ({"service_code": ""}, "hotline", 400, "service_code is required"),
    ({"service_code": "Z-00-00"}, "hotline", 400, "not a service"),
    ({"lat": "", "long": ""}, "hotline", 400, "lat must be a number"),
    ({"lat": "95"}, "hotline", 400, "lat must be a number in -90"),
    ({"attribute[colour]": "red"}, "hotline", 400, "attribute[colour]"),
    ({"attribute[priority]": "asap"}, "hotline", 400, "attribute[priority]"),
    ({"media_url": "file:///etc/passwd"}, "hotline", 400, "media_url"),
    ({"description": "<b>bold</b>"}, "hotline", 400, "HTML"),
    ({"description": "x" * 4001}, "hotline", 400, "longer than 4000"),
    ({"nickname": "x"}, "hotline", 400, "unknown field 'nickname'"),
])
def test_submit_errors_use_the_spec_format_and_status_codes(intake, fmt, fields, key, status, text):
    response = submit(intake, fmt, key=key, **fields)
    assert response.status_code == status, response.text
    found = errors(response, fmt)
    assert all(code == status for code, _ in found) and any(text in description for _, description in found), found


def test_a_location_is_required_and_lat_goes_with_long(intake):
    data = {"api_key": intake.keys["hotline"], "service_code": "E-01-02", "description": "x"}
    assert requests.post(f"{intake.url}{V2}/requests.json", data=data, timeout=10).status_code == 400
    assert requests.post(f"{intake.url}{V2}/requests.json", data={**data, "lat": "30.2"}, timeout=10).status_code == 400
    by_address = requests.post(f"{intake.url}{V2}/requests.json", data={**data, "address_string": "1 Gate Road"}, timeout=10)
    assert by_address.status_code == 201  # an address alone is a location: the report waits in triage
    incident = requests.get(f"{intake.url}/v1/incidents/{by_address.json()[0]['service_request_id']}", headers=intake.headers(), timeout=10).json()
    assert incident["status"] == "triage"


def test_request_queries_and_their_defaults(intake):
    rubbish = [submit(intake).json()[0]["service_request_id"] for _ in range(3)]
    light = submit(intake, service_code="C-01-05").json()[0]["service_request_id"]
    everything = get(intake, "/requests.json").json()
    assert {r["service_request_id"] for r in everything} == set(rubbish + [light])  # default: the last 90 days
    assert [r["service_request_id"] for r in get(intake, "/requests.json", service_code="C-01-05").json()] == [light]
    assert {r["service_request_id"] for r in get(intake, "/requests.json", service_request_id=",".join(rubbish[:2])).json()} == set(rubbish[:2])
    assert get(intake, "/requests.json", start_date="2099-01-01T00:00:00Z").json() == []
    assert len(get(intake, "/requests.json", end_date="2000-01-01T00:00:00Z").json()) == 0
    lifecycle(intake, light, "incident.closed", {"by": "m-1", "onTime": True}, "close-light")
    eventually(lambda: [r["service_request_id"] for r in get(intake, "/requests.json", status="closed").json()] == [light])
    assert {r["service_request_id"] for r in get(intake, "/requests.json", status="open").json()} == set(rubbish)
    xml = ET.fromstring(get(intake, "/requests.xml", status="closed").content)
    assert [r.find("status").text for r in xml.findall("request")] == ["closed"]
    for params, text in [({"status": "pending"}, "open or closed"), ({"start_date": "last week"}, "start_date"),
                         ({"service_code": "Z-00-00"}, "not a service"), ({"page": "2"}, "unknown parameter")]:
        bad = get(intake, "/requests.json", **params)
        assert bad.status_code == 400 and text in bad.json()[0]["description"], bad.text


def test_unknown_things_are_404s(intake):
    for path in ["/requests/inc-NOPE.json", "/tokens/t-NOPE.xml", "/services.yaml", "/widgets.json"]:
        assert get(intake, path).status_code == 404, path
    assert errors(get(intake, "/requests/inc-NOPE.xml"), "xml")[0][0] == 404


def test_the_openapi_document_describes_what_the_server_does(intake):
    """Every documented operation answers with a documented status (schemathesis: examples and
    fuzzing), and no input makes the server fail (no 5xx)."""
    document = requests.get(intake.url + "/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.")
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert ("POST", "/v1/incidents") in operations and ("GET", "/open311/v2/tokens/{token}.{format}") in operations
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", intake.url + "/openapi.json",
         "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
         "--max-examples", "25", "--header", f"Authorization: Bearer {intake.keys['hotline']}", "--seed", "1",
         "--suppress-health-check", "all", "--generation-deterministic", "--request-timeout", "10"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
