import type { FetchPlan } from '../collect/collect';
import { agentTargetOf, assessCoreActions } from '../agent/permissions';
import { buildInventory } from '../snapshot/inventory';

/**
 * The evaluator's fetch plan for the collector: it reads only what the rules will need. A scoped audit
 * reads the DHMC role only when some instance's profile role does not allow the agent to register
 * (ssm:UpdateInstanceInformation on that instance's own ARN): the agent falls back to Default Host
 * Management Configuration only then
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/fleet-manager-default-host-management-configuration.html),
 * and skipping the role keeps a one-instance audit within its call budget. Decided with the same
 * evaluator the rules use.
 */
export const EVALUATOR_FETCH_PLAN: FetchPlan = {
  needsDhmcRole(partial, instances) {
    const inventory = buildInventory(partial);
    return instances.some(({ instanceId, profileArn }) => {
      const profile = profileArn ? inventory.instanceProfiles.get(profileArn) : undefined;
      const role = profile ? inventory.roles.get(profile.roleName.toLowerCase()) : undefined;
      if (!role) return true;
      const target = agentTargetOf(inventory, { kind: 'ec2', instanceId });
      const registration = assessCoreActions(role, target).registration;
      return registration !== 'allowed' && registration !== 'conditional';
    });
  },
};
