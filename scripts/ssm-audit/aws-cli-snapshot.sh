#!/usr/bin/env bash
# Builds an ssm-audit snapshot from AWS CLI output, for those who would rather run the AWS CLI than
# `ssm-audit collect`. Needs the AWS CLI, jq and read-only credentials (README "Live scans": the
# read-only policy). A call that is denied or fails does not stop it: the call is recorded under
# `calls` (denied / error, with AWS's error code) and its section is left out, so the audit reports
# ERROR naming the permission for what that call would have shown — never a guess.
#
#   scripts/ssm-audit/aws-cli-snapshot.sh eu-west-1 snapshot.json
#   npx ssm-audit scan --snapshot snapshot.json
set -uo pipefail

R=${1:?usage: aws-cli-snapshot.sh REGION [OUT]}
OUT=${2:-snapshot.json}
command -v aws >/dev/null || { echo "aws-cli-snapshot: the AWS CLI (aws) is not on PATH" >&2; exit 2; }
command -v jq >/dev/null || { echo "aws-cli-snapshot: jq is not on PATH" >&2; exit 2; }
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
echo '{}' >"$D/calls.json"

# fetch NAME PERMISSION aws ARGS...: the call's JSON into $D/NAME.json, or `null` and a `calls` entry.
fetch() {
  local name=$1 permission=$2
  shift 2
  if "$@" --output json >"$D/$name.json" 2>"$D/$name.err"; then return 0; fi
  # The AWS CLI prints "An error occurred (UnauthorizedOperation) when calling the ... operation".
  local code status=error
  code=$(grep -oE 'An error occurred \([A-Za-z0-9.]+\)' "$D/$name.err" | head -n 1 | sed -E 's/.*\((.*)\)/\1/')
  case "$code" in
  AccessDenied | AccessDeniedException | UnauthorizedOperation | UnauthorizedAccess) status=denied ;;
  esac
  [ -n "$code" ] || code="AWS CLI failed: $(head -c 200 "$D/$name.err" | tr '\n' ' ')"
  jq --arg p "$permission" --arg s "$status" --arg e "$code" '.[$p] = {status: $s, error: $e}' \
    "$D/calls.json" >"$D/calls.next" && mv "$D/calls.next" "$D/calls.json"
  echo 'null' >"$D/$name.json"
  echo "aws-cli-snapshot: $permission $status ($code); recorded in calls" >&2
}

fetch instances ec2:DescribeInstances aws ec2 describe-instances --region "$R"
fetch vpcs ec2:DescribeVpcs aws ec2 describe-vpcs --region "$R"
fetch subnets ec2:DescribeSubnets aws ec2 describe-subnets --region "$R"
fetch route-tables ec2:DescribeRouteTables aws ec2 describe-route-tables --region "$R"
fetch security-groups ec2:DescribeSecurityGroups aws ec2 describe-security-groups --region "$R"
fetch network-acls ec2:DescribeNetworkAcls aws ec2 describe-network-acls --region "$R"
fetch endpoints ec2:DescribeVpcEndpoints aws ec2 describe-vpc-endpoints --region "$R"
fetch igws ec2:DescribeInternetGateways aws ec2 describe-internet-gateways --region "$R"
fetch nats ec2:DescribeNatGateways aws ec2 describe-nat-gateways --region "$R"
echo '[]' >"$D/dns.json"
for v in $(jq -r '.Vpcs[]?.VpcId' "$D/vpcs.json"); do
  for attribute in enableDnsSupport enableDnsHostnames; do
    fetch "dns-$v-$attribute" ec2:DescribeVpcAttribute \
      aws ec2 describe-vpc-attribute --region "$R" --vpc-id "$v" --attribute "$attribute"
    jq -s '.[0] + [.[1] | select(. != null)]' "$D/dns.json" "$D/dns-$v-$attribute.json" >"$D/dns.next" &&
      mv "$D/dns.next" "$D/dns.json"
  done
done
fetch info ssm:DescribeInstanceInformation aws ssm describe-instance-information --region "$R"
fetch dhmc ssm:GetServiceSetting aws ssm get-service-setting --region "$R" \
  --setting-id /ssm/managed-instance/default-ec2-instance-management-role
fetch tier ssm:GetServiceSetting aws ssm get-service-setting --region "$R" \
  --setting-id /ssm/managed-instance/activation-tier
fetch activations ssm:DescribeActivations aws ssm describe-activations --region "$R"
fetch iam iam:GetAccountAuthorizationDetails aws iam get-account-authorization-details \
  --filter Role LocalManagedPolicy AWSManagedPolicy
ACCOUNT=$(aws sts get-caller-identity --query Account --output text) ||
  { echo "aws-cli-snapshot: sts get-caller-identity failed: no credentials?" >&2; exit 2; }
case "$R" in cn-*) PARTITION=aws-cn ;; us-gov-*) PARTITION=aws-us-gov ;; *) PARTITION=aws ;; esac

jq -n --arg region "$R" --arg account "$ACCOUNT" --arg partition "$PARTITION" \
  --arg now "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --slurpfile calls "$D/calls.json" --slurpfile dns "$D/dns.json" \
  --slurpfile i "$D/instances.json" --slurpfile v "$D/vpcs.json" --slurpfile s "$D/subnets.json" \
  --slurpfile rt "$D/route-tables.json" --slurpfile sg "$D/security-groups.json" \
  --slurpfile acl "$D/network-acls.json" --slurpfile ep "$D/endpoints.json" --slurpfile igw "$D/igws.json" \
  --slurpfile nat "$D/nats.json" --slurpfile info "$D/info.json" --slurpfile dhmc "$D/dhmc.json" \
  --slurpfile tier "$D/tier.json" --slurpfile act "$D/activations.json" --slurpfile iam "$D/iam.json" '
  # DescribeVpcAttribute answers, merged into their VPCs as the collector does.
  ($dns[0] | reduce .[] as $x ({}; .[$x.VpcId] += ($x | del(.VpcId)))) as $attrs
  # A section whose call failed is left out (its failure is in calls).
  | def present: with_entries(select(.value != null));
  { schemaVersion: 1, accountId: $account, region: $region, partition: $partition, collectedAt: $now,
    calls: $calls[0],
    ec2: ({ Reservations: $i[0].Reservations?,
            Vpcs: ($v[0].Vpcs? | if . == null then null else [ .[] | . + ($attrs[.VpcId] // {}) ] end),
            Subnets: $s[0].Subnets?, RouteTables: $rt[0].RouteTables?, SecurityGroups: $sg[0].SecurityGroups?,
            NetworkAcls: $acl[0].NetworkAcls?, VpcEndpoints: $ep[0].VpcEndpoints?,
            InternetGateways: $igw[0].InternetGateways?, NatGateways: $nat[0].NatGateways? } | present),
    ssm: ({ InstanceInformationList: $info[0].InstanceInformationList?,
            ServiceSettings: ([ $dhmc[0].ServiceSetting?, $tier[0].ServiceSetting? ] | map(select(. != null))),
            ActivationList: $act[0].ActivationList? } | present),
    iam: ({ RoleDetailList: $iam[0].RoleDetailList?, Policies: $iam[0].Policies? } | present) }' >"$OUT" ||
  { echo "aws-cli-snapshot: assembling $OUT failed" >&2; exit 1; }
echo "aws-cli-snapshot: wrote $OUT ($(jq '.calls | length' "$OUT") call(s) failed); audit it with: npx ssm-audit scan --snapshot $OUT" >&2
