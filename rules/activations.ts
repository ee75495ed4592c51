import { parseDate } from '../shared/inventory';
import { defineRule, type Outcome, type RuleContext } from '../shared/rule';
import type { ActivationRaw } from '../shared/snapshot/schema';

const DAY_MS = 86_400_000;
const RECREATE = (a: ActivationRaw) =>
  `aws ssm delete-activation --activation-id ${a.ActivationId} && aws ssm create-activation --iam-role ${a.IamRole ?? 'SSMServiceRole'} --registration-limit ${a.RegistrationLimit} --expiration-date <date>`;

function evaluateActivation(activation: ActivationRaw, ctx: RuleContext): Outcome {
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
  const base = { resourceId: activation.ActivationId, evidence };
  // Seed 004: "If you want to register additional managed instances after the expiry date, you must
  // create a new activation. The expiry date has no impact on registered and running instances."
  if (activation.Expired === true || (expires && expires.getTime() <= ctx.now.getTime())) {
    return {
      ...base,
      status: 'WARN',
      severity: 'LOW',
      reason: 'ACTIVATION_EXPIRED',
      message: `Activation ${activation.ActivationId} expired${expires ? ` on ${expires.toISOString().slice(0, 10)}` : ''}; no new node can register with it (registered nodes are unaffected).`,
      remediation: `Delete it, and create a new activation if more nodes must register: ${RECREATE(activation)}`,
    };
  }
  if (count >= activation.RegistrationLimit) {
    return {
      ...base,
      status: 'WARN',
      severity: 'LOW',
      reason: 'ACTIVATION_EXHAUSTED',
      message: `Activation ${activation.ActivationId} has used all ${activation.RegistrationLimit} registrations.`,
      remediation: `Create a new activation with a higher limit: ${RECREATE(activation)}`,
    };
  }
  const windowDays = ctx.config.activationExpiryWarningDays;
  if (expires && expires.getTime() - ctx.now.getTime() <= windowDays * DAY_MS) {
    const days = Math.max(0, Math.ceil((expires.getTime() - ctx.now.getTime()) / DAY_MS));
    return {
      ...base,
      status: 'WARN',
      severity: 'LOW',
      reason: 'ACTIVATION_EXPIRING',
      message: `Activation ${activation.ActivationId} expires in ${days} day${days === 1 ? '' : 's'} (${expires.toISOString().slice(0, 10)}).`,
      evidence: { ...evidence, daysLeft: days, warningWindowDays: windowDays },
      remediation: `Create a replacement before it expires: aws ssm create-activation --iam-role ${activation.IamRole ?? 'SSMServiceRole'} --registration-limit ${activation.RegistrationLimit} --expiration-date <date>`,
    };
  }
  return {
    ...base,
    status: 'PASS',
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
    remediation: 'Create a new activation (aws ssm create-activation) and delete expired or exhausted ones.',
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
        status: 'NOT_APPLICABLE',
        reason: 'NO_ACTIVATIONS',
        message: 'The region has no managed-instance activations.',
      };
    }
    return ctx.inventory.activations.map((a) => evaluateActivation(a, ctx));
  },
});
