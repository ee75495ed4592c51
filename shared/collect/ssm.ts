import {
  DescribeActivationsCommand,
  DescribeInstanceInformationCommand,
  GetServiceSettingCommand,
  type Activation,
  type InstanceInformation,
  type InstanceInformationStringFilter,
  type ServiceSetting,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { DHMC_SETTING_ID, TIER_SETTING_ID } from '../knowledge/ssm-requirements';
import type { CollectionContext } from './context';

/** DescribeInstanceInformation's largest page (DESIGN §2). */
export const DESCRIBE_INSTANCE_INFORMATION_PAGE = 50;
/** DescribeInstanceInformation accepts at most 50 instance ids in one InstanceIds filter. */
const IDS_PER_FILTER = 50;

export async function describeInstanceInformation(
  ssm: SSMClient,
  ctx: CollectionContext,
  filter?: InstanceInformationStringFilter,
): Promise<InstanceInformation[] | undefined> {
  const values = filter?.Values;
  if (filter && values?.length === 0) return [];
  const groups: (InstanceInformationStringFilter | undefined)[] = [];
  if (!filter || !values) groups.push(filter);
  else
    for (let i = 0; i < values.length; i += IDS_PER_FILTER)
      groups.push({ Key: filter.Key, Values: values.slice(i, i + IDS_PER_FILTER) });
  const out: InstanceInformation[] = [];
  for (const group of groups) {
    const list = await ctx.pages(
      'ssm:DescribeInstanceInformation',
      (NextToken, o) =>
        ssm.send(
          new DescribeInstanceInformationCommand({
            Filters: group ? [group] : undefined,
            MaxResults: DESCRIBE_INSTANCE_INFORMATION_PAGE,
            NextToken,
          }),
          o,
        ),
      (page) => page.InstanceInformationList,
      (page) => page.NextToken,
    );
    if (!list) return undefined;
    out.push(...list);
  }
  return out;
}

/**
 * What GetServiceSetting reports for a setting nobody changed. Accounts that never touched a setting
 * may get ServiceSettingNotFound instead: that is the default, not an error (DHMC off, standard tier).
 */
const NEVER_CHANGED: Record<string, string> = {
  [DHMC_SETTING_ID]: '$None',
  [TIER_SETTING_ID]: 'standard',
};

export async function getServiceSettings(
  ssm: SSMClient,
  ctx: CollectionContext,
  settingIds: readonly string[],
): Promise<ServiceSetting[] | undefined> {
  const results = await Promise.all(
    settingIds.map((SettingId) =>
      ctx.call('ssm:GetServiceSetting', (o) => ssm.send(new GetServiceSettingCommand({ SettingId }), o)),
    ),
  );
  const out: ServiceSetting[] = [];
  for (const [i, result] of results.entries()) {
    const SettingId = settingIds[i]!;
    if (result.status === 'failed') return undefined;
    if (result.status === 'not-found' || !result.value.ServiceSetting) {
      out.push({ SettingId, SettingValue: NEVER_CHANGED[SettingId] ?? '', Status: 'Default' });
    } else {
      out.push(result.value.ServiceSetting);
    }
  }
  return out;
}

export function describeActivations(
  ssm: SSMClient,
  ctx: CollectionContext,
): Promise<Activation[] | undefined> {
  return ctx.pages(
    'ssm:DescribeActivations',
    (NextToken, o) => ssm.send(new DescribeActivationsCommand({ MaxResults: 50, NextToken }), o),
    (page) => page.ActivationList,
    (page) => page.NextToken,
  );
}
