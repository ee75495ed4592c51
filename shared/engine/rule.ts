import type { AuditConfig } from '../config';
import type { Ec2Instance, HybridNode, Inventory, SectionAvailability } from '../snapshot/inventory';
import type { Evidence, ResourceType, RuleId, Severity, Status } from '../model';
import { SECTIONS, type SectionKey } from '../snapshot/schema';

/** What a rule evaluates: one EC2 instance, one hybrid node, or the account/region as a whole. */
export type Subject =
  { kind: 'ec2'; instance: Ec2Instance } | { kind: 'hybrid'; node: HybridNode } | { kind: 'account' };
export type SubjectKind = Subject['kind'];

export const RESOURCE_TYPE_OF: Record<SubjectKind, ResourceType> = {
  ec2: 'EC2Instance',
  hybrid: 'ManagedInstance',
  account: 'Account',
};

/**
 * What a rule declares for each reason code it can return (like typescript-eslint's `meta.messages`):
 * the status the code means and the fix. The branch that returns the code gives the facts
 * (`params`); the words live here, and `docs/rules/<id>.md` is generated from them.
 */
export interface ReasonSpec {
  readonly status: Status;
  /** Defaults to the rule's severity for FAIL/WARN/ERROR and INFORMATIONAL for PASS/NOT_APPLICABLE. */
  readonly severity?: Severity;
  /**
   * The fix, as a template whose `{name}` placeholders are filled from the outcome's `params` (the real
   * instance id, role name, partition, ...); or, when the fix takes different shapes, one template per
   * variant, the outcome naming its `variant`.
   */
  readonly remediation: string | { readonly [variant: string]: string };
}

export type ReasonTable = { readonly [code: string]: ReasonSpec };

export const NO_ACTION = 'No action needed.';

/**
 * The reasons every rule can end with, declared once: produced by the engine (a snapshot section the
 * rule needs is unavailable, a rule threw) or by `unavailableOutcome` inside a rule. Every rule page
 * documents them.
 */
export const SHARED_REASONS = {
  API_CALL_DENIED: {
    status: 'ERROR',
    remediation: "Allow {calls} for the auditor's IAM principal, then re-run the audit.",
  },
  API_CALL_FAILED: {
    status: 'ERROR',
    // A failure (HTTP 5xx, timeout, unreachable endpoint) is no permission problem: do not send the user to IAM.
    remediation:
      'Retry the audit; if {call} keeps failing, check the network path to the {service} endpoint (proxy, VPC endpoint, AWS_ENDPOINT_URL_*) and the AWS Health Dashboard.',
  },
  SECTION_NOT_COLLECTED: {
    status: 'ERROR',
    remediation: 'Collect {section} into the snapshot ({calls}), or run a live scan.',
  },
  RULE_EXCEPTION: {
    status: 'ERROR',
    remediation: 'This is a defect in the auditor; report it with the snapshot that triggers it.',
  },
} as const satisfies ReasonTable;

export type SharedReasons = typeof SHARED_REASONS;

/** The codes of a reason table whose declared status is `S`. */
export type ReasonsWith<R extends ReasonTable, S extends Status> = {
  [K in keyof R & string]: R[K]['status'] extends S ? K : never;
}[keyof R & string];

/** Characters that end a `{name}` placeholder candidate: `{"Version": ...}` in a JSON policy is no placeholder. */
type NotInName = '"' | "'" | ' ' | ':' | ',' | '{' | '[' | '/' | '.' | '-' | '=' | '*' | '<' | '>' | '$';

/** The placeholder names of a template literal type, e.g. `'--role-name {roleName}'` → `'roleName'`. */
export type Placeholders<T extends string> = T extends `${string}{${infer Name}}${infer Rest}`
  ? (Name extends '' | `${string}${NotInName}${string}` ? never : Name) | Placeholders<Rest>
  : never;

/** A placeholder at run time: the same names the type above accepts. */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Values for every placeholder of the template (a template without placeholders takes any). */
type ParamsFor<T extends string> = [Placeholders<T>] extends [never]
  ? { params?: { readonly [name: string]: string | number } }
  : { params: { readonly [P in Placeholders<T>]: string | number } };

type RemediationChoice<S extends ReasonSpec> = S['remediation'] extends string
  ? { variant?: undefined } & ParamsFor<S['remediation']>
  : {
      [V in keyof S['remediation'] & string]: { variant: V } & ParamsFor<S['remediation'][V] & string>;
    }[keyof S['remediation'] & string];

interface OutcomeFacts {
  /** Defaults to the subject's id (the account id for account rules). */
  resourceId?: string;
  /** One line for a person. */
  message: string;
  evidence?: Evidence;
}

type DeclaredOutcome<R extends ReasonTable> = {
  [K in keyof R & string]: OutcomeFacts & { reason: K } & RemediationChoice<R[K]>;
}[keyof R & string];

/**
 * What a rule's branch returns: a reason code the rule declares (or a shared one) and the facts. The
 * status, severity and remediation come from the declaration, so a branch cannot disagree with it.
 * Without a reason table (`Outcome`), the loose form the engine accepts at run time.
 */
export type Outcome<R extends ReasonTable = ReasonTable> = string extends keyof R
  ? OutcomeFacts & {
      reason: string;
      /** When present it must equal the declared status of `reason` (else the engine reports a defect). */
      status?: Status;
      /** Ignored: the remediation is always rendered from the declaration. */
      remediation?: string;
      variant?: string;
      params?: { readonly [name: string]: string | number };
    }
  : DeclaredOutcome<R> | DeclaredOutcome<SharedReasons>;

/** An outcome with its declaration applied: what the engine turns into a finding and what `outcomesOf` reads. */
export interface ResolvedOutcome {
  resourceId?: string;
  status: Status;
  severity: Severity;
  reason: string;
  message: string;
  evidence?: Evidence;
  remediation: string;
}

