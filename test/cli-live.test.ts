import { RULES } from '../rules';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../scripts/ssm-audit/cli';
import { auditSnapshot } from '../shared/engine/audit';
import { createAwsClients, destroyAwsClients } from '../shared/aws/clients';
import { collectSnapshot } from '../shared/collect/collect';
import { buildCollectionFleet } from './support/collection-fleet';
import { deniedError, fakeAwsFromSnapshot, type FakeAws } from './support/fake-aws';
import type { Finding } from '../shared/model';

/** `ssm-audit collect` and `ssm-audit scan --region`: live collection through the CLI (issue 3, DESIGN §2). */

const FAKE_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

async function run(args: string[], options: { errIsTTY?: boolean } = {}) {
  let out = '';
  let err = '';
  const code = await main(['node', 'ssm-audit', ...args], {
    out: (text) => (out += text),
    err: (text) => (err += text),
    isTTY: false,
    errIsTTY: options.errIsTTY ?? false,
  });
  return { code, out, err };
}

const withoutTime = (findings: Finding[]) => findings.map(({ evaluatedAt: _t, ...rest }) => rest);

describe('collect and live scan through the CLI (mocked AWS)', () => {
  let dir: string;
  let fake: FakeAws | undefined;
  const saved = { ...process.env };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ssm-audit-live-'));
    Object.assign(process.env, FAKE_CREDENTIALS);
  });
  afterEach(() => {
    fake?.restore();
    fake = undefined;
    rmSync(dir, { recursive: true, force: true });
    process.env = { ...saved };
  });

  it('scanning the snapshot written by collect gives the findings of the live scan', async () => {
    // Prepare
    const { snapshot } = buildCollectionFleet({ instances: 120 });
    fake = fakeAwsFromSnapshot(snapshot);
    const file = join(dir, 'snapshot.json');
    // Act
    const collected = await run(['collect', '--region', 'eu-west-1', '--out', file]);
    const live = await run(['scan', '--region', 'eu-west-1', '--format', 'json', '--fail-on', 'none']);
    const saved = await run(['scan', '--snapshot', file, '--format', 'json', '--fail-on', 'none']);
    // Assess
    expect(collected.code).toBe(0);
    expect(collected.err).toMatch(
      /Collected the whole region of account 123456789012 in eu-west-1: \d+ API calls/,
    );
    expect(collected.err).toContain(`Snapshot written to ${file}`);
    expect(live.code).toBe(0);
    expect(saved.code).toBe(0);
    const liveFindings = JSON.parse(live.out) as Finding[];
    expect(liveFindings.length).toBeGreaterThan(120 * 5);
    expect(withoutTime(JSON.parse(saved.out))).toEqual(withoutTime(liveFindings));
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(written).toMatchObject({
      schemaVersion: 1,
      accountId: '123456789012',
      region: 'eu-west-1',
      calls: {},
    });
  });

  it('plan and report --html of a live scan are those of the collected snapshot', async () => {
    const { snapshot } = buildCollectionFleet({ instances: 60 });
    fake = fakeAwsFromSnapshot(snapshot);
    const file = join(dir, 'snapshot.json');
    expect((await run(['collect', '--region', 'eu-west-1', '--out', file])).code).toBe(0);
    const collectedAt = (JSON.parse(readFileSync(file, 'utf8')) as { collectedAt: string }).collectedAt;
    // The live scan evaluates as of its own collection: pin both to the saved snapshot's time.
    const live = await run(['plan', '--region', 'eu-west-1', '--format', 'json', '--now', collectedAt]);
    const saved = await run(['plan', '--snapshot', file, '--format', 'json', '--now', collectedAt]);
    expect(live.code).toBe(0);
    expect(saved.code).toBe(0);
    const withoutSource = (out: string) => ({ ...(JSON.parse(out) as object), source: undefined });
    expect(withoutSource(live.out)).toEqual(withoutSource(saved.out));
    expect((JSON.parse(live.out) as { source: string }).source).toMatch(/^live /);
    expect((JSON.parse(live.out) as { steps: unknown[] }).steps.length).toBeGreaterThan(0);

    const html = join(dir, 'report.html');
    const report = await run(['report', '--html', html, '--region', 'eu-west-1', '--now', collectedAt]);
    expect(report.code).toBe(0);
    expect(report.err).toMatch(/HTML report written to .*report\.html \(\d+ KB\)/);
    expect(readFileSync(html, 'utf8')).toContain('SSM readiness: account 123456789012, eu-west-1 (live, ');
  });

  it('a live scan of one instance collects only that instance', async () => {
    const { snapshot } = buildCollectionFleet({ instances: 120 });
    fake = fakeAwsFromSnapshot(snapshot);
    const { code, out } = await run([
      'scan',
      '--region',
      'eu-west-1',
      '--instance',
      'i-00000000000000003',
      '--format',
      'json',
      '--fail-on',
      'none',
    ]);
    expect(code).toBe(0);
    expect(new Set((JSON.parse(out) as Finding[]).map((f) => f.resourceId))).toEqual(
      new Set(['i-00000000000000003']),
    );
    expect(fake.totalCalls()).toBeLessThanOrEqual(15);
  });

  it('a denied call gives ERROR findings, a note on stderr and a completed run', async () => {
    const { snapshot } = buildCollectionFleet({ instances: 12 });
    fake = fakeAwsFromSnapshot(snapshot, {
      fail: { 'ec2:DescribeVpcEndpoints': deniedError('ec2:DescribeVpcEndpoints') },
    });
    const { code, out, err } = await run(['scan', '--region', 'eu-west-1', '--format', 'json']);
    expect(code).toBe(1);
    expect(err).toContain('ec2:DescribeVpcEndpoints was denied (UnauthorizedOperation)');
    const findings = JSON.parse(out) as Finding[];
    const network = findings.filter((f) => f.ruleId === 'network-path' && f.resourceType === 'EC2Instance');
    expect(network).toHaveLength(12);
    expect(network.every((f) => f.status === 'ERROR' && f.message.includes('ec2:DescribeVpcEndpoints'))).toBe(
      true,
    );
  });

  it('shows a progress indicator on stderr only when stderr is a terminal', async () => {
    const { snapshot } = buildCollectionFleet({ instances: 3000 });
    fake = fakeAwsFromSnapshot(snapshot);
    const tty = await run(['collect', '--region', 'eu-west-1', '--out', join(dir, 'a.json')], {
      errIsTTY: true,
    });
    const pipe = await run(['collect', '--region', 'eu-west-1', '--out', join(dir, 'b.json')], {
      errIsTTY: false,
    });
    expect(tty.err).toMatch(/\r\x1b\[2K. collecting .+ — \d+ API calls/);
    expect(pipe.err).not.toMatch(/API calls\r|\x1b\[2K/);
  });

  it.each([
    {
      case: 'two scopes at once',
      args: ['--vpc', 'vpc-0123456789abcdef0', '--role', 'r'],
      expected: /choose one scope/,
    },
    {
      case: 'a malformed VPC id',
      args: ['--vpc', 'vpc-nope'],
      expected: /invalid --vpc "vpc-nope": must be a VPC id/,
    },
    { case: 'a malformed instance id', args: ['--instance', 'i-zz'], expected: /invalid instance id "i-zz"/ },
    {
      case: 'live options with --snapshot',
      args: ['--snapshot', 'x.json'],
      expected: /--snapshot scans a saved snapshot/,
    },
  ])('rejects $case before calling AWS', async ({ args, expected }) => {
    const { snapshot } = buildCollectionFleet({ instances: 3 });
    fake = fakeAwsFromSnapshot(snapshot);
    const { code, err } = await run(['scan', '--region', 'eu-west-1', ...args]);
    expect(code).toBe(2);
    expect(err).toMatch(expected);
    expect(fake.totalCalls()).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------
// The real bin, the real SDK stack and the real wire protocols, against a local endpoint.

function runBin(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['scripts/ssm-audit/bin.js', ...args], {
      cwd: resolve(__dirname, '..'),
      env,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, out, err }));
  });
}

