import { parseDate } from '../shared/snapshot/inventory';
import { defineRule, NO_ACTION, type Outcome, type ReasonTable, type RuleContext } from '../shared/engine/rule';
import type { ActivationRaw } from '../shared/snapshot/schema';

const DAY_MS = 86_400_000;
/** `<date>` is the user's choice: the new activation's expiry (at most 30 days ahead). */
const CREATE =
  'aws ssm create-activation --iam-role {iamRole} --registration-limit {registrationLimit} --expiration-date <date>';
const RECREATE = `aws ssm delete-activation --activation-id {activationId} && ${CREATE}` as const;

const REASONS = {
  ACTIVATION_OK: { status: 'PASS', remediation: NO_ACTION },
  ACTIVATION_EXPIRED: {
    status: 'WARN',
    severity: 'LOW',
    remediation: `Delete it, and create a new activation if more nodes must register: ${RECREATE}`,
  },
  ACTIVATION_EXHAUSTED: {
    status: 'WARN',
    severity: 'LOW',
    remediation: `Create a new activation with a higher limit: ${RECREATE}`,
  },
  ACTIVATION_EXPIRING: {
    status: 'WARN',
    severity: 'LOW',
    remediation: `Create a replacement before it expires: ${CREATE}`,
  },
  NO_ACTIVATIONS: {
    status: 'NOT_APPLICABLE',
    remediation:
      'None: without activations no hybrid node can register (create one with aws ssm create-activation when needed).',
  },
} as const satisfies ReasonTable;

const paramsOf = (a: ActivationRaw) => ({
  activationId: a.ActivationId,
  iamRole: a.IamRole ?? 'SSMServiceRole',
  registrationLimit: a.RegistrationLimit,
});

function evaluateActivation(activation: ActivationRaw, ctx: RuleContext): Outcome<typeof REASONS> {
  const expires = parseDate(activation.ExpirationDate);
  const count = activation.RegistrationsCount;
  const evidence = {
    activationId: activation.ActivationId,
    description: activation.Description ?? null,
    iamRole: activation.IamRole ?? null,
    registrationsCount: count,
    registrationLimit: activation.RegistrationLimit,
    expirationDate: expires?.toISOString() ?? null,
    expired: activation.Expired ?? null,
  };
  const base = { resourceId: activation.ActivationId, evidence, params: paramsOf(activation) };
  // Seed 004: "If you want to register additional managed instances after the expiry date, you must
  // create a new activation. The expiry date has no impact on registered and running instances."
  if (activation.Expired === true || (expires && expires.getTime() <= ctx.now.getTime())) {
    return {
      ...base,
      reason: 'ACTIVATION_EXPIRED',
      message: `Activation ${activation.ActivationId} expired${expires ? ` on ${expires.toISOString().slice(0, 10)}` : ''}; no new node can register with it (registered nodes are unaffected).`,
    };
  }
  if (count >= activation.RegistrationLimit) {
    return {
      ...base,
      reason: 'ACTIVATION_EXHAUSTED',
      message: `Activation ${activation.ActivationId} has used all ${activation.RegistrationLimit} registrations.`,
    };
  }
  const windowDays = ctx.config.activationExpiryWarningDays;
  if (expires && expires.getTime() - ctx.now.getTime() <= windowDays * DAY_MS) {
    const days = Math.max(0, Math.ceil((expires.getTime() - ctx.now.getTime()) / DAY_MS));
    return {
      ...base,
      reason: 'ACTIVATION_EXPIRING',
      message: `Activation ${activation.ActivationId} expires in ${days} day${days === 1 ? '' : 's'} (${expires.toISOString().slice(0, 10)}).`,
      evidence: { ...evidence, daysLeft: days, warningWindowDays: windowDays },
    };
  }
  return {
    ...base,
    reason: 'ACTIVATION_OK',
    message: `Activation ${activation.ActivationId} is valid (${count}/${activation.RegistrationLimit} used${expires ? `, expires ${expires.toISOString().slice(0, 10)}` : ''}).`,
  };
}

export default defineRule({
  meta: {
    id: 'activations',
    title: 'Hybrid activations: expiry and registration limit',
    description:
      'Each managed-instance activation should be unexpired, have registrations left and not expire soon.',
    severity: 'LOW',
    appliesTo: ['account'],
    needs: { account: ['ssm.ActivationList'] },
    reasons: REASONS,
    docsUrl:
      'https://docs.aws.amazon.com/systems-manager/latest/userguide/hybrid-activation-managed-nodes.html',
    references: [
      {
        seed: '004_3d1cc2fbfb211ba3.txt',
        section: 'Create a Managed-Instance Activation',
        quote:
          'If you want to register additional managed instances after the expiry date, you must create a new activation.',
      },
      {
        seed: '003_83aa51167c137897.txt',
        section: 'Step 4: Create a Managed-Instance Activation for a Hybrid Environment',
        quote: 'Step 4: Create a Managed-Instance Activation for a Hybrid Environment',
      },
    ],
  },
  evaluate(subject, ctx) {
    if (subject.kind !== 'account') throw new Error(`activations does not apply to ${subject.kind}`);
    if (ctx.inventory.activations.length === 0) {
      return {
        reason: 'NO_ACTIVATIONS',
        message: 'The region has no managed-instance activations.',
      };
    }
    return ctx.inventory.activations.map((a) => evaluateActivation(a, ctx));
  },
});
