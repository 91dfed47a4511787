#!/usr/bin/env python3
"""Creates some of template.yaml's DynamoDB tables, exactly as the template defines them, in a
stack of their own on a local cloud, and prints each one's name by its logical id as JSON. The
stores' contract tests run against tables made this way, so a key, an index or a TTL changed in
the template is what they test.

    localstack/tables.py --endpoint URL --stack-name NAME LogicalId [LogicalId ...]
"""

import argparse
import contextlib
import json
import sys

import boto3
import yaml

from deploy import ROOT, CfnLoader, wait_for


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("tables", nargs="+", metavar="LogicalId")
    args = parser.parse_args()
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=CfnLoader)
    resources = {}
    for table in args.tables:
        resource = template["Resources"].get(table, {})
        if resource.get("Type") != "AWS::DynamoDB::Table":
            sys.exit(f"template.yaml has no DynamoDB table {table}")
        # A test's tables go with its cloud: nothing to keep or protect.
        properties = {**resource["Properties"], "DeletionProtectionEnabled": False}
        resources[table] = {"Type": resource["Type"], "Properties": properties}
    cfn = boto3.client("cloudformation", endpoint_url=args.endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    cfn.create_stack(StackName=args.stack_name, TemplateBody=json.dumps({"Resources": resources}))
    # The stack's progress goes to stderr: stdout is the answer.
    with contextlib.redirect_stdout(sys.stderr):
        stack = wait_for(cfn, args.stack_name, timeout=120, seen=set())
    if stack["StackStatus"] != "CREATE_COMPLETE":
        sys.exit(f"stack {args.stack_name} ended {stack['StackStatus']}")
    made = cfn.describe_stack_resources(StackName=args.stack_name)["StackResources"]
    print(json.dumps({r["LogicalResourceId"]: r["PhysicalResourceId"] for r in made}))


if __name__ == "__main__":
    main()