/** Environment with nothing of the developer's AWS setup: no profile, no keys, no IMDS. */
function isolatedEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return {
    ...env,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NO_COLOR: '1',
    ...extra,
  };
}

/** The service a SigV4-signed request is for, from its Authorization header's credential scope. */
const serviceOf = (req: IncomingMessage) =>
  /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(String(req.headers.authorization))?.[1] ??
  'unsigned';

/**
 * A local endpoint speaking each service's real protocol: EC2 (ec2 query) and IAM (awsQuery) answer
 * with their XML denial, SSM (JSON 1.1) with AccessDeniedException, STS with a GetCallerIdentity result.
 */
function startAwsEndpoint(): Promise<{
  server: Server;
  url: string;
  seen: string[];
  credentials: Set<string>;
}> {
  const seen: string[] = [];
  const credentials = new Set<string>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const service = serviceOf(req);
      const action =
        /Action=([A-Za-z]+)/.exec(body)?.[1] ??
        String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop();
      seen.push(`${service}:${action}`);
      const scope = /Credential=([^/]+\/\d{8}\/[^/]+)\//.exec(String(req.headers.authorization))?.[1];
      if (scope) credentials.add(scope.replace(/\/\d{8}\//, '/'));
      if (service === 'ec2') {
        res.writeHead(403, { 'content-type': 'text/xml' });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>req-1</RequestID></Response>`,
        );
      } else if (service === 'iam') {
        res.writeHead(403, { 'content-type': 'text/xml' });
        res.end(
          `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: iam:${action}</Message></Error><RequestId>req-2</RequestId></ErrorResponse>`,
        );
      } else if (service === 'ssm') {
        res.writeHead(400, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-errortype': 'AccessDeniedException',
        });
        res.end(
          JSON.stringify({
            __type: 'AccessDeniedException',
            message: `not authorized to perform: ssm:${action}`,
          }),
        );
      } else if (service === 'sts') {
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::210987654321:user/auditor</Arn><UserId>AIDAEXAMPLE</UserId><Account>210987654321</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>req-3</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
        );
      } else {
        res.writeHead(500);
        res.end();
      }
    });
  });
  return new Promise((resolvePromise) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolvePromise({ server, url: `http://127.0.0.1:${port}`, seen, credentials });
    }),
  );
}

