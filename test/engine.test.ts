import { aNetwork, anInstance, aRole, aSnapshot, instanceInfo } from './support/builders';
import { RULES, RULE_IDS } from '../rules';
import { resolveConfig } from '../shared/config';
import { evaluateInventory } from '../shared/engine/evaluate';
import { buildInventory } from '../shared/snapshot/inventory';
import { FINDING_FIELDS, SEVERITIES, STATUSES, type Finding } from '../shared/model';
import { defineRule, type Outcome, type Rule } from '../shared/engine/rule';
import { parseSnapshot } from '../shared/snapshot/load';
import { POLICY_ARNS } from '../shared/knowledge/ssm-requirements';
import { audit, NOW } from './support/helpers';

const A = 'i-0aaaaaaaaaaaaaaa1';
const B = 'i-0bbbbbbbbbbbbbbb2';
const fleet = () =>
  aSnapshot({
    instances: [anInstance({ id: A }), anInstance({ id: B, profile: null })],
    ec2: aNetwork(),
    infos: [instanceInfo({ id: A }), instanceInfo({ id: 'mi-0ccccccccccccccc3' })],
    roles: [
      aRole({ name: 'SSMInstanceProfile', profiles: ['SSMInstanceProfile'], managed: [POLICY_ARNS.core] }),
    ],
  });

