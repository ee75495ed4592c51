/**
 * Benchmark section: Organization mode at scale (issue 12 item 7). A fake Organization (default 1,000
 * accounts × 4 regions × 100 instances = 400,000 instances) is served in process by aws-sdk-client-mock
 * handlers that route each request by the credentials' account (test/support/fake-organization.ts). The
 * planner's logic (OrganizationReader.listAccounts + scpsFor, one job per account-region) and the
 * workers (AssumeRole once per account, collect, audit with every rule) run in process through the
 * CLI's runner (scripts/ssm-audit/org.ts); a sample of account-regions is also recorded in the findings
 * table on dynalite. Printed: jobs/s, API calls per job vs the minimum, peak memory, the projected wall
 * time on Lambda at concurrency 50 and 200 from stated per-call latencies, and a capacity plan.
 */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { performance } from 'node:perf_hooks';
import { RULES, RULE_IDS } from '../../rules';
import { createAwsClients, destroyAwsClients } from '../../shared/aws/clients';
import { auditSnapshot } from '../../shared/engine/audit';
import { recordAudit } from '../../shared/pipeline/record-audit';
import { FindingsStore } from '../../shared/store/findings-store';
import { buildCollectionFleet } from '../../test/support/collection-fleet';
import { fakeOrganization, retarget } from '../../test/support/fake-organization';
import { runOrganization, type OrgRunResult } from '../ssm-audit/org';
import { startLocalDynamo } from '../ssm-audit/local-dynamodb';
import { minimumCalls } from './bench-api-calls';

export interface OrgBenchOptions {
  accounts: number;
  regions: number;
  instances: number;
  /** Account-regions also recorded in the findings table (dynalite). */
  storeSample: number;
  concurrency: number;
  /** Accounts whose jobs the workers run in process (the per-job cost is measured on them); the
   * planner always reads every account. Default: all. */
  workerAccounts?: number;
  /** Fixed collection time: no figure depends on the wall clock's date. */
  clock?: () => Date;
}

export const ORG_DEFAULTS: OrgBenchOptions = {
  accounts: 1_000,
  regions: 4,
  instances: 100,
  storeSample: 20,
  concurrency: 16,
  workerAccounts: 100,
};

/** Per-call latencies assumed for the projection (typical in-region figures, not measured here). */
export /** The planner's Organizations requests in flight (functions/lib/runtime.ts ORG_PLANNER_CONCURRENCY default). */
const PLANNER_CONCURRENCY = 8;
const LATENCY_MS = {
  ec2: 150,
  ssm: 100,
  iam: 100,
  sts: 100,
  assumeRole: 200,
  organizations: 100,
  dynamoWrite: 10,
} as const;
/** Writes the store sends at once per worker (FindingsStore writeConcurrency). */
const STORE_WRITE_CONCURRENCY = 32;
export const SCHEDULE_SECONDS = 15 * 60;
const REGION_NAMES = ['eu-west-1', 'us-east-1', 'ap-southeast-2', 'eu-central-1', 'us-west-2', 'sa-east-1'];

export interface OrgBenchResult {
  options: OrgBenchOptions;
  /** Jobs of the whole Organization (the planner's). */
  jobs: number;
  /** Jobs the workers ran in process. */
  workerJobs: number;
  plannerAssumeRole: number;
  plannerMeasuredSeconds: number;
  audited: number;
  instances: number;
  findings: number;
  seconds: number;
  jobsPerSecond: number;
  /** Member-account API calls per job, by service prefix, and their mean total. */
  callsPerJob: number;
  minimumPerJob: number;
  serviceCallsPerJob: Record<string, number>;
  assumeRole: number;
  assumeRolePerAccount: number;
  organizationCalls: number;
  cpuMsPerJob: number;
  peakRssMb: number;
  peakHeapMb: number;
  store: { jobs: number; firstRunWritesPerJob: number; steadyWritesPerJob: number; secondsPerJob: number };
  /** Projected Lambda wall seconds of one job (serial latencies + CPU + store writes). */
  jobSeconds: number;
  plannerSeconds: number;
  projection: { concurrency: number; seconds: number; met: boolean }[];
}

