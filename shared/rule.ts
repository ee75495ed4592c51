import type { AuditConfig } from './config';
import type { Ec2Instance, HybridNode, Inventory } from './inventory';
import type { Evidence, ResourceType, RuleId, Severity, Status } from './model';
import type { SectionKey } from './snapshot/schema';

/** What a rule evaluates: one EC2 instance, one hybrid node, or the account/region as a whole. */
export type Subject =
  { kind: 'ec2'; instance: Ec2Instance } | { kind: 'hybrid'; node: HybridNode } | { kind: 'account' };
export type SubjectKind = Subject['kind'];

export const RESOURCE_TYPE_OF: Record<SubjectKind, ResourceType> = {
  ec2: 'EC2Instance',
  hybrid: 'ManagedInstance',
  account: 'Account',
};

/** The part of a finding a rule decides; the engine adds account, region, rule id, reference and time. */
export interface Outcome {
  /** Defaults to the subject's id (the account id for account rules). */
  resourceId?: string;
  status: Status;
  /** Defaults to the rule's severity for FAIL/WARN/ERROR and INFORMATIONAL for PASS/NOT_APPLICABLE. */
  severity?: Severity;
  reason: string;
  message: string;
  evidence?: Evidence;
  /** Defaults to the rule's remediation; PASS outcomes get "No action needed." */
  remediation?: string;
}

export interface RuleContext {
  inventory: Inventory;
  config: AuditConfig;
  now: Date;
  /** Outcomes of the rules named in `meta.dependsOn`, for the same subject, keyed by rule id. */
  outcomesOf(ruleId: RuleId, resourceId: string): readonly Outcome[];
}

export interface SeedReference {
  /** File in ../shared/seeds (the AWS setup document the rule implements). */
  seed: string;
  section: string;
  /** The sentence the rule implements, quoted. */
  quote: string;
}

export interface RuleMeta {
  id: RuleId;
  title: string;
  description: string;
  severity: Severity;
  appliesTo: readonly SubjectKind[];
  /** Per subject kind, the snapshot sections without which the rule cannot decide: unavailable → ERROR. */
  needs: Partial<Record<SubjectKind, readonly SectionKey[]>>;
  /** Rules whose outcomes this rule reads (evaluated first). */
  dependsOn?: readonly RuleId[];
  remediation: string;
  /** The AWS documentation page the rule implements: every finding's `reference`. */
  docsUrl: string;
  /**
   * The setup-guide sentences the rule implements, for the project's own registry test (checked against
   * the source documents when they are present); never shown to users.
   */
  references: readonly SeedReference[];
}

export interface Rule {
  meta: RuleMeta;
  /** Pure and synchronous: reads the inventory, never calls AWS, never throws for an expected situation. */
  evaluate(subject: Subject, context: RuleContext): Outcome | readonly Outcome[];
}

export function defineRule<const R extends Rule>(rule: R): R {
  return rule;
}

/** The `reference` of every finding of a rule: the AWS documentation page it implements. */
export function formatReference(meta: RuleMeta): string {
  return meta.docsUrl;
}