describe('engine', () => {
  it('gives every finding exactly the DESIGN §3 fields with valid enums', () => {
    const { findings } = audit(fleet());
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings) {
      expect(Object.keys(f).sort()).toEqual([...FINDING_FIELDS].sort());
      expect(STATUSES).toContain(f.status);
      expect(SEVERITIES).toContain(f.severity);
      expect(RULE_IDS).toContain(f.ruleId);
      expect(f.reason).toMatch(/^[A-Z0-9_]+$/);
      expect(f.reference).toMatch(
        /^https:\/\/docs\.aws\.amazon\.com\/systems-manager\/latest\/userguide\/[a-z0-9-]+\.html$/,
      );
      expect(f.remediation.length).toBeGreaterThan(0);
      expect(f.evaluatedAt).toBe(NOW.toISOString());
    }
  });

  it('runs every rule for every applicable resource', () => {
    const { findings } = audit(fleet());
    const pairs = new Set(findings.map((f) => `${f.ruleId}:${f.resourceId}`));
    for (const id of [A, B]) {
      for (const rule of [
        'instance-permissions',
        'network-path',
        's3-bucket-access',
        'managed-status',
        'supported-os',
      ]) {
        expect(pairs).toContain(`${rule}:${id}`);
      }
    }
    for (const rule of ['hybrid-service-role', 'network-path', 'managed-status', 'supported-os']) {
      expect(pairs).toContain(`${rule}:mi-0ccccccccccccccc3`);
    }
    for (const rule of ['instance-permissions', 'activations', 'instance-tier'])
      expect(pairs).toContain(`${rule}:123456789012`);
  });

  it('isolates a throwing rule: ERROR for that rule and resource only, the rest goes on', () => {
    // Prepare: a rule that throws for one instance only.
    const broken: Rule = defineRule({
      meta: { ...RULES[7].meta },
      evaluate(subject) {
        if (subject.kind === 'ec2' && subject.instance.id === A) throw new TypeError('boom');
        return { reason: 'OS_SUPPORTED' as const, message: 'fine' };
      },
    });
    const rules = [...RULES.slice(0, 7), broken];
    // Act
    const { findings } = evaluateInventory(buildInventory(parseSnapshot(fleet())), {
      rules,
      now: NOW,
      config: resolveConfig(),
    });
    // Assess
    const ofBroken = findings.filter((f) => f.ruleId === broken.meta.id);
    expect(ofBroken.find((f) => f.resourceId === A)).toMatchObject({
      status: 'ERROR',
      reason: 'RULE_EXCEPTION',
    });
    expect(ofBroken.find((f) => f.resourceId === A)?.message).toContain('boom');
    expect(ofBroken.find((f) => f.resourceId === B)).toMatchObject({ status: 'PASS' });
    expect(findings.filter((f) => f.ruleId === 'instance-permissions' && f.resourceId === A)[0]?.status).toBe(
      'PASS',
    );
  });

  describe("reasons: status, severity and remediation come from the rule's meta.reasons", () => {
    const reasons = {
      FINE: { status: 'PASS', remediation: 'No action needed.' },
      NEEDS_FIX: {
        status: 'FAIL',
        severity: 'LOW',
        remediation: 'aws ec2 do-something --instance-id {instanceId} --in {partition}',
      },
      TWO_WAYS: {
        status: 'WARN',
        remediation: { left: 'Go left at {instanceId}.', right: 'Go right.' },
      },
    } as const;
    /** supported-os's metadata with these reasons, deciding every instance with `decide`. */
    const ruleWith = (decide: (instanceId: string) => Outcome | undefined): Rule => ({
      meta: { ...RULES[7].meta, reasons },
      evaluate: (subject) =>
        (subject.kind === 'ec2' ? decide(subject.instance.id) : undefined) ?? {
          reason: 'FINE',
          message: 'fine',
        },
    });
    const findingsOf = (rule: Rule, id: string) =>
      evaluateInventory(buildInventory(parseSnapshot(fleet())), { rules: [rule], now: NOW }).findings.filter(
        (f) => f.resourceId === id,
      );

    const accepted: { case: string; outcome: Outcome; expected: Partial<Finding> }[] = [
      {
        case: 'the declared status and severity, the template filled with the outcome values',
        outcome: { reason: 'NEEDS_FIX', message: 'm', params: { instanceId: A, partition: 'aws-cn' } },
        expected: {
          status: 'FAIL',
          severity: 'LOW',
          reason: 'NEEDS_FIX',
          remediation: `aws ec2 do-something --instance-id ${A} --in aws-cn`,
        },
      },
      {
        case: 'the variant the outcome names',
        outcome: { reason: 'TWO_WAYS', variant: 'left', message: 'm', params: { instanceId: A } },
        expected: { status: 'WARN', severity: 'MEDIUM', reason: 'TWO_WAYS', remediation: `Go left at ${A}.` },
      },
      {
        case: 'PASS is INFORMATIONAL by default',
        outcome: { reason: 'FINE', message: 'm' },
        expected: { status: 'PASS', severity: 'INFORMATIONAL', remediation: 'No action needed.' },
      },
      {
        case: 'a status equal to the declared one is accepted',
        outcome: {
          reason: 'NEEDS_FIX',
          status: 'FAIL',
          message: 'm',
          params: { instanceId: A, partition: 'aws' },
        },
        expected: { status: 'FAIL', reason: 'NEEDS_FIX' },
      },
    ];
    it.each(accepted)('$case', ({ outcome, expected }) => {
      // Act
      const [finding] = findingsOf(
        ruleWith((id) => (id === A ? outcome : undefined)),
        A,
      );
      // Assess
      expect(finding).toMatchObject(expected);
    });

    const defects: { case: string; outcome: Outcome; detail: string }[] = [
      {
        case: 'an undeclared reason',
        outcome: { reason: 'MADE_UP', message: 'm' },
        detail: 'reason MADE_UP is not declared',
      },
      {
        case: 'a status that disagrees with the declared one',
        outcome: { reason: 'FINE', status: 'FAIL', message: 'm' },
        detail: 'returned FAIL for FINE, which its meta.reasons declare PASS',
      },
      {
        case: 'a placeholder without a value',
        outcome: { reason: 'NEEDS_FIX', message: 'm', params: { instanceId: A } },
        detail: 'needs a value for {partition}',
      },
      {
        case: 'a variant the reason does not declare',
        outcome: { reason: 'TWO_WAYS', variant: 'up', message: 'm' },
        detail: 'has no remediation variant "up"',
      },
    ];
    it.each(defects)(
      '$case is a defect: ERROR RULE_EXCEPTION for that resource only',
      ({ outcome, detail }) => {
        // Act
        const rule = ruleWith((id) => (id === A ? outcome : undefined));
        const [finding] = findingsOf(rule, A);
        // Assess
        expect(finding).toMatchObject({
          status: 'ERROR',
          reason: 'RULE_EXCEPTION',
          evidence: { error: 'RuleContractError' },
        });
        expect(finding?.message).toContain(detail);
        expect(findingsOf(rule, B)).toMatchObject([{ status: 'PASS', reason: 'FINE' }]);
      },
    );
  });

  it('selecting only managed-status still runs its prerequisites but returns only its findings', () => {
    const { findings, rulesRun } = audit(fleet(), { ruleIds: ['managed-status'] });
    expect(new Set(findings.map((f) => f.ruleId))).toEqual(new Set(['managed-status']));
    expect(rulesRun).toEqual(
      expect.arrayContaining(['instance-permissions', 'network-path', 's3-bucket-access', 'managed-status']),
    );
    // B has no profile and DHMC is off: the root cause comes from instance-permissions.
    const b = findings.find((f) => f.resourceId === B);
    expect(b).toMatchObject({ status: 'FAIL', reason: 'UNMANAGED' });
  });

  it('filters by resource id and skips account-level rules then', () => {
    const { findings } = audit(fleet(), { resourceIds: [B] });
    expect(new Set(findings.map((f) => f.resourceId))).toEqual(new Set([B]));
  });

  it('reports a denied DescribeInstances on the account, never a PASS or FAIL', () => {
    const snapshot = {
      ...fleet(),
      calls: { 'ec2:DescribeInstances': { status: 'denied' as const, error: 'UnauthorizedOperation' } },
    };
    snapshot.ec2 = { ...snapshot.ec2, Reservations: undefined };
    const { findings } = audit(snapshot);
    const ec2Rules = findings.filter((f) => f.resourceType === 'Account' && f.reason === 'API_CALL_DENIED');
    expect(ec2Rules.map((f) => f.ruleId).sort()).toEqual(
      ['instance-permissions', 'managed-status', 'network-path', 's3-bucket-access', 'supported-os'].sort(),
    );
    expect(ec2Rules[0]?.message).toContain('ec2:DescribeInstances');
    expect(findings.some((f) => f.resourceType === 'EC2Instance')).toBe(false);
  });

  it('a denied DescribeInstanceInformation gives no "network-path for hybrid nodes" ERROR (issue 10 item 4)', () => {
    // Prepare: hybrid nodes are unknown, but network-path is never applicable to them.
    const snapshot = {
      ...fleet(),
      calls: {
        'ssm:DescribeInstanceInformation': { status: 'denied' as const, error: 'AccessDeniedException' },
      },
    };
    snapshot.ssm = { ...snapshot.ssm, InstanceInformationList: undefined };
    // Act
    const { findings } = audit(snapshot);
    // Assess: the rules that do evaluate hybrid nodes still say they could not.
    const hybridListing = findings.filter((f) => f.resourceId === '123456789012:hybrid-nodes');
    expect(hybridListing.map((f) => f.ruleId).sort()).toEqual(
      ['hybrid-service-role', 'managed-status', 'supported-os'].sort(),
    );
    expect(findings.filter((f) => f.ruleId === 'network-path' && f.resourceType === 'Account')).toEqual([]);
  });

  it('a missing section without a calls entry is "not collected" → ERROR too', () => {
    const snapshot = fleet();
    snapshot.ec2 = { ...snapshot.ec2, NetworkAcls: undefined };
    const { findings } = audit(snapshot, { ruleIds: ['network-path'], resourceIds: [A] });
    expect(findings[0]).toMatchObject({ status: 'ERROR', reason: 'SECTION_NOT_COLLECTED' });
    expect(findings[0]?.message).toContain('ec2.NetworkAcls');
  });
});
