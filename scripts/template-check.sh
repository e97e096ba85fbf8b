#!/usr/bin/env bash
# Part of `make lint-template`: translates template.yaml with the SAM translator (as CloudFormation
# will, no AWS account needed) and checks the deploy posture on what would really be deployed:
# - no account-wide API Gateway setting in the application stack (deploy/account.yaml owns it);
# - the stage SAM generates logs access, and the WAF association (when on) waits for that stage;
# - a regional endpoint; every gateway 5xx body tells no status it cannot know;
# - the table: customer-managed KMS, deletion protection, retained; the log groups: KMS, retained;
# - every function's environment encrypted with the key; every data function's DynamoDB statements
#   scoped by dynamodb:LeadingKeys, except the firehose's Query on the index and the changes
#   function's reads of the table's own stream (no role reads every stream of the account);
# - the page token secret only in Secrets Manager, each function reading that one secret.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPLATE=${TEMPLATE:-template.yaml} AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1} .venv/bin/python - <<'PY'
import json, sys
from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

import os
with open(os.environ["TEMPLATE"]) as f:
    template = yaml_parse(f.read())
for r in template["Resources"].values():
    if r["Type"] == "AWS::Serverless::Function":
        r["Properties"]["CodeUri"] = "s3://bucket/key"  # what sam package puts there

class NoManagedPolicies:
    def load(self):
        return {}

resources = transform(template, {"WafEnabled": "true"}, NoManagedPolicies())["Resources"]
by_type = lambda t: {k: v for k, v in resources.items() if v["Type"] == t}
problems = []
check = lambda ok, what: ok or problems.append(what)

check(not by_type("AWS::ApiGateway::Account"), "the application stack sets the account's API Gateway role")
stages = by_type("AWS::ApiGateway::Stage")
check(len(stages) == 1, f"one stage, not {list(stages)}")
stage_id, stage = next(iter(stages.items()))
check("AccessLogSetting" in stage["Properties"], "the stage has no access log")
fmt = stage["Properties"].get("AccessLogSetting", {}).get("Format", "")
for field in ["principalId", "sourceIp", "userAgent", "requestId", "extendedRequestId", "status", "responseLatency"]:
    check(f'"{field}"' in fmt, f"the access log lacks {field}")
assoc = by_type("AWS::WAFv2::WebACLAssociation")
check(any(stage_id in json.dumps(a["Properties"]["ResourceArn"]) for a in assoc.values()),
      "the WAF association does not name the generated stage")
api = by_type("AWS::ApiGateway::RestApi")
for a in api.values():
    check(a["Properties"].get("EndpointConfiguration", {}).get("Types") == ["REGIONAL"], "the API is not regional")
    responses = a["Properties"]["Body"].get("x-amazon-apigateway-gateway-responses", {})
    default5 = json.dumps(responses.get("DEFAULT_5XX", {}))
    check('\\"status\\"' not in default5, "DEFAULT_5XX claims a status")
    check("INTEGRATION_FAILURE" not in responses, "INTEGRATION_FAILURE defined (it would turn 500s into 504s)")

for name, table in by_type("AWS::DynamoDB::Table").items():
    p = table["Properties"]
    check(p.get("SSESpecification", {}).get("SSEType") == "KMS" and "KMSMasterKeyId" in p["SSESpecification"],
          f"{name} is not encrypted with the customer-managed key")
    check(p.get("DeletionProtectionEnabled") is True, f"{name} has no deletion protection")
    check(table.get("DeletionPolicy") == "Retain", f"{name} is not retained")
for name, group in by_type("AWS::Logs::LogGroup").items():
    check("KmsKeyId" in group["Properties"], f"{name} is not encrypted with the key")
    check(group.get("DeletionPolicy") == "Retain", f"{name} is not retained")

roles = by_type("AWS::IAM::Role")
for name, fn in by_type("AWS::Lambda::Function").items():
    check("KmsKeyArn" in fn["Properties"], f"{name}'s environment is not encrypted with the key")
    env = fn["Properties"].get("Environment", {}).get("Variables", {})
    check(env.get("PAGE_TOKEN_SECRET", "") == "", f"{name} gets the page token secret in plain text")
    if "PAGE_TOKEN_SECRET_ARN" in env:
        check(env["PAGE_TOKEN_SECRET_ARN"] == {"Ref": "PageTokenSecret"}, f"{name} reads another secret")
    role = roles.get(fn["Properties"]["Role"]["Fn::GetAtt"][0], {})
    for policy in role.get("Properties", {}).get("Policies", []):
        for s in policy["PolicyDocument"]["Statement"]:
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            if "secretsmanager:GetSecretValue" in actions:
                check(s["Resource"] == {"Ref": "PageTokenSecret"}, f"{name} may read secrets beyond the page token's")
            if not any(a.startswith("dynamodb:") for a in actions):
                continue
            on_index = "/index/" in json.dumps(s["Resource"])
            on_stream = "/stream/" in json.dumps(s["Resource"]) and "Table.Arn" in json.dumps(s["Resource"])
            keys = s.get("Condition", {}).get("ForAllValues:StringLike", {}) or s.get("Condition", {}).get("ForAllValues:StringEquals", {})
            check(on_index or on_stream or "dynamodb:LeadingKeys" in keys, f"{name}: a DynamoDB statement without dynamodb:LeadingKeys")
    managed = json.dumps(role.get("Properties", {}).get("ManagedPolicyArns", []))
    check("AWSLambdaDynamoDBExecutionRole" not in managed, f"{name} may read every stream of the account")

if problems:
    sys.exit("template-check: FAIL\n  " + "\n  ".join(problems))
print(f"template-check: the translated template ({len(resources)} resources) keeps the deploy posture")
PY