export async function simulateOrganization(options: OrgBenchOptions): Promise<OrgBenchResult> {
  const clock = options.clock ?? (() => new Date('2026-01-15T10:00:00Z'));
  const regions = REGION_NAMES.slice(0, options.regions);
  const fleet = buildCollectionFleet({ instances: options.instances });
  const template = JSON.stringify(fleet.snapshot);
  const ous = Array.from({ length: 10 }, (_, i) => ({
    id: `ou-root-bench${String(i).padStart(3, '0')}`,
    name: `OU ${i}`,
    parent: 'r-root',
  }));
  const accounts = Array.from({ length: options.accounts }, (_, i) => ({
    id: String(100_000_000_000 + i),
    parent: ous[i % ous.length]!.id,
  }));
  const fake = fakeOrganization({
    accounts,
    ous,
    scps: [
      {
        id: 'p-FullAWSAccess',
        name: 'FullAWSAccess',
        document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
        targets: ['r-root', ...ous.map((o) => o.id), ...accounts.map((a) => a.id)],
      },
    ],
    enabledRegions: regions,
    snapshotFor: (accountId, region) => retarget(template, accountId, region),
    cacheSize: options.concurrency * 2,
  });
  const minimumPerJob = minimumCalls(fleet.snapshot);
  const local = await startLocalDynamo('bench-org-findings');
  const mgmt = createAwsClients({
    region: 'us-east-1',
    credentials: async () => ({ accessKeyId: 'AKIAMANAGEMENT', secretAccessKey: 'x' }),
  });
  const organizations = new OrganizationsClient({
    region: 'us-east-1',
    credentials: async () => ({ accessKeyId: 'AKIAMANAGEMENT', secretAccessKey: 'x' }),
  });
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const sampleMemory = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sampleMemory, 50);
  timer.unref();
  let findings = 0;
  let instances = 0;
  const stored: { first: number; steady: number; seconds: number }[] = [];
  const toStore: {
    snapshot: import('../../shared/snapshot/schema').Snapshot;
    result: ReturnType<typeof auditSnapshot>;
  }[] = [];
  const store = new FindingsStore({
    client: local.doc,
    tableName: local.tableName,
    writeConcurrency: STORE_WRITE_CONCURRENCY,
  });
  let jobIndex = 0;
  let run: OrgRunResult;
  let seconds = 0;
  let cpu = { user: 0, system: 0 };
  let planner = { accounts: 0, organizationCalls: 0, assumeRole: 0, seconds: 0 };
  try {
    // The planner over the whole Organization: every account listed, its SCPs read, its role assumed.
    const p0 = performance.now();
    const { OrganizationReader } = await import('../../shared/collect/organization');
    const { MemberCredentials } = await import('../../shared/aws/assume');
    const reader = new OrganizationReader(organizations);
    const listing = await reader.listAccounts({});
    const members = new MemberCredentials(
      mgmt.sts,
      { roleName: 'SsmReadinessAuditorMember' },
      { partition: 'aws', clock },
    );
    for (const account of listing.accounts) {
      await reader.scpsFor(account);
      await members.forAccount(account.id)();
    }
    planner = {
      accounts: listing.accounts.length,
      organizationCalls: [...reader.counts.values()].reduce((a, b) => a + b, 0),
      assumeRole: members.assumed,
      seconds: (performance.now() - p0) / 1000,
    };
    fake.calls.clear();
    fake.callsByJob.clear();
    fake.assumeRoleCalls.clear();
    const workerAccounts = Math.min(options.accounts, options.workerAccounts ?? options.accounts);
    const storeEvery = Math.max(
      1,
      Math.floor((workerAccounts * regions.length) / Math.max(1, options.storeSample)),
    );
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    run = await runOrganization(
      {
        organization: true,
        selection:
          workerAccounts < options.accounts
            ? { accounts: accounts.slice(0, workerAccounts).map((a) => a.id) }
            : {},
        roleName: 'SsmReadinessAuditorMember',
        concurrency: options.concurrency,
        partition: 'aws',
        clock,
      },
      {
        sts: mgmt.sts,
        ec2: mgmt.ec2,
        organizations,
        clientsFor: (region, credentials) => createAwsClients({ region, credentials }),
        destroy: destroyAwsClients,
      },
      {
        onSnapshot: async ({ snapshot }) => {
          const now = new Date(snapshot.collectedAt);
          const result = auditSnapshot(snapshot, { rules: RULES, now, evaluatedAt: now });
          findings += result.findings.length;
          instances += snapshot.ec2?.Reservations?.reduce((n, r) => n + r.Instances.length, 0) ?? 0;
          if (jobIndex++ % storeEvery === 0 && toStore.length < options.storeSample)
            toStore.push({ snapshot, result });
          sampleMemory();
        },
      },
    );
    seconds = (performance.now() - t0) / 1000;
    cpu = process.cpuUsage(cpu0);
    // The store sample after the workers, so that its CPU stays out of the per-job figure.
    for (const { snapshot, result } of toStore) {
      const now = new Date(snapshot.collectedAt);
      {
        const s0 = performance.now();
        const first = await recordAudit({
          store,
          snapshot,
          result,
          ruleIds: RULE_IDS,
          now,
          clock: () => now,
        });
        const later = new Date(now.getTime() + 15 * 60_000);
        const again = await recordAudit({
          store,
          snapshot,
          result: {
            ...result,
            findings: result.findings.map((f) => ({ ...f, evaluatedAt: later.toISOString() })),
          },
          ruleIds: RULE_IDS,
          now: later,
          clock: () => later,
        });
        // Items written (1 WRU each: every item is under 1 KB), whatever request carried them.
        const writes = (w: typeof first.writes) =>
          w.findingWrites + w.historyRecords + w.alertClears + w.leaseWrites + w.runRecords;
        stored.push({
          first: writes(first.writes),
          steady: writes(again.writes),
          seconds: (performance.now() - s0) / 1000 / 2,
        });
      }
    }
  } finally {
    clearInterval(timer);
    organizations.destroy();
    destroyAwsClients(mgmt);
    fake.restore();
    await local.stop();
  }
  sampleMemory();
  const audited = run.jobs.filter((j) => j.status === 'audited').length;
  const byService: Record<string, number> = {};
  for (const [action, n] of fake.calls) {
    const service = action.split(':')[0]!;
    if (service === 'organizations' || action === 'sts:AssumeRole' || action === 'ec2:DescribeRegions')
      continue;
    byService[service] = (byService[service] ?? 0) + n / Math.max(1, audited);
  }
  const callsPerJob = [...fake.callsByJob.values()].reduce((a, b) => a + b, 0) / Math.max(1, audited);
  const storeSeconds = stored.reduce((n, s) => n + s.seconds, 0) / Math.max(1, stored.length);
  const firstWrites = stored.reduce((n, s) => n + s.first, 0) / Math.max(1, stored.length);
  const steadyWrites = stored.reduce((n, s) => n + s.steady, 0) / Math.max(1, stored.length);
  // The CPU of the store sample is in the process total; take it out of the per-job CPU (the store's
  // cost is projected from its write count instead).
  const cpuMsPerJob = (cpu.user + cpu.system) / 1000 / Math.max(1, audited);
  const latency = (service: string) => LATENCY_MS[service as keyof typeof LATENCY_MS] ?? 100;
  // Conservative: the job's calls as if sent one after another (the collector overlaps services).
  const apiSeconds = Object.entries(byService).reduce((s, [svc, n]) => s + (n * latency(svc)) / 1000, 0);
  const assumeSeconds = LATENCY_MS.assumeRole / 1000 / regions.length;
  const steadyStoreSeconds =
    (Math.ceil(steadyWrites / STORE_WRITE_CONCURRENCY) * LATENCY_MS.dynamoWrite) / 1000;
  const firstStoreSeconds =
    (Math.ceil(firstWrites / STORE_WRITE_CONCURRENCY) * LATENCY_MS.dynamoWrite) / 1000;
  const jobSeconds =
    apiSeconds + assumeSeconds + cpuMsPerJob / 1000 + Math.max(steadyStoreSeconds, firstStoreSeconds);
  const organizationCalls = planner.organizationCalls;
  // The planner reads Organizations PLANNER_CONCURRENCY requests at a time (ORG_PLANNER_CONCURRENCY's default).
  const plannerSeconds = (organizationCalls * LATENCY_MS.organizations) / 1000 / PLANNER_CONCURRENCY;
  const jobs = planner.accounts * regions.length;
  const projection = [50, 200].map((concurrency) => {
    const total = plannerSeconds + Math.ceil(jobs / concurrency) * jobSeconds;
    return { concurrency, seconds: total, met: total <= SCHEDULE_SECONDS };
  });
  const assumeRole = fake.calls.get('sts:AssumeRole') ?? 0;
  return {
    options,
    jobs,
    workerJobs: run.jobs.length,
    plannerAssumeRole: planner.assumeRole,
    plannerMeasuredSeconds: planner.seconds,
    audited,
    instances,
    findings,
    seconds,
    jobsPerSecond: run.jobs.length / seconds,
    callsPerJob,
    minimumPerJob,
    serviceCallsPerJob: byService,
    assumeRole,
    assumeRolePerAccount: assumeRole / Math.max(1, run.listing.accounts.length),
    organizationCalls,
    cpuMsPerJob,
    peakRssMb: peakRss / 1024 / 1024,
    peakHeapMb: peakHeap / 1024 / 1024,
    store: {
      jobs: stored.length,
      firstRunWritesPerJob: firstWrites,
      steadyWritesPerJob: steadyWrites,
      secondsPerJob: storeSeconds,
    },
    jobSeconds,
    plannerSeconds,
    projection,
  };
}

