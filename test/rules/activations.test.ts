import { ACCOUNT, anActivation, aSnapshot, type ActivationInput } from '../support/builders';
import type { AuditConfigInput } from '../../shared/config';
import { audit, findingOf, NOW } from '../support/helpers';

/** R5 (DESIGN §3, seed 004 "Create a Managed-Instance Activation"). NOW is 2026-11-23T10:00:00Z. */

const ID = 'e488f2f6-e686-4afb-8a04-ef6dfe1a2b3c';
const DAY_MS = 86_400_000;
const inDays = (days: number) => new Date(NOW.getTime() + days * DAY_MS).toISOString();

interface Row {
  case: string;
  given: { activation: ActivationInput; config?: AuditConfigInput };
  expected: { status: string; severity: string; reason: string; evidence?: Record<string, unknown> };
}

const rows: Row[] = [
  {
    case: 'Expired: true (even with a future ExpirationDate) → WARN LOW ACTIVATION_EXPIRED',
    given: { activation: anActivation({ id: ID, expires: inDays(100), expired: true }) },
    expected: {
      status: 'WARN',
      severity: 'LOW',
      reason: 'ACTIVATION_EXPIRED',
      evidence: { activationId: ID, expired: true },
    },
  },
  {
    case: 'ExpirationDate in the past with Expired: false → ACTIVATION_EXPIRED',
    given: { activation: anActivation({ id: ID, expires: '2026-11-01T00:00:00+00:00', expired: false }) },
    expected: {
      status: 'WARN',
      severity: 'LOW',
      reason: 'ACTIVATION_EXPIRED',
      evidence: { expirationDate: '2026-11-01T00:00:00.000Z' },
    },
  },
  {
    case: 'expired and exhausted → expiry is reported (no registration is possible either way)',
    given: {
      activation: anActivation({ id: ID, expires: '2026-11-01T00:00:00Z', limit: 5, count: 5 }),
    },
    expected: { status: 'WARN', severity: 'LOW', reason: 'ACTIVATION_EXPIRED' },
  },
  {
    case: 'RegistrationsCount = RegistrationLimit → WARN ACTIVATION_EXHAUSTED',
    given: { activation: anActivation({ id: ID, expires: inDays(90), limit: 10, count: 10 }) },
    expected: {
      status: 'WARN',
      severity: 'LOW',
      reason: 'ACTIVATION_EXHAUSTED',
      evidence: { registrationsCount: 10, registrationLimit: 10 },
    },
  },
  {
    case: 'RegistrationsCount > RegistrationLimit → WARN ACTIVATION_EXHAUSTED',
    given: { activation: anActivation({ id: ID, expires: inDays(90), limit: 10, count: 11 }) },
    expected: { status: 'WARN', severity: 'LOW', reason: 'ACTIVATION_EXHAUSTED' },
  },
  {
    case: 'one registration left → PASS',
    given: { activation: anActivation({ id: ID, expires: inDays(90), limit: 10, count: 9 }) },
    expected: { status: 'PASS', severity: 'INFORMATIONAL', reason: 'ACTIVATION_OK' },
  },
  {
    case: 'expires in 3 days → WARN ACTIVATION_EXPIRING',
    given: { activation: anActivation({ id: ID, expires: inDays(3) }) },
    expected: {
      status: 'WARN',
      severity: 'LOW',
      reason: 'ACTIVATION_EXPIRING',
      evidence: { daysLeft: 3, warningWindowDays: 14 },
    },
  },
  {
    case: 'expires in exactly 14 days (edge of the default window) → ACTIVATION_EXPIRING',
    given: { activation: anActivation({ id: ID, expires: inDays(14) }) },
    expected: {
      status: 'WARN',
      severity: 'LOW',
      reason: 'ACTIVATION_EXPIRING',
      evidence: { daysLeft: 14 },
    },
  },
  {
    case: 'expires in 15 days → PASS',
    given: { activation: anActivation({ id: ID, expires: inDays(15) }) },
    expected: { status: 'PASS', severity: 'INFORMATIONAL', reason: 'ACTIVATION_OK' },
  },
  {
    case: 'custom window of 30 days: 20 days left → ACTIVATION_EXPIRING',
    given: {
      activation: anActivation({ id: ID, expires: inDays(20) }),
      config: { activationExpiryWarningDays: 30 },
    },
    expected: {
      status: 'WARN',
      severity: 'LOW',
      reason: 'ACTIVATION_EXPIRING',
      evidence: { daysLeft: 20, warningWindowDays: 30 },
    },
  },
  {
    case: 'custom window of 3 days: 10 days left → PASS',
    given: {
      activation: anActivation({ id: ID, expires: inDays(10) }),
      config: { activationExpiryWarningDays: 3 },
    },
    expected: { status: 'PASS', severity: 'INFORMATIONAL', reason: 'ACTIVATION_OK' },
  },
  {
    case: 'healthy: registrations left, expiry far away → PASS ACTIVATION_OK',
    given: {
      activation: anActivation({ id: ID, expires: '2027-06-01T00:00:00+00:00', limit: 10, count: 4 }),
    },
    expected: {
      status: 'PASS',
      severity: 'INFORMATIONAL',
      reason: 'ACTIVATION_OK',
      evidence: {
        activationId: ID,
        registrationsCount: 4,
        registrationLimit: 10,
        expirationDate: '2027-06-01T00:00:00.000Z',
      },
    },
  },
  {
    case: 'ExpirationDate as epoch seconds (old AWS CLI), in the future → PASS with the date decoded',
    given: {
      activation: { ...anActivation({ id: ID, expires: 'x' }), ExpirationDate: 1_811_808_000 }, // 2027-06-01
    },
    expected: {
      status: 'PASS',
      severity: 'INFORMATIONAL',
      reason: 'ACTIVATION_OK',
      evidence: { expirationDate: '2027-06-01T00:00:00.000Z' },
    },
  },
  {
    case: 'ExpirationDate as epoch seconds (old AWS CLI), in the past → ACTIVATION_EXPIRED',
    given: {
      activation: { ...anActivation({ id: ID, expires: 'x' }), ExpirationDate: 1_761_955_200 }, // 2025-11-01
    },
    expected: {
      status: 'WARN',
      severity: 'LOW',
      reason: 'ACTIVATION_EXPIRED',
      evidence: { expirationDate: '2025-11-01T00:00:00.000Z' },
    },
  },
];

