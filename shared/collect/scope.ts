import { echo } from '../echo';
import { UsageError } from '../errors';
import { scopeSchema, type CollectionScope } from '../snapshot/schema';

/**
 * What one collection covers. Event-driven audits use the smallest scope that an event can change
 * (DESIGN §6): one or a few instances, one VPC, one IAM role, or the whole region.
 */
export { scopeSchema, type CollectionScope };

export const REGION_SCOPE: CollectionScope = { kind: 'region' };

export function describeScope(scope: CollectionScope): string {
  switch (scope.kind) {
    case 'region':
      return 'the whole region';
    case 'instances':
      return `instance${scope.instanceIds.length > 1 ? 's' : ''} ${scope.instanceIds.join(', ')}`;
    case 'vpc':
      return `VPC ${scope.vpcId}`;
    case 'role':
      return `instances using IAM role ${scope.roleName}`;
  }
}

/**
 * A role scope (`--role`, or an IAM event) naming a role that does not exist: IAM answered NoSuchEntity
 * for iam:ListInstanceProfilesForRole, and no hybrid node is registered with it, so no instance uses it.
 * A usage error for the CLI (exit status 2, this message); the event audit reports it without failing.
 */
export class RoleNotFoundError extends UsageError {
  constructor(
    readonly roleName: string,
    readonly stats: { apiCalls: number } = { apiCalls: 0 },
  ) {
    super(
      `IAM role ${echo(roleName)} does not exist (iam:ListInstanceProfilesForRole: NoSuchEntity): no instance profile carries it and no hybrid node is registered with it, so no instance uses it; check the role name (the name, not the ARN)`,
    );
  }
}