/** The capacity plan for an Organization of `accounts` accounts, from the measured per-job figures. */
export function capacityPlan(r: OrgBenchResult, accounts = 10_000): string[][] {
  const jobs = accounts * r.options.regions;
  const perJobSeconds = r.jobSeconds;
  const concurrency = Math.ceil((jobs * perJobSeconds) / (SCHEDULE_SECONDS - 60));
  const runsPerMonth = (30 * 24 * 3600) / SCHEDULE_SECONDS;
  // Findings are under 1 KB each → 1 WRU per conditional write; a BatchWriteItem of 25 history items is 25 WRUs.
  const firstWru = jobs * r.store.firstRunWritesPerJob;
  const steadyWru = jobs * r.store.steadyWritesPerJob;
  // FIFO: SendMessageBatch of 10 (0.1 request per job), one ReceiveMessage and one DeleteMessage per job.
  const sqsPerRun = Math.ceil(jobs * 2.1);
  const sqsMonthly = sqsPerRun * runsPerMonth;
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  return [
    ['account-regions (jobs) per run', n(jobs)],
    ['Lambda concurrency to finish in the 15-minute period (1 min for the planner)', n(concurrency)],
    ['Lambda worker duration per run (GB-s at 1 GB)', n(jobs * perJobSeconds)],
    ['DynamoDB on-demand writes, first run (WRU)', n(firstWru)],
    ['DynamoDB on-demand writes, steady run, nothing changed (WRU)', n(steadyWru)],
    [
      'DynamoDB writes per month, steady (WRU; $0.625 per million)',
      `${n(steadyWru * runsPerMonth)} ≈ $${((steadyWru * runsPerMonth * 0.625) / 1e6).toFixed(0)}`,
    ],
    ['SQS FIFO requests per run (send 1/10, receive, delete per job)', n(sqsPerRun)],
    [
      'SQS FIFO requests per month ($0.50 per million)',
      `${n(sqsMonthly)} ≈ $${((sqsMonthly * 0.5) / 1e6).toFixed(0)}`,
    ],
  ];
}

