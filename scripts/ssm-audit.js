#!/usr/bin/env node
// The `ssm-audit` bin: runs the TypeScript CLI through tsx's require hook, so `npx ssm-audit`
// works right after `npm ci` with no build step.
// The SDK version is pinned in package-lock.json, so its notice that *future* releases need Node 22
// says nothing about this install; keep stderr for the auditor's own messages.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
require('./cli.ts')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
