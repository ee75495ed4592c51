#!/usr/bin/env node
// The `ssm-audit` bin: runs the CLI bundled into plain JavaScript (dist/ssm-audit.js, built by
// scripts/ssm-audit/build.js at `npm ci` and rebuilt here when a source file changed since), so a start costs
// no TypeScript compilation.
// The SDK version is pinned in package-lock.json, so its notice that *future* releases need Node 22
// says nothing about this install; keep stderr for the auditor's own messages.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
let loaded;
try {
  loaded = require('./build.js').loadCli();
} catch (err) {
  process.stderr.write(`ssm-audit: cannot start: ${err && err.message}\n`);
  process.exitCode = 2;
}
if (loaded) {
  loaded.cli.main(process.argv).then((code) => {
    process.exitCode = code;
    loaded.saveCodeCache();
  });
}
