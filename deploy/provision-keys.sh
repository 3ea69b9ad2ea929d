#!/usr/bin/env bash
# Provisions GridBus's secrets on a new host (docs/security.md, "Provisioning"):
#   - CURVE key pairs for gridbusd, the four workers and the access-file identities (ops, monitoring,
#     hotline-gateway), in $GRIDBUS_ETC/keys (0700; secrets 0600);
#   - an HTTP API key per client of each worker: the key itself goes once into
#     $GRIDBUS_ETC/keys/api-keys.txt (0600) for you to hand out, only its SHA-256 into the
#     worker's clients.yaml;
#   - the webhook signing secret ($GRIDBUS_ETC/keys/webhook.secret, 0600).
# Existing keys are kept, so the script can run again after adding a client; to rotate one identity:
#   provision-keys.sh --rotate NAME      (then SIGHUP gridbusd, or restart the worker)
# Environment: GRIDBUS_ETC (default /etc/gridbus), GRIDCTL (default /opt/gridbus/bin/gridctl),
# GRIDBUS_USER (owner of the secrets; default gridbus, skipped when the user does not exist).
set -euo pipefail

ETC=${GRIDBUS_ETC:-/etc/gridbus}
GRIDCTL=${GRIDCTL:-/opt/gridbus/bin/gridctl}
OWNER=${GRIDBUS_USER:-gridbus}
KEYS=$ETC/keys
ROTATE=""
if [[ ${1:-} == --rotate ]]; then
    ROTATE=${2:?"--rotate needs an identity name"}
elif [[ $# -gt 0 ]]; then
    echo "usage: $0 [--rotate NAME]" >&2
    exit 2
fi
[[ -x $GRIDCTL ]] || { echo "$0: $GRIDCTL is not an executable (set GRIDCTL)" >&2; exit 1; }

mkdir -p -m 755 "$ETC" "$ETC/plugins"
umask 077
mkdir -p "$KEYS"
chmod 700 "$KEYS"

# CURVE identities: the daemon, the workers (their manifests name the secret file) and the access file's.
for name in gridbusd grid-intake grid-dispatcher grid-notifier grid-stats ops monitoring hotline-gateway; do
    if [[ $name == "$ROTATE" ]]; then
        "$GRIDCTL" keygen "$name" --dir "$KEYS" --force >/dev/null
        echo "rotated CURVE key pair $name"
    elif [[ ! -f $KEYS/$name.key_secret ]]; then
        "$GRIDCTL" keygen "$name" --dir "$KEYS" >/dev/null
        echo "created CURVE key pair $name"
    fi
done

[[ -f $KEYS/webhook.secret ]] || { head -c 32 /dev/urandom | base64 | tr -d '\n' > "$KEYS/webhook.secret"; echo "created webhook.secret"; }

# HTTP API keys: worker client rate scopes (scopes only for the dispatcher).
CLIENTS="
grid-intake hotline-12345 200 channel=hotline
grid-intake citizen-app 500 channel=app
grid-dispatcher handler-app 500 scopes=handler
grid-dispatcher operations 50 scopes=operator
grid-notifier operations 50 -
grid-stats dashboard 200 -
"
API_KEYS=$KEYS/api-keys.txt
touch "$API_KEYS"
while read -r worker client rate extra; do
    [[ -n $worker ]] || continue
    file=$ETC/plugins/$worker/clients.yaml
    mkdir -p -m 755 "$(dirname "$file")"
    [[ -f $file ]] || printf '# API keys of %s (auth.keys-file): SHA-256 hashes only; made by provision-keys.sh.\nclients:\n' "$worker" > "$file"
    entry="$worker/$client"
    if grep -q "^$entry " "$API_KEYS" && [[ $entry != "$ROTATE" ]]; then continue; fi
    # 24 random bytes, base64url, behind a fixed prefix: a key that began with '-' (1 in 64 did)
    # read as an option to command-line tools (gridctl, curl -H), and the prefix lets secret scanners
    # find a leaked key.
    key=gbk_$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    hash=$(printf %s "$key" | sha256sum | cut -d' ' -f1)
    # Drop the client's old entry (rotation), then append the new one.
    python3 - "$file" "$client" <<'PY'
import re, sys
path, client = sys.argv[1], sys.argv[2]
text = open(path).read()
text = re.sub(r"  - name: %s\n(    .*\n)*" % re.escape(client), "", text)
open(path, "w").write(text)
PY
    {
        echo "  - name: $client"
        echo "    key-sha256: $hash"
        echo "    rate: $rate"
        case $extra in
            channel=*) echo "    channel: ${extra#channel=}" ;;
            scopes=*) echo "    scopes: [${extra#scopes=}]" ;;
        esac
    } >> "$file"
    sed -i "\|^$entry |d" "$API_KEYS"
    echo "$entry $key" >> "$API_KEYS"
    echo "created API key $entry"
done <<< "$CLIENTS"

if id "$OWNER" >/dev/null 2>&1; then
    chown -R "$OWNER:$OWNER" "$KEYS"
    chown "$OWNER:$OWNER" "$ETC"/plugins/*/clients.yaml
fi
chmod 600 "$KEYS"/*.key_secret "$KEYS/webhook.secret" "$API_KEYS"
chmod 644 "$KEYS"/*.key
echo "keys in $KEYS; hand out the API keys of $API_KEYS, then keep or delete that file"