export interface RuleContext {
  inventory: Inventory;
  config: AuditConfig;
  now: Date;
  /** Outcomes of the rules named in `meta.dependsOn`, for the same subject, keyed by rule id. */
  outcomesOf(ruleId: RuleId, resourceId: string): readonly ResolvedOutcome[];
}

export interface SeedReference {
  /** File in ../shared/seeds (the AWS setup document the rule implements). */
  seed: string;
  section: string;
  /** The sentence the rule implements, quoted. */
  quote: string;
}

export interface RuleMeta<R extends ReasonTable = ReasonTable> {
  id: RuleId;
  title: string;
  description: string;
  severity: Severity;
  appliesTo: readonly SubjectKind[];
  /** Per subject kind, the snapshot sections without which the rule cannot decide: unavailable → ERROR. */
  needs: Partial<Record<SubjectKind, readonly SectionKey[]>>;
  /** Rules whose outcomes this rule reads (evaluated first). */
  dependsOn?: readonly RuleId[];
  /** Every reason code the rule can return besides the shared ones, with its status and fix. */
  reasons: R;
  /** The AWS documentation page the rule implements: every finding's `reference`. */
  docsUrl: string;
  /**
   * The setup-guide sentences the rule implements, for the project's own registry test (checked against
   * the source documents when they are present); never shown to users.
   */
  references: readonly SeedReference[];
}

/** Any rule, as the engine and the registry see it. */
export interface Rule {
  meta: RuleMeta;
  /** Pure and synchronous: reads the inventory, never calls AWS, never throws for an expected situation. */
  evaluate(subject: Subject, context: RuleContext): Outcome | readonly Outcome[];
}

/** A rule whose outcomes are typed by its declared reasons. */
export interface RuleOf<R extends ReasonTable> {
  meta: RuleMeta<R>;
  evaluate(subject: Subject, context: RuleContext): Outcome<R> | readonly Outcome<R>[];
}

export function defineRule<const R extends ReasonTable>(rule: RuleOf<R>): RuleOf<R> {
  return rule;
}

/** The `reference` of every finding of a rule: the AWS documentation page it implements. */
export function formatReference(meta: RuleMeta): string {
  return meta.docsUrl;
}

/** The declaration of a reason for a rule: its own, else a shared one; undefined when undeclared. */
export function reasonSpecOf(meta: RuleMeta, reason: string): ReasonSpec | undefined {
  if (Object.hasOwn(meta.reasons, reason)) return meta.reasons[reason];
  if (Object.hasOwn(SHARED_REASONS, reason)) return (SHARED_REASONS as ReasonTable)[reason];
  return undefined;
}

/** A reason's severity: its own, else the rule's for FAIL/WARN/ERROR and INFORMATIONAL for PASS/NOT_APPLICABLE. */
export function reasonSeverity(spec: ReasonSpec, ruleSeverity: Severity): Severity {
  if (spec.severity) return spec.severity;
  return spec.status === 'PASS' || spec.status === 'NOT_APPLICABLE' ? 'INFORMATIONAL' : ruleSeverity;
}

/** The templates of a reason's remediation, by variant (`''` when it has only one). */
export function remediationTemplates(
  spec: ReasonSpec,
): readonly (readonly [variant: string, template: string])[] {
  return typeof spec.remediation === 'string' ? [['', spec.remediation]] : Object.entries(spec.remediation);
}

/** The placeholder names of a template, in order of first appearance. */
export function placeholdersOf(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/**
 * The remediation of an outcome: its reason's template (of its variant) with every placeholder filled.
 * A missing variant or value is a defect of the rule, never a `{name}` left in front of a user.
 */
export function renderRemediation(
  reason: string,
  spec: ReasonSpec,
  variant: string | undefined,
  params: { readonly [name: string]: string | number } | undefined,
): string {
  let template: string | undefined;
  if (typeof spec.remediation === 'string') template = spec.remediation;
  else if (variant !== undefined && Object.hasOwn(spec.remediation, variant))
    template = spec.remediation[variant];
  if (template === undefined)
    throw new Error(`reason ${reason} has no remediation variant ${JSON.stringify(variant)}`);
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = params && Object.hasOwn(params, name) ? params[name] : undefined;
    if (value === undefined || value === '')
      throw new Error(`the remediation of ${reason} needs a value for {${name}}`);
    return String(value);
  });
}

/** The ERROR outcome for a rule that cannot decide because a snapshot section is unavailable. */
export function unavailableOutcome(
  key: SectionKey,
  availability: SectionAvailability,
  what: string,
): Outcome<SharedReasons> {
  if (availability.available) throw new Error('section is available');
  const permission = availability.call;
  const calls: readonly string[] = SECTIONS[key];
  const evidence = {
    section: key,
    call: permission,
    callStatus: availability.status,
    error: availability.error,
  };
  if (availability.status === 'denied') {
    return {
      reason: 'API_CALL_DENIED',
      message: `Cannot evaluate ${what}: ${permission} was denied (${availability.error}); grant ${permission} to the auditor.`,
      evidence,
      params: { calls: calls.join(', ') },
    };
  }
  if (availability.status === 'error') {
    return {
      reason: 'API_CALL_FAILED',
      message: `Cannot evaluate ${what}: ${permission} failed (${availability.error}).`,
      evidence,
      params: { call: permission, service: permission.split(':')[0]! },
    };
  }
  return {
    reason: 'SECTION_NOT_COLLECTED',
    message: `Cannot evaluate ${what}: the snapshot has no ${key} section (collect it with ${calls.join(', ')}).`,
    evidence,
    params: { section: key, calls: calls.join(', ') },
  };
}
