import type { Rule } from '../shared/engine/rule';
import activations from './activations';
import hybridServiceRole from './hybrid-service-role';
import instancePermissions from './instance-permissions';
import instanceTier from './instance-tier';
import managedStatus from './managed-status';
import networkPath from './network-path';
import s3BucketAccess from './s3-bucket-access';
import supportedOs from './supported-os';

/** Every rule of DESIGN §3, in catalogue order. */
export const RULES = [
  instancePermissions,
  networkPath,
  s3BucketAccess,
  hybridServiceRole,
  activations,
  instanceTier,
  managedStatus,
  supportedOs,
] as const satisfies readonly Rule[];

/** The rule ids, derived from the registry: the one list (the engine, CLI and handlers are given it). */
export const RULE_IDS: readonly string[] = RULES.map((rule) => rule.meta.id);
