import type { AuditResult } from '../../shared/engine/evaluate';
import type { Finding, ResourceType, RuleId, Severity, Status } from '../../shared/model';
import { parseSnapshot } from '../../shared/snapshot/load';
import type { Snapshot, SnapshotInput } from '../../shared/snapshot/schema';
import { aSnapshot } from './builders';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

/** A finding in the DESIGN §3 shape, as the engine emits it. */
export function aFinding(spec: {
  resourceId: string;
  ruleId?: RuleId;
  status?: Status;
  severity?: Severity;
  reason?: string;
  message?: string;
  evidence?: Record<string, unknown>;
  resourceType?: ResourceType;
  evaluatedAt?: string;
  region?: string;
}): Finding {
  const status = spec.status ?? 'PASS';
  return {
    accountId: ACCOUNT,
    region: spec.region ?? REGION,
    resourceType:
      spec.resourceType ??
      (spec.resourceId.startsWith('i-')
        ? 'EC2Instance'
        : spec.resourceId.startsWith('mi-')
          ? 'ManagedInstance'
          : 'Account'),
    resourceId: spec.resourceId,
    ruleId: spec.ruleId ?? 'network-path',
    status,
    severity: spec.severity ?? (status === 'PASS' || status === 'NOT_APPLICABLE' ? 'INFORMATIONAL' : 'HIGH'),
    reason: spec.reason ?? `${status}_REASON`,
    message: spec.message ?? `${spec.resourceId} is ${status}.`,
    evidence: spec.evidence ?? { checked: true },
    remediation: status === 'PASS' ? 'No action needed.' : 'Fix it: aws ec2 create-vpc-endpoint ...',
    reference: 'seeds/000_dfb4493051e05ad4.txt — Step 6',
    evaluatedAt: spec.evaluatedAt ?? '2026-11-23T10:00:00.000Z',
  };
}

export const result = (findings: Finding[], closedResourceIds: string[] = []): AuditResult => ({
  findings,
  closedResourceIds,
  rulesRun: [...new Set(findings.map((f) => f.ruleId))],
});

/** A snapshot for the store's bookkeeping (coverage, listings); the findings come from `result`. */
export function snapshotFor(extra: Partial<SnapshotInput> = {}): Snapshot {
  return parseSnapshot({ ...aSnapshot({}), ...extra });
}

export const iid = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
