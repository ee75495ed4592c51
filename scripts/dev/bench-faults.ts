/**
 * Benchmark section: what an unresponsive endpoint costs an audit (issue 9 item 7). A local endpoint
 * on 127.0.0.1 accepts connections and never answers (a black hole: a firewall that drops, a dead
 * proxy, a VPC endpoint without a route). The real collector, with the production SDK clients and
 * timeouts (aws-clients.ts TIMEOUTS), collects against it:
 * - `ssm`: only Systems Manager is a black hole; EC2, IAM and STS answer for a 1,000-instance fleet
 *   (the snapshot-backed fake AWS, in process);
 * - `all`: every service is a black hole; the account id is known, as in the Lambda functions.
 * The figure printed is the seconds the collection took; the target is at most 60 s per audit.
 * Tests call the same function with small timeouts (test/collect/black-hole.test.ts).
 */
import { RULES } from '../../rules';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { auditSnapshot } from '../../shared/engine/audit';
import { createAwsClients, destroyAwsClients, TIMEOUTS } from '../../shared/aws/clients';
import { collectSnapshot } from '../../shared/collect/collect';
import { DEFAULT_DEADLINE_MS } from '../../shared/collect/context';
import type { CallRecord } from '../../shared/snapshot/schema';
import type { Finding } from '../../shared/model';
import { buildCollectionFleet } from '../../test/support/collection-fleet';
import { fakeAwsFromSnapshot, type FakeAws } from '../../test/support/fake-aws';

export const BLACK_HOLE_TARGET_SECONDS = 60;

export interface BlackHoleOptions {
  /** Which endpoints never answer. */
  services: 'ssm' | 'all';
  /** Instances of the otherwise healthy fleet (`ssm` only); default 1,000. */
  instances?: number;
  /** Default: the production values (TIMEOUTS, DEFAULT_DEADLINE_MS). */
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
  deadlineMs?: number;
  /** Fixed audit time (snapshot `collectedAt`, rules' clock); default the fleet's own time. */
  now?: Date;
}

export interface BlackHoleResult {
  services: 'ssm' | 'all';
  requestTimeoutMs: number;
  seconds: number;
  /** Requests the collector sent, per action (SDK retries not included). */
  sent: Record<string, number>;
  /** Requests the black hole received, and how many of them were SDK retries (attempt > 1). */
  requests: number;
  retries: number;
  /** The snapshot's `calls`: every call that did not succeed. */
  calls: Record<string, CallRecord>;
  findings: Finding[];
}

const FAKE_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

/** `amz-sdk-request: attempt=2; max=6` marks an SDK retry. */
const attemptOf = (req: IncomingMessage) =>
  Number(/attempt=(\d+)/.exec(String(req.headers['amz-sdk-request'] ?? ''))?.[1] ?? 1);

export async function measureBlackHole(options: BlackHoleOptions): Promise<BlackHoleResult> {
  const { snapshot } = buildCollectionFleet({ instances: options.instances ?? 1_000 });
  let requests = 0;
  let retries = 0;
  const hung = createServer((req) => {
    requests++;
    if (attemptOf(req) > 1) retries++;
    // Never answered.
  });
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;

  // The SDK's own endpoint and credential resolution, pointed at the black hole.
  const savedEnv = { ...process.env };
  for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
  Object.assign(process.env, FAKE_CREDENTIALS, {
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...(options.services === 'all' ? { AWS_ENDPOINT_URL: url } : { AWS_ENDPOINT_URL_SSM: url }),
  });
  let fake: FakeAws | undefined;
  if (options.services === 'ssm') {
    fake = fakeAwsFromSnapshot(snapshot);
    fake.mocks.ssm.restore(); // SSM goes over the wire, to the black hole
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? TIMEOUTS.requestMs;
  const clients = createAwsClients({
    region: snapshot.region,
    requestTimeoutMs,
    connectionTimeoutMs: options.connectionTimeoutMs ?? TIMEOUTS.connectionMs,
  });
  const now = options.now ?? new Date(snapshot.collectedAt);
  try {
    const t0 = performance.now();
    const result = await collectSnapshot(clients, {
      region: snapshot.region,
      accountId: snapshot.accountId,
      now: () => now,
      deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS,
    });
    const seconds = (performance.now() - t0) / 1000;
    return {
      services: options.services,
      requestTimeoutMs,
      seconds,
      sent: result.stats.calls,
      requests,
      retries,
      calls: result.snapshot.calls,
      findings: auditSnapshot(result.snapshot, { rules: RULES, now }).findings,
    };
  } finally {
    fake?.restore();
    destroyAwsClients(clients);
    process.env = savedEnv;
    hung.closeAllConnections();
    await new Promise((resolve) => hung.close(resolve));
  }
}

/** Right-aligned columns, as the other bench sections print them. */
function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function renderBlackHoleRows(rows: readonly BlackHoleResult[]): string {
  const table = renderTable(
    [
      'black hole',
      'request timeout',
      'seconds',
      'requests to it',
      'SDK retries',
      'calls failed',
      'ERROR findings',
      'target',
    ],
    rows.map((r) => [
      r.services === 'ssm' ? 'SSM endpoint (1,000-instance fleet)' : 'every endpoint (account id known)',
      `${r.requestTimeoutMs / 1000} s`,
      r.seconds.toFixed(1),
      String(r.requests),
      String(r.retries),
      String(Object.keys(r.calls).length),
      String(r.findings.filter((f) => f.status === 'ERROR').length),
      `≤ ${BLACK_HOLE_TARGET_SECONDS} s ${r.seconds <= BLACK_HOLE_TARGET_SECONDS ? 'ok' : 'MISSED'}`,
    ]),
  );
  return (
    `${table}\n(production settings: connection timeout ${TIMEOUTS.connectionMs / 1000} s, request timeout ${TIMEOUTS.requestMs / 1000} s, ` +
    `collection deadline ${DEFAULT_DEADLINE_MS / 1000} s; a timed-out request is not retried and its service gets no further request in the audit)`
  );
}

/** The bench section (scripts/dev/bench.ts SECTIONS). */
export const blackHoleSection = {
  title: 'An endpoint that accepts connections and never answers (production timeouts)',
  async run(): Promise<string> {
    const rows: BlackHoleResult[] = [];
    for (const services of ['ssm', 'all'] as const) {
      process.stderr.write(`  black hole: ${services} ...\n`);
      rows.push(await measureBlackHole({ services }));
    }
    return renderBlackHoleRows(rows);
  },
};
