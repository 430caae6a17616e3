#!/bin/sh
# The compose stack's integration scenarios (the `sipp` profile of docker/compose.yaml), in order:
#   1. the device alice-desk registers through the SIP edge (digest, 401 then 200);
#   2. a DID call: a caller dials +61390000000, the flow rings user 1001, the registered device answers, the
#      caller hangs up after a few seconds;
#   3. click-to-call: POST call-to-number for user 1001 to an external number; the device answers, the PBX
#      dials the number through the trunk (this container, port 5090), the trunk answers and later hangs up.
# Each step is a SIPp run; the script exits 0 when every one succeeded, else 1 naming the step that failed.
# Environment (defaults are the compose services; the test suite runs it on 127.0.0.1 with its own ports):
#   SIP_EDGE (drachtio:5060)  ENGINE_URLS (space-separated; the first one takes the API request)
#   SWITCHBOARD_API_KEY (required)  LOCAL_IP (this container's address)  DEVICE_PORT (5070)  TRUNK_PORT (5090)
#   CALLER_PORT (5080)  DID (61390000000)  USER_NUMBER (1001)  DEVICE (alice-desk)  DEVICE_PASSWORD (alice-desk-pw)
#   DOMAIN (switchboard.local)  DIAL (+61355550100)  TALK_MS (3000)  WAIT_S (120: how long to wait for /ready)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
SIP_EDGE=${SIP_EDGE:-drachtio:5060}
ENGINE_URLS=${ENGINE_URLS:-http://engine-1:8080}
API_KEY=${SWITCHBOARD_API_KEY:?set SWITCHBOARD_API_KEY}
LOCAL_IP=${LOCAL_IP:-$(hostname -i | cut -d' ' -f1)}
DEVICE_PORT=${DEVICE_PORT:-5070}
TRUNK_PORT=${TRUNK_PORT:-5090}
CALLER_PORT=${CALLER_PORT:-5080}
DID=${DID:-61390000000}
USER_NUMBER=${USER_NUMBER:-1001}
DEVICE=${DEVICE:-alice-desk}
DEVICE_PASSWORD=${DEVICE_PASSWORD:-alice-desk-pw}
DOMAIN=${DOMAIN:-switchboard.local}
DIAL=${DIAL:-+61355550100}
TALK_MS=${TALK_MS:-3000}
WAIT_S=${WAIT_S:-120}
work=$(mktemp -d)
cd "$work"

fail() { echo "sipp: FAILED: $1" >&2; for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }; done; exit 1; }
sipp_run() { sipp -nostdin -i "$LOCAL_IP" -trace_err -max_recv_loops 1000 "$@" >/dev/null; }

for url in $ENGINE_URLS; do
  i=0
  until curl -fsS -o /dev/null "$url/ready"; do
    i=$((i + 1)); [ "$i" -le "$WAIT_S" ] || fail "$url/ready did not answer 200 within ${WAIT_S} s"
    sleep 1
  done
done
echo "sipp: engines ready: $ENGINE_URLS"

# 1. Register (the engine that takes it stores the binding where every engine finds it).
sipp_run -sf "$here/register.xml" "$SIP_EDGE" -p "$DEVICE_PORT" -m 1 -timeout 30s \
  -key user "$DEVICE" -key domain "$DOMAIN" -key expires 600 -au "$DEVICE" -ap "$DEVICE_PASSWORD" -auth_uri "$DOMAIN" \
  || fail "1. register $DEVICE"
echo "sipp: 1. $DEVICE registered"

# The device answers the two calls that ring it (steps 2 and 3) from the port it registered; the trunk answers one.
sipp_run -sf "$here/device.xml" -p "$DEVICE_PORT" -m 2 -timeout 90s & device=$!
sipp_run -sf "$here/trunk-answer-bye.xml" -p "$TRUNK_PORT" -m 1 -d "$TALK_MS" -timeout 90s & trunk=$!
sleep 1

# 2. DID call.
sipp_run -sf "$here/caller-did.xml" "$SIP_EDGE" -p "$CALLER_PORT" -s "$DID" -m 1 -d "$TALK_MS" -timeout 60s || fail "2. DID call to +$DID"
echo "sipp: 2. DID call to +$DID answered by $DEVICE and hung up"

# 3. Click-to-call through the integration API.
engine=${ENGINE_URLS%% *}
curl -fsS -X POST "$engine/api/integration/v2/call-to-number" -H "token: $API_KEY" -H 'content-type: application/json' \
  -d "{\"user_number\":\"$USER_NUMBER\",\"number_to_call\":\"$DIAL\"}" > call-to-number.json || fail "3. POST call-to-number"
wait "$trunk" || fail "3. click-to-call: the trunk leg to $DIAL"
wait "$device" || fail "3. click-to-call: the device leg (or the DID call's)"
echo "sipp: 3. click-to-call $USER_NUMBER -> $DIAL: $(cat call-to-number.json)"
echo "sipp: all scenarios passed"