export function renderOrgBench(
  r: OrgBenchResult,
  renderTable: (h: string[], rows: string[][]) => string,
): string {
  const o = r.options;
  const f1 = (v: number) => v.toFixed(1);
  const lines = [
    `Fake Organization: ${o.accounts.toLocaleString('en-US')} accounts × ${o.regions} regions × ${o.instances} instances (${(o.accounts * o.regions * o.instances).toLocaleString('en-US')} instances), served in process. The planner ran over all ${r.jobs.toLocaleString('en-US')} jobs (every account listed, its SCPs read, its role assumed: ${r.plannerAssumeRole} AssumeRole, ${r.organizationCalls} Organizations calls, ${r.plannerMeasuredSeconds.toFixed(1)} s in process); ${r.workerJobs === r.jobs ? 'the workers collected and audited every job' : `SAMPLED: the workers collected and audited ${r.workerJobs.toLocaleString('en-US')} of the ${r.jobs.toLocaleString('en-US')} jobs (the first accounts, all regions) and the per-job figures below are measured on them (--org-workers N changes the sample)`}, concurrency ${o.concurrency}; ${r.store.jobs} account-regions also recorded twice (first run, then unchanged) in the findings table on dynalite, after the workers.`,
    renderTable(
      ['figure', 'value'],
      [
        [
          'jobs (account-regions)',
          `${r.jobs} planned, ${r.workerJobs} run by the workers (${r.audited} audited)`,
        ],
        ['instances audited', r.instances.toLocaleString('en-US')],
        ['findings', r.findings.toLocaleString('en-US')],
        ['wall seconds in process', f1(r.seconds)],
        ['jobs/s in process', f1(r.jobsPerSecond)],
        [
          'API calls per job (member account)',
          `${f1(r.callsPerJob)} (${Object.entries(r.serviceCallsPerJob)
            .map(([s, n]) => `${s} ${f1(n)}`)
            .join(', ')})`,
        ],
        ['minimum per job (DESIGN §2) + AssumeRole per account', `${r.minimumPerJob} + 1 per account`],
        [
          'vs minimum',
          r.callsPerJob <= r.minimumPerJob + 1e-9 ? 'at minimum' : `+${f1(r.callsPerJob - r.minimumPerJob)}`,
        ],
        ['AssumeRole (workers)', `${r.assumeRole} (${f1(r.assumeRolePerAccount)} per account)`],
        ['Organizations calls (planner, whole run)', String(r.organizationCalls)],
        ['CPU per job (collect + audit, measured)', `${f1(r.cpuMsPerJob)} ms`],
        [
          'peak RSS / heap (whole process: fake AWS, dynalite and workers)',
          `${f1(r.peakRssMb)} MB / ${f1(r.peakHeapMb)} MB`,
        ],
        [
          'store writes per job: first run / steady (sample)',
          `${f1(r.store.firstRunWritesPerJob)} / ${f1(r.store.steadyWritesPerJob)}`,
        ],
      ],
    ),
    '',
    `Projection on Lambda. Assumed latencies per call: EC2 Describe* ${LATENCY_MS.ec2} ms, SSM ${LATENCY_MS.ssm} ms, IAM ${LATENCY_MS.iam} ms, STS AssumeRole ${LATENCY_MS.assumeRole} ms (once per account, shared by its regions), Organizations ${LATENCY_MS.organizations} ms (planner, ${PLANNER_CONCURRENCY} at a time), DynamoDB write ${LATENCY_MS.dynamoWrite} ms (${STORE_WRITE_CONCURRENCY} at a time). A job's calls are counted as if sent one after another (the collector overlaps them, so this is an upper bound), plus the measured CPU per job. Job: ${f1(r.jobSeconds)} s; planner: ${f1(r.plannerSeconds)} s.`,
    renderTable(
      [
        'Lambda concurrency',
        'projected wall time',
        `target: within the ${SCHEDULE_SECONDS / 60}-minute schedule period`,
      ],
      r.projection.map((p) => [String(p.concurrency), `${f1(p.seconds / 60)} min`, p.met ? 'met' : 'missed']),
    ),
    '',
    'Capacity plan for 10,000 accounts (same regions and fleet per account-region):',
    renderTable(['resource', 'per 15-minute run'], capacityPlan(r)),
  ];
  return lines.join('\n');
}
