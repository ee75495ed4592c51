/** The snapshot edit of a fix's commands lives with the plan, which uses it too (scripts/ssm-audit/plan-apply.ts). */
export { applyFixes } from '../../scripts/ssm-audit/plan-apply';