describe('the ssm-audit bin against AWS endpoints (no AWS account)', () => {
  it('names the problem when there are no credentials, and makes no call', async () => {
    const { code, out, err } = await runBin(['scan', '--region', 'eu-west-1'], isolatedEnv({}));
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(
      /ssm-audit: no AWS credentials found \(.+\)\. Configure credentials the standard way: --profile NAME/,
    );
  }, 300_000);

  it('names the problem when a --profile does not exist', async () => {
    const { code, err } = await runBin(
      ['collect', '--region', 'eu-west-1', '--profile', 'nope', '--out', '/tmp/x.json'],
      isolatedEnv({}),
    );
    expect(code).toBe(2);
    expect(err).toMatch(/no AWS credentials found for profile nope/);
  }, 300_000);

  it('scan with neither --snapshot nor a region names both ways to give it input', async () => {
    const { code, out, err } = await runBin(['scan'], isolatedEnv(FAKE_CREDENTIALS));
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toBe(
      'ssm-audit: nothing to scan: pass --snapshot FILE (a saved snapshot) or --region R (the live account)\n' +
        "hint: `ssm-audit collect --region R --out FILE` saves a snapshot; AWS_REGION or your AWS profile's region also selects a live scan\n",
    );
  }, 300_000);

  it('collect without a region names the ways to give one', async () => {
    const { code, err } = await runBin(
      ['collect', '--out', '/tmp/never-written.json'],
      isolatedEnv(FAKE_CREDENTIALS),
    );
    expect(code).toBe(2);
    expect(err).toBe(
      'ssm-audit: no AWS region: pass --region, set AWS_REGION, or set a region in your AWS config profile\n',
    );
  }, 300_000);

  it('honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_SSM unchanged; every denial becomes an ERROR finding', async () => {
    // Prepare: one endpoint for everything, and a second one that only SSM may use.
    const main = await startAwsEndpoint();
    const ssm = await startAwsEndpoint();
    try {
      // Act
      const { code, out, err } = await runBin(
        ['scan', '--format', 'json'],
        isolatedEnv({
          ...FAKE_CREDENTIALS,
          AWS_REGION: 'eu-west-1',
          AWS_ENDPOINT_URL: main.url,
          AWS_ENDPOINT_URL_SSM: ssm.url,
        }),
      );
      // Assess: the run completed, with ERROR findings that name the denied permissions.
      expect(err).toContain('ec2:DescribeInstances was denied (UnauthorizedOperation)');
      expect(code).toBe(1);
      const findings = JSON.parse(out) as Finding[];
      expect(findings.length).toBeGreaterThan(0);
      expect(findings.every((f) => f.status === 'ERROR')).toBe(true);
      expect(findings.every((f) => f.accountId === '210987654321')).toBe(true);
      const messages = findings.map((f) => f.message).join('\n');
      for (const permission of [
        'ec2:DescribeInstances',
        'ssm:DescribeInstanceInformation',
        'ssm:DescribeActivations',
        'iam:GetAccountAuthorizationDetails',
      ]) {
        expect(messages).toContain(permission);
      }
      // stderr lists every failed call, including those no finding had to name first.
      for (const call of ['ssm:GetServiceSetting was denied', 'ec2:DescribeVpcEndpoints was denied']) {
        expect(err).toContain(call);
      }
      // Each service went where its variable sends it.
      expect(main.seen).toEqual(
        expect.arrayContaining([
          'ec2:DescribeInstances',
          'iam:GetAccountAuthorizationDetails',
          'sts:GetCallerIdentity',
        ]),
      );
      expect(main.seen.some((s) => s.startsWith('ssm:'))).toBe(false);
      expect(ssm.seen).toEqual(
        expect.arrayContaining([
          'ssm:DescribeInstanceInformation',
          'ssm:GetServiceSetting',
          'ssm:DescribeActivations',
        ]),
      );
      expect(ssm.seen.every((s) => s.startsWith('ssm:'))).toBe(true);
    } finally {
      main.server.close();
      ssm.server.close();
    }
  }, 300_000);

  it('uses a named profile from the shared config and credentials files (--profile)', async () => {
    const endpoint = await startAwsEndpoint();
    const dir = mkdtempSync(join(tmpdir(), 'ssm-audit-profile-'));
    try {
      writeFileSync(join(dir, 'config'), '[profile audit]\nregion = ap-southeast-2\n');
      writeFileSync(
        join(dir, 'credentials'),
        '[audit]\naws_access_key_id = AKIAPROFILEEXAMPLE01\naws_secret_access_key = secretsecretsecret\n',
      );
      const { code, err } = await runBin(
        ['collect', '--profile', 'audit', '--out', join(dir, 'snapshot.json')],
        isolatedEnv({
          AWS_CONFIG_FILE: join(dir, 'config'),
          AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
          AWS_ENDPOINT_URL: endpoint.url,
        }),
      );
      expect(err).toContain('in ap-southeast-2');
      expect(code).toBe(0);
      // Every request was signed with the profile's key for the profile's region (IAM and STS sign for us-east-1).
      expect([...endpoint.credentials].every((c) => c.startsWith('AKIAPROFILEEXAMPLE01/'))).toBe(true);
      expect(endpoint.credentials.has('AKIAPROFILEEXAMPLE01/ap-southeast-2')).toBe(true);
      const written = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8'));
      expect(written).toMatchObject({ region: 'ap-southeast-2', accountId: '210987654321' });
      expect(Object.keys(written.calls)).toContain('ec2:DescribeInstances');
    } finally {
      endpoint.server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('a hung endpoint times out, is recorded as a failed call and the run completes', async () => {
    // Prepare: EC2 never answers; every other service answers with its real-protocol denial.
    const wire = await startAwsEndpoint();
    let hungRequests = 0;
    const hung = createServer(() => void hungRequests++);
    await new Promise<void>((done) => hung.listen(0, '127.0.0.1', () => done()));
    const saved = { ...process.env };
    Object.assign(process.env, FAKE_CREDENTIALS, {
      AWS_ENDPOINT_URL: wire.url,
      AWS_ENDPOINT_URL_EC2: `http://127.0.0.1:${(hung.address() as AddressInfo).port}`,
    });
    const clients = createAwsClients({ region: 'eu-west-1', requestTimeoutMs: 200 });
    try {
      // Act
      const result = await collectSnapshot(clients, {
        region: 'eu-west-1',
        backoff: { retries: 0 },
        now: () => new Date('2026-11-23T10:00:00Z'),
      });
      // Assess
      expect(result.snapshot.calls['ec2:DescribeInstances']).toMatchObject({
        status: 'error',
        error: 'timed out after 0.2 s',
      });
      expect(result.snapshot.calls['ssm:DescribeInstanceInformation']).toMatchObject({ status: 'denied' });
      expect(result.snapshot.accountId).toBe('210987654321');
      // One EC2 request, not retried; the other EC2 calls were not sent to the unresponsive endpoint.
      expect(result.stats.calls['ec2:DescribeInstances']).toBe(1);
      expect(hungRequests).toBeLessThanOrEqual(1);
      expect(result.snapshot.calls['ec2:DescribeVpcs']).toMatchObject({
        status: 'error',
        error: 'not sent: the ec2 endpoint timed out after 0.2 s',
      });
      const findings = auditSnapshot(result.snapshot, {
        rules: RULES,
        now: new Date(result.snapshot.collectedAt),
      }).findings;
      const timedOut = findings.filter(
        (f) =>
          f.status === 'ERROR' && f.message.includes('ec2:DescribeInstances failed (timed out after 0.2 s)'),
      );
      expect(timedOut.length).toBeGreaterThan(0);
      // A timeout is a failure to retry, not a permission to grant.
      expect(
        timedOut.every((f) => f.reason === 'API_CALL_FAILED' && f.remediation.startsWith('Retry the audit')),
      ).toBe(true);
    } finally {
      process.env = saved;
      destroyAwsClients(clients);
      hung.closeAllConnections();
      hung.close();
      wire.server.close();
    }
  }, 300_000);
});
