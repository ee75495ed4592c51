// The AWS SDK warns once per process that future releases need Node 22; tests run on Node 20 too.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// No test may reach a real account: credentials, when a test needs them, are fake and set per test.
delete process.env.AWS_PROFILE;
process.env.AWS_EC2_METADATA_DISABLED = 'true';
