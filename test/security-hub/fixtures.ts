import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RULES } from '../../rules';
import type { ExportableFinding } from '../../shared/alerts/asff';
import { evaluateInventory } from '../../shared/engine/evaluate';
import type { Finding } from '../../shared/model';
import { buildInventory } from '../../shared/snapshot/inventory';
import { parseSnapshot } from '../../shared/snapshot/load';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const INSTANCE = 'i-0410695edadcb9d03';
export const NODE = 'mi-0123456789abcdef0';
export const PREREQS =
  'https://docs.aws.amazon.com/systems-manager/latest/userguide/systems-manager-prereqs.html';

/** A finding in the DESIGN §3 shape, with the bookkeeping the findings table adds when given. */
export function aFinding(spec: Partial<ExportableFinding> = {}): ExportableFinding {
  const resourceId = spec.resourceId ?? INSTANCE;
  return {
    accountId: ACCOUNT,
    region: REGION,
    resourceType: resourceId.startsWith('i-')
      ? 'EC2Instance'
      : resourceId.startsWith('mi-')
        ? 'ManagedInstance'
        : 'Account',
    resourceId,
    ruleId: 'network-path',
    status: 'FAIL',
    severity: 'HIGH',
    reason: 'NO_ROUTE_TO_SSM_ENDPOINTS',
    message: `${resourceId} has no route to the ssm, ssmmessages and ec2messages endpoints.`,
    evidence: {
      subnetId: 'subnet-0a1b2c3d',
      routeTable: 'rtb-0a1b2c3d',
      missingEndpoints: ['ssm', 'ssmmessages'],
    },
    remediation:
      'aws ec2 create-vpc-endpoint --vpc-id vpc-0a1b2c3d --service-name com.amazonaws.eu-west-1.ssm ...',
    reference: PREREQS,
    evaluatedAt: '2026-11-23T10:00:00.000Z',
    ...spec,
  };
}

/** A finding as the findings table stores it, seen three audits ago and changed at the last one. */
export function aStoredFinding(spec: Partial<ExportableFinding> = {}): ExportableFinding {
  return aFinding({
    version: 3,
    firstSeenAt: '2026-11-01T08:00:00.000Z',
    statusChangedAt: '2026-11-20T09:30:00.000Z',
    evaluatedAt: '2026-11-23T10:00:00.000Z',
    ...spec,
  });
}

/** Every finding the rules produce for the demo fleet (before and after): real messages, evidence and references. */
export function demoFleetFindings(): Finding[] {
  return ['demo-fleet.json', 'demo-fleet-after.json'].flatMap((file) => {
    const text = readFileSync(path.join(__dirname, '..', 'fixtures', 'demo', file), 'utf8');
    const snapshot = parseSnapshot(JSON.parse(text), file);
    return evaluateInventory(buildInventory(snapshot), { rules: RULES, now: new Date(snapshot.collectedAt) })
      .findings;
  });
}

export const ruleTitle = (ruleId: string) => RULES.find((r) => r.meta.id === ruleId)?.meta.title;
