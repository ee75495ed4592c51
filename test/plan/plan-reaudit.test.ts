import { RULES } from '../../rules';
import { BLOCKING_RULES, buildPlan } from '../../scripts/ssm-audit/plan';
import { auditSnapshot } from '../../shared/engine/audit';
import { loadSnapshotFile, parseSnapshot } from '../../shared/snapshot/load';
import type { Snapshot } from '../../shared/snapshot/schema';
import { applyFixes } from '../support/apply-fix';
import { buildSyntheticSnapshot } from '../support/synthetic';

/**
 * The plan's figures are what a re-audit finds (issue 14): on the demo fleets and on synthetic fleets
 * (random network, IAM and agent faults), the snapshot edited as the first N fixes' commands would edit
 * the account is re-audited, and the nodes without a failing prerequisite are exactly those manageable
 * before plus those the plan counts as unblocked by step N. No fix may break a node that was fine.
 */

function nodesWithoutBlockingFailure(s: Snapshot) {
  const now = new Date(s.collectedAt);
  const findings = auditSnapshot(s, { rules: RULES, now, evaluatedAt: now }).findings;
  const blocked = new Set(
    findings
      .filter((f) => (BLOCKING_RULES as readonly string[]).includes(f.ruleId))
      .filter((f) => f.status === 'FAIL' || f.status === 'ERROR')
      .map((f) => f.resourceId),
  );
  const nodes = findings
    .filter(
      (f) =>
        f.ruleId === 'managed-status' &&
        (f.status !== 'NOT_APPLICABLE' || f.reason === 'REGISTRATION_PENDING'),
    )
    .map((f) => f.resourceId);
  return { findings, fine: new Set(nodes.filter((id) => !blocked.has(id))) };
}

/**
 * The snapshot edited as the first n steps' commands would edit the account, re-audited, for each n:
 * nodes that break, nodes counted but still blocked, nodes manageable but not counted (none expected).
 */
function reauditMismatches(
  snapshot: Snapshot,
  before: ReturnType<typeof nodesWithoutBlockingFailure>,
  plan: ReturnType<typeof buildPlan>,
  counts: readonly number[],
): Record<string, string[]> {
  const mismatches: Record<string, string[]> = {};
  for (const n of counts) {
    const after = nodesWithoutBlockingFailure(
      applyFixes(
        snapshot,
        plan.steps.slice(0, n).map((s) => s.fix),
      ),
    ).fine;
    const expected = new Set([...before.fine, ...plan.steps.slice(0, n).flatMap((s) => s.unblocked)]);
    const wrong = {
      broken: [...before.fine].filter((id) => !after.has(id)),
      countedButBlocked: [...expected].filter((id) => !after.has(id) && !before.fine.has(id)),
      manageableButNotCounted: [...after].filter((id) => !expected.has(id)),
    };
    for (const [kind, ids] of Object.entries(wrong))
      if (ids.length) mismatches[`after ${n} of ${plan.steps.length} steps, ${kind}`] = ids;
  }
  return mismatches;
}

/** A fleet, and whether to re-audit after every step (small fleets) or after each quarter. */
const fleets: [string, () => Promise<Snapshot>, 'every step' | 'quarters'][] = [
  ['the demo fleet', () => loadSnapshotFile('test/fixtures/demo/demo-fleet.json'), 'every step'],
  [
    'the demo fleet a week later',
    () => loadSnapshotFile('test/fixtures/demo/demo-fleet-after.json'),
    'every step',
  ],
  ...(
    [
      [600, 1, 'quarters'],
      [600, 2, 'quarters'],
      [600, 3, 'quarters'],
      [600, 4, 'quarters'],
      // An endpoint without private DNS and a security group without egress: opening the group is enough.
      [150, 24, 'every step'],
    ] as const
  ).map(([instances, seed, cuts]): [string, () => Promise<Snapshot>, 'every step' | 'quarters'] => [
    `synthetic fleet of ${instances} instances, seed ${seed}`,
    async () => parseSnapshot(buildSyntheticSnapshot({ instances, seed })),
    cuts,
  ]),
];

describe.each(fleets)('the plan of %s', (_name, load, cuts) => {
  it(`matches the re-audit after ${cuts === 'every step' ? 'every step' : 'each quarter of its steps'}, breaking nothing`, async () => {
    const snapshot = await load();
    const before = nodesWithoutBlockingFailure(snapshot);
    const plan = buildPlan(before.findings, snapshot);
    expect(plan.steps.length).toBeGreaterThan(3);
    const counts =
      cuts === 'every step'
        ? plan.steps.map((s) => s.rank)
        : [0.25, 0.5, 0.75, 1].map((share) => Math.round(plan.steps.length * share));
    const mismatches = reauditMismatches(snapshot, before, plan, counts);
    expect(mismatches).toEqual({});
  });
});

