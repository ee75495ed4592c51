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
