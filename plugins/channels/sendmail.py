#!/usr/bin/env python3
"""GridBus channel plugin: email through the local sendmail (docs/notifier.md, "Channel plugins").

grid-notifier runs it once per message with the envelope as JSON on stdin ("address" is the email
address, "subject" and "text" the long message, "messageId" stable across retries). It hands a
UTF-8 message to `$SENDMAIL -t -oi` (default /usr/sbin/sendmail; Debian's exim4, postfix or msmtp
provide one), From: $EMAIL_FROM.

Exit 0: accepted by sendmail; 75: sendmail asked to try again (EX_TEMPFAIL) or timed out; 1:
failed for good. EMAIL_DRY_RUN=1 without a sendmail only says what it would send: development only.
"""
import email.message
import email.utils
import json
import os
import subprocess
import sys

TEMPORARY_FAILURE = 75

envelope = json.load(sys.stdin)
message = email.message.EmailMessage()
message["From"] = os.environ.get("EMAIL_FROM", "gridbus@localhost")
message["To"] = envelope["address"]
message["Subject"] = envelope["subject"]
message["Message-ID"] = f"<{envelope['messageId']}@gridbus>"
message["Date"] = email.utils.formatdate(localtime=True)
message.set_content(envelope["text"])

sendmail = os.environ.get("SENDMAIL", "/usr/sbin/sendmail")
if not os.access(sendmail, os.X_OK):
    if os.environ.get("EMAIL_DRY_RUN") == "1":
        print(f"dry run: would mail {envelope['address']}: {envelope['subject']}", file=sys.stderr)
        print(json.dumps({"providerMessageId": message["Message-ID"]}))
        sys.exit(0)
    print(f"no sendmail at {sendmail} (install one, set SENDMAIL, or EMAIL_DRY_RUN=1 for development)", file=sys.stderr)
    sys.exit(1)
try:
    result = subprocess.run([sendmail, "-t", "-oi"], input=message.as_bytes(), capture_output=True, timeout=30)
except subprocess.TimeoutExpired:
    print("sendmail did not finish in 30 s", file=sys.stderr)
    sys.exit(TEMPORARY_FAILURE)
if result.returncode != 0:
    print(f"sendmail exit {result.returncode}: {result.stderr[:300].decode(errors='replace')}", file=sys.stderr)
    sys.exit(TEMPORARY_FAILURE if result.returncode == TEMPORARY_FAILURE else 1)
print(json.dumps({"providerMessageId": message["Message-ID"]}))
