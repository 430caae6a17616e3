import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../../src/config/loader.js';
import { validateConfig } from '../../../src/config/schema.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/config');

function readFixture(name: string): unknown {
  const parsed = parseYaml(readFileSync(join(FIXTURES, name), 'utf8'), name);
  if (!parsed.ok) throw new Error(`fixture ${name} does not parse`);
  return parsed.value;
}

/** errors/<name>.yaml → every issue validateConfig must report, as [path, message]. */
const EXPECTED: Record<string, Array<[string, string]>> = {
  'bad-ip': [["api.whitelisted_ips[0]", "must be an IPv4/IPv6 address or CIDR block (like 127.0.0.1/8 or ::1), got '10.0.0.0/33'"],
      ["api.whitelisted_ips[2]", "must be an IPv4/IPv6 address or CIDR block (like 127.0.0.1/8 or ::1), got '::1/129'"],
      ["api.trusted_proxies[0]", "must be an IPv4/IPv6 address or CIDR block (like 127.0.0.1/8 or ::1), got '192.168.1.300'"]],
  'bad-queue-strategy': [["queues[0].strategy", "must be one of ringall, round_robin, longest_idle, fewest_calls, linear, random; got 'roundrobin'"]],
  'bad-ring-group-strategy': [["ring_groups[0].strategy", "must be one of ringall, hunt; got 'linear'"]],
  'bad-time-zone': [["pbx.time_zone", "must be an IANA time zone (like \"Australia/Melbourne\"), got 'Mars/Olympus_Mons'"]],
  'bad-trunk': [["trunks[0].host", "must be an IP address or host name, got 'gw_example'"],
      ["trunks[0].port", "must be an integer from 1 to 65535, got the number 70000"],
      ["trunks[0].transport", "must be one of udp, tcp; got 'tls'"]],
  'caller-id-not-e164': [["users[2].caller_id", "must be an E.164 number with '+' (like \"+61390000000\"), got '5550000102'"]],
  'duplicate-device-username': [["users[2].devices[0].username", "duplicate device username 'ann-1' (also at users[0].devices[0].username)"]],
  'duplicate-did': [["numbers[1].number", "duplicate number '+15550000000' (also at numbers[0].number)"]],
  'duplicate-flow-id': [["flows[1].id", "duplicate flow id 'main' (also at flows[0].id)"]],
  'duplicate-node-id': [["flows[0].nodes[6].id", "duplicate node id 'bye' (also at flows[0].nodes[5].id)"]],
  'duplicate-queue-name': [["queues[1].name", "duplicate queue name 'Q1' (also at queues[0].name)"]],
  'duplicate-ring-group-name': [["ring_groups[1].name", "duplicate ring group name 'G1' (also at ring_groups[0].name)"]],
  'duplicate-user-number': [["users[2].number", "duplicate user number '100' (also at users[0].number)"]],
  'empty-flow': [["flows[1].nodes", "must have at least 1 item(s)"]],
  'empty-password': [["users[2].devices[0].password", "must not be empty"]],
  'hangup-status-out-of-range': [["flows[0].nodes[5].status", "must be an integer from 400 to 699, got the number 200"]],
  'missing-api-key': [["api.api_key", "required key is missing"]],
  'next-string-unknown-node': [["flows[0].nodes[1].next", "names node 'voicemail', which flow 'main' does not have"]],
  'next-unknown-node': [["flows[0].nodes[0].next.busy", "names node 'vmm', which flow 'main' does not have"]],
  'next-unknown-outcome': [["flows[0].nodes[0].next.bussy", "unknown outcome 'bussy' (one of default, answered, no-answer, busy, rejected, full, timeout, failed, empty)"]],
  'node-foreign-field': [["flows[0].nodes[3].queue", "unknown key 'queue' (not used by type voicemail)"]],
  'node-missing-field': [["flows[0].nodes[6].file", "required key is missing"]],
  'node-unknown-queue': [["flows[0].nodes[1].queue", "names queue 'Q2', which does not exist"]],
  'node-unknown-ring-group': [["flows[0].nodes[2].ring_group", "names ring group 'G2', which does not exist"]],
  'node-unknown-user': [["flows[0].nodes[3].user", "names user '109', which does not exist"]],
  'non-positive-timeout': [["flows[0].nodes[0].ring_timeout_s", "must be an integer >= 1, got the string '10s'"],
      ["queues[0].agent_timeout_s", "must be an integer >= 1, got the number 0"]],
  'number-not-e164': [["numbers[0].number", "must be an E.164 number with '+' (like \"+61390000000\"), got '0390000000'"]],
  'queue-next-missing-in-flow': [["queues[0].next.timeout", "names node 'nowhere', which flow 'main' (routing here) does not have"]],
  'queue-unknown-agent': [["queues[0].agents[1]", "names user '109', which does not exist"]],
  'ring-group-unknown-member': [["ring_groups[0].members[1]", "names user '109', which does not exist"]],
  'unknown-flow': [["numbers[0].flow", "names flow 'mian', which does not exist"]],
  'unknown-key': [["users[0].devices[0].pasword", "unknown key 'pasword' (did you mean 'password'?)"],
      ["users[0].devices[0].password", "required key is missing"]],
  'unknown-node-type': [["flows[0].nodes[6].type", "must be one of user, queue, ring_group, voicemail, webhook, hangup, play; got the string 'ivr'"]],
  'unknown-top-level-key': [["numbres", "unknown key 'numbres' (did you mean 'numbers'?)"]],
  'user-number-not-digits': [["users[2].number", "must be digits only (1 to 20), got '10x'"]],
  'webhook-enabled-without-token': [["webhook.secret_token", "must not be empty when the webhook is enabled"]],
  'webhook-enabled-without-url': [["webhook.url", "is required when the webhook is enabled"]],
  'webhook-node-bad-url': [["flows[0].nodes[4].url", "must be an http:// or https:// URL, got 'crm.example/hook'"]],
  'webhook-node-empty-token': [["flows[0].nodes[4].secret_token", "must not be empty"]],
  'webhook-unknown-event': [["webhook.events[1]", "must be one of user_inbound, user_inbound_answered, user_inbound_completed, user_outbound, user_outbound_answered, user_outbound_completed, queue_call, ring_group_call, voicemail, recording_inbound, recording_outbound; got 'call_ended'"]],
  'webhook-url-not-http': [["webhook.url", "must be an http:// or https:// URL, got 'ftp://crm.example/events'"]],
  'wrong-type': [["users[2].record", "expected a string, got a list"]],
};

describe('validateConfig: one fixture per kind of error', () => {
  it('has an expectation for every fixture and a fixture for every expectation', () => {
    const files = readdirSync(join(FIXTURES, 'errors')).map((f) => f.replace(/\.yaml$/, '')).sort();
    expect(files).toEqual(Object.keys(EXPECTED).sort());
  });

  it('accepts the valid base fixture the error fixtures derive from', () => {
    const r = validateConfig(readFixture('valid-full.yaml'), 'valid-full.yaml');
    expect(r.ok ? [] : r.errors).toEqual([]);
  });

  for (const [name, issues] of Object.entries(EXPECTED)) {
    it(`reports ${name} with its exact path and message`, () => {
      const file = `errors/${name}.yaml`;
      const r = validateConfig(readFixture(file), file);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.errors).toEqual(issues.map(([path, message]) => ({ file, path, message })));
    });
  }
});
