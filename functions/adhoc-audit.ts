import type { Context } from 'aws-lambda';
import { handleAdhoc } from './lib/handlers';
import { runtime } from './lib/runtime';

/** `{instanceIds?, ruleIds?, region?, dryRun?}` → the findings; `dryRun` neither stores nor alerts. */
export const handler = async (event: unknown, context: Context) => {
  const rt = runtime();
  rt.logger.addContext(context);
  return handleAdhoc(event, rt, context);
};
