#!/usr/bin/env python3
"""GridBus channel plugin: text messages through an HTTP SMS gateway (docs/notifier.md, "Channel plugins").

grid-notifier runs it once per message with the envelope as JSON on stdin ("address" is the phone
number, "text" the short message, "messageId" stable across retries). It POSTs
{"to", "text", "reference"} to SMS_GATEWAY_URL with an Idempotency-Key header and, when set,
"Authorization: Bearer $SMS_GATEWAY_TOKEN".

Exit 0: delivered (stdout: {"providerMessageId": ...}); 75: try again (gateway busy, 5xx, 429,
unreachable); 1: failed for good (4xx: a bad number, a refused text). SMS_DRY_RUN=1 without a
gateway only says on stderr what it would send: for development, never in production.
"""
import json
import os
import sys
import urllib.error
import urllib.request

TEMPORARY_FAILURE = 75

envelope = json.load(sys.stdin)
phone, text, reference = envelope["address"], envelope["text"], envelope["messageId"]
url = os.environ.get("SMS_GATEWAY_URL")
if not url:
    if os.environ.get("SMS_DRY_RUN") == "1":
        print(f"dry run: would text {phone}: {text}", file=sys.stderr)
        print(json.dumps({"providerMessageId": f"dry-run-{reference}"}))
        sys.exit(0)
    print("SMS_GATEWAY_URL is not set (or set SMS_DRY_RUN=1 for development)", file=sys.stderr)
    sys.exit(1)

headers = {"Content-Type": "application/json", "Idempotency-Key": reference}
if os.environ.get("SMS_GATEWAY_TOKEN"):
    headers["Authorization"] = "Bearer " + os.environ["SMS_GATEWAY_TOKEN"]
request = urllib.request.Request(url, data=json.dumps({"to": phone, "text": text, "reference": reference}).encode(), headers=headers)
try:
    with urllib.request.urlopen(request, timeout=float(os.environ.get("SMS_GATEWAY_TIMEOUT", "8"))) as response:
        answer = json.loads(response.read() or b"{}")
        print(json.dumps({"providerMessageId": answer.get("id")}))
except urllib.error.HTTPError as error:
    print(f"gateway answered {error.code}: {error.read()[:200].decode(errors='replace')}", file=sys.stderr)
    sys.exit(TEMPORARY_FAILURE if error.code in (408, 429) or error.code >= 500 else 1)
except (urllib.error.URLError, TimeoutError, OSError) as error:
    print(f"gateway unreachable: {error}", file=sys.stderr)
    sys.exit(TEMPORARY_FAILURE)
