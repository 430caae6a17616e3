#!/usr/bin/env bash
# The whole test suite, as README and .ci/run state it. Installs what npm does not bring (SIPp from Debian's
# sip-tester, baresip from baresip-core, rtpengine from rtpengine-daemon, docker-compose, chromium for the console tests), makes sure PostgreSQL answers (the
# store contract suite runs on it), then runs vitest and prints a plain "N passed, N failed, N skipped" closing line.
set -euo pipefail
cd "$(dirname "$0")/.."

need_root() { [ "$(id -u)" = 0 ] || { echo "error: $1 — run as root or install it yourself: $2" >&2; exit 1; }; }

if ! command -v sipp >/dev/null 2>&1; then
  need_root "SIPp is missing" "apt-get install sip-tester"
  echo "installing SIPp (Debian package sip-tester)…"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sip-tester >/dev/null 2>&1; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sip-tester >/dev/null
  fi
fi

# baresip (Debian's baresip-core 1.0.0) for the real-softphone test (test/e2e/phone/baresip.test.ts); its ALSA
# module plays into ALSA's null device, so no sound card is needed.
if ! command -v baresip >/dev/null 2>&1; then
  need_root "baresip is missing" "apt-get install baresip-core"
  echo "installing baresip (Debian package baresip-core)…"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends baresip-core >/dev/null 2>&1; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends baresip-core >/dev/null
  fi
fi

# rtpengine (Debian's rtpengine-daemon 10.5, userspace only) for the rtpengine media driver's tests.
if [ ! -x /usr/bin/rtpengine ]; then
  need_root "rtpengine-daemon is missing" "apt-get install rtpengine-daemon"
  echo "installing rtpengine (Debian package rtpengine-daemon)…"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rtpengine-daemon >/dev/null 2>&1; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rtpengine-daemon >/dev/null
  fi
fi

# Debian's docker-compose (v1) for the compose file's check (test/e2e/operations/compose.test.ts: `docker-compose
# config`); no Docker engine is needed or used.
if ! command -v docker-compose >/dev/null 2>&1; then
  need_root "docker-compose is missing" "apt-get install docker-compose"
  echo "installing docker-compose (Debian package docker-compose)…"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null 2>&1; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
  fi
fi

# Debian's chromium for the web console's browser tests (playwright-core drives it; it downloads no browser).
if [ ! -x /usr/bin/chromium ]; then
  need_root "chromium is missing" "apt-get install chromium"
  echo "installing chromium (Debian package chromium)…"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm dependencies…"
  # npm ci refuses this lock (vite lists a Windows-only optional dependency npm 11 leaves out); install honours the lock.
  npm install --no-audit --no-fund
fi

# PostgreSQL for the store contract suite: use DATABASE_URL if given, else the local server (started if it is down).
export SWITCHBOARD_TEST_PG_URL="${SWITCHBOARD_TEST_PG_URL:-${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}}"
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
fi

# Redis for the shared-state tests (issue 16): SWITCHBOARD_TEST_REDIS_URL if given, else the local server (started
# without persistence if it is down). Tests that stop Redis run a private redis-server of their own.
export SWITCHBOARD_TEST_REDIS_URL="${SWITCHBOARD_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
if [ "$SWITCHBOARD_TEST_REDIS_URL" = "redis://127.0.0.1:6379" ] && command -v redis-cli >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi

npx tsc -p tsconfig.json --noEmit
# The web console's sources (console/src, .tsx with preact's JSX types; Vite builds them without checking).
npx tsc -p console/tsconfig.json --noEmit
# The console Switchboard serves at /console (its e2e test builds its own copy from the sources).
npm run --silent build:console

out=$(mktemp -d)
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json="$out/results.json" "$@"
rc=$?
set -e
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$out/results.json" || true
rm -rf "$out"
exit $rc
