import { readFileSync } from 'node:fs';
import path from 'node:path';
import eventNames from '../../shared/events/event-names.json';

/** The us-east-1 rule that forwards IAM events to the home region follows the same event names. */
it('forwards every IAM event the event audit follows, only successful calls, to the home region bus', () => {
  const template = JSON.parse(
    readFileSync(path.join(__dirname, '..', '..', 'scripts', 'deploy', 'iam-events-forwarder.json'), 'utf8'),
  );
  const rule = template.Resources.ForwardIamEvents.Properties;
  expect(rule.EventPattern).toEqual({
    source: ['aws.iam'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['iam.amazonaws.com'],
      eventName: [...eventNames.iamRole, ...eventNames.iamAccount],
      errorCode: [{ exists: false }],
    },
  });
  expect(rule.Targets[0].Arn).toEqual({
    'Fn::Sub': 'arn:${AWS::Partition}:events:${HomeRegion}:${AWS::AccountId}:event-bus/default',
  });
  const policy = template.Resources.ForwardRole.Properties.Policies[0].PolicyDocument.Statement;
  expect(policy).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: rule.Targets[0].Arn }]);
});

it('names no partition in any ARN of the forwarder template', () => {
  const text = readFileSync(
    path.join(__dirname, '..', '..', 'scripts', 'deploy', 'iam-events-forwarder.json'),
    'utf8',
  );
  expect(text).not.toMatch(/arn:aws(-cn|-us-gov)?:/);
});