describe('what a rule names first can hide the next failure; the plan fixes both', () => {
  const planOf = (s: Snapshot) => {
    const now = new Date(s.collectedAt);
    return buildPlan(auditSnapshot(s, { rules: RULES, now, evaluatedAt: now }).findings, s);
  };

  it('holds back a role capped by its permissions boundary instead of attaching a policy that cannot help', async () => {
    const plan = planOf(await loadSnapshotFile('test/fixtures/demo/demo-fleet-after.json'));
    const cache = plan.heldBack.find((h) => h.nodeId === 'i-00afdff52490d5a6d')!;
    expect(cache.reasons).toEqual([
      "instance-permissions DHMC_SHADOWED_BY_PROFILE: role cache-role's permissions boundary does not allow ssmmessages:CreateControlChannel, ssmmessages:CreateDataChannel, ssmmessages:OpenControlChannel, ssmmessages:OpenDataChannel: a person must decide whether to widen it — Either allow ssmmessages:CreateControlChannel, ssmmessages:CreateDataChannel, ssmmessages:OpenControlChannel, ssmmessages:OpenDataChannel in arn:aws:iam::123456789012:policy/DeveloperBoundary, the permissions boundary of role cache-role (the role's own policies already allow them, so attaching a policy cannot help), or remove ssm:UpdateInstanceInformation from the profile so the agent falls back to DHMC.",
    ]);
    expect([...plan.steps.map((s) => s.fix), ...plan.otherFixes].map((f) => f.id)).not.toContain(
      'attach-policy:cache-role:AmazonSSMManagedInstanceCore',
    );
  });

  it('updates an old agent together with IMDSv2 (DHMC checks the version after IMDS)', async () => {
    const s = parseSnapshot(buildSyntheticSnapshot({ instances: 600, seed: 4 }));
    const plan = planOf(s);
    const imds = plan.steps.find((st) => st.fix.id === 'imdsv2:eu-west-1')!;
    const agent = plan.steps.find((st) => st.fix.id === 'update-agent:eu-west-1')!;
    // Some instances need both: they count only after the later of the two.
    const both = imds.fix.nodes.filter((id) => agent.fix.nodes.includes(id));
    expect(both.length).toBeGreaterThan(0);
    const later = imds.rank > agent.rank ? imds : agent;
    for (const id of both) expect(later.unblocked).toContain(id);
  });

  it('makes with an endpoint set what the VPC’s other instances then need: the S3 grant, an egress rule', () => {
    const s = parseSnapshot(buildSyntheticSnapshot({ instances: 600, seed: 1 }));
    const sets = planOf(s)
      .steps.map((st) => st.fix)
      .filter((f) => f.change.kind === 'vpc-endpoints');
    const changes = sets.map((f) => f.change as { s3Grants?: unknown[]; companions?: { id: string }[] });
    expect(changes.some((c) => (c.s3Grants ?? []).length > 0)).toBe(true);
    expect(changes.flatMap((c) => c.companions ?? []).map((c) => c.id)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^sg-egress-443:sg-/)]),
    );
    // Each bundled change is a command of the set, and no command is planned twice.
    const lines = sets.flatMap((f) => f.commands.map((c) => c.argv.join(' ')));
    expect(lines.some((l) => l.startsWith('aws iam put-role-policy'))).toBe(true);
    expect(lines.some((l) => l.startsWith('aws ec2 authorize-security-group-egress'))).toBe(true);
    const all = planOf(s).steps.flatMap((st) => st.fix.commands.map((c) => c.argv.join(' ')));
    const egress = all.filter((l) => l.startsWith('aws ec2 authorize-security-group-egress'));
    expect(new Set(egress).size).toBe(egress.length);
  });
});

describe('turning DHMC on makes the whole DHMC path', () => {
  /**
   * The demo fleet with DHMC off and its role deleted, and one profile-less instance on IMDSv1 with an
   * agent older than DHMC needs: the rule names the missing setting; the role, IMDSv2 and the agent
   * come next.
   */
  const variant = async () => {
    const s = JSON.parse(
      JSON.stringify(await loadSnapshotFile('test/fixtures/demo/demo-fleet.json')),
    ) as Snapshot;
    s.ssm!.ServiceSettings = s.ssm!.ServiceSettings!.map((x) =>
      x.SettingId.endsWith('default-ec2-instance-management-role') ? { ...x, SettingValue: '$None' } : x,
    );
    s.iam!.RoleDetailList = s.iam!.RoleDetailList!.filter(
      (r) => r.RoleName !== 'AWSSystemsManagerDefaultEC2InstanceManagementRole',
    );
    const info = s.ssm!.InstanceInformationList!.find((x) => x.InstanceId === 'i-0d2628533b6a01658')!;
    info.AgentVersion = '3.1.1732.0';
    for (const r of s.ec2!.Reservations!)
      for (const i of r.Instances)
        if (i.InstanceId === 'i-0d2628533b6a01658')
          i.MetadataOptions = { ...i.MetadataOptions, HttpTokens: 'optional' };
    return parseSnapshot(s);
  };

  it('plans the setting, the role, IMDSv2 and the agent update, and the re-audit agrees after every step', async () => {
    const snapshot = await variant();
    const before = nodesWithoutBlockingFailure(snapshot);
    const plan = buildPlan(before.findings, snapshot);
    const fixesOf = (id: string) =>
      [...plan.steps.map((s) => s.fix), ...plan.otherFixes]
        .filter((f) => f.nodes.includes(id))
        .map((f) => f.id);
    expect(fixesOf('i-0d2628533b6a01658')).toEqual(
      expect.arrayContaining([
        'dhmc-setting:eu-west-1',
        'dhmc-role:AWSSystemsManagerDefaultEC2InstanceManagementRole',
        'imdsv2:eu-west-1',
        'update-agent:eu-west-1',
      ]),
    );
    const role = plan.steps.find((s) => s.fix.id.startsWith('dhmc-role:'))!.fix;
    expect(role.commands.map((c) => c.argv.slice(0, 3).join(' '))).toEqual([
      'aws iam create-role',
      'aws iam attach-role-policy',
      'aws iam put-role-policy',
    ]);
    expect(role.commands[0]!.argv).toEqual(expect.arrayContaining(['--path', '/service-role/']));
    expect(
      reauditMismatches(
        snapshot,
        before,
        plan,
        plan.steps.map((st) => st.rank),
      ),
    ).toEqual({});
  });
});