describe('activations', () => {
  it.each(rows)('$case', ({ given, expected }) => {
    // Prepare
    const snapshot = aSnapshot({ activations: [given.activation] });
    // Act
    const result = audit(snapshot, { ruleIds: ['activations'], config: given.config });
    const finding = findingOf(result, 'activations', ID);
    // Assess
    const { evidence, ...verdict } = expected;
    expect({
      status: finding.status,
      severity: finding.severity,
      reason: finding.reason,
      resourceType: finding.resourceType,
    }).toEqual({ ...verdict, resourceType: 'Account' });
    if (evidence) expect(finding.evidence).toMatchObject(evidence);
    if (expected.status === 'WARN') expect(finding.remediation).toContain('aws ssm create-activation');
  });

  it('reports each activation on its own id', () => {
    // Prepare
    const other = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
    const snapshot = aSnapshot({
      activations: [
        anActivation({ id: ID, expires: '2027-06-01T00:00:00Z' }),
        anActivation({ id: other, expires: '2026-01-01T00:00:00Z' }),
      ],
    });
    // Act
    const result = audit(snapshot, { ruleIds: ['activations'] });
    // Assess
    expect(result.findings).toHaveLength(2);
    expect(findingOf(result, 'activations', ID).reason).toBe('ACTIVATION_OK');
    expect(findingOf(result, 'activations', other).reason).toBe('ACTIVATION_EXPIRED');
  });

  it('no activations → NOT_APPLICABLE NO_ACTIVATIONS on the account', () => {
    // Act
    const result = audit(aSnapshot({ activations: [] }), { ruleIds: ['activations'] });
    // Assess
    const finding = findingOf(result, 'activations', ACCOUNT);
    expect({ status: finding.status, reason: finding.reason }).toEqual({
      status: 'NOT_APPLICABLE',
      reason: 'NO_ACTIVATIONS',
    });
  });

  it('ssm:DescribeActivations denied → ERROR naming the call, never PASS or NOT_APPLICABLE', () => {
    // Prepare
    const snapshot = aSnapshot({
      activations: [anActivation({ id: ID, expires: '2026-01-01T00:00:00Z', expired: true })],
      calls: { 'ssm:DescribeActivations': { status: 'denied', error: 'AccessDeniedException' } },
    });
    // Act
    const result = audit(snapshot, { ruleIds: ['activations'] });
    // Assess
    expect(result.findings).toHaveLength(1);
    const finding = findingOf(result, 'activations', ACCOUNT);
    expect({ status: finding.status, reason: finding.reason }).toEqual({
      status: 'ERROR',
      reason: 'API_CALL_DENIED',
    });
    expect(finding.message).toContain('ssm:DescribeActivations');
    expect(finding.remediation).toContain('ssm:DescribeActivations');
  });
});
