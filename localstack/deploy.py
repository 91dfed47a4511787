#!/usr/bin/env python3
"""Deploys template.yaml through CloudFormation to a local AWS cloud (MiniStack or LocalStack).

It does what `sam package` + `sam deploy` do, without Docker: each function's `bootstrap.zip`
(built by `cargo lambda build --release --output-format zip` into target/lambda/<binary>/) is
uploaded to an S3 bucket on the local cloud, the function's CodeUri is pointed at it, and the
stack is created or updated and polled until it settles. The stack's outputs, plus the local
URLs of the API and the kiosk page, are printed and written as JSON.
"""

import argparse
import hashlib
import json
import os
import sys
import time
import tomllib
from pathlib import Path

import boto3
import yaml

ROOT = Path(__file__).resolve().parent.parent


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub, ...) as their long forms."""


def _cfn_tag(loader, tag_suffix, node):
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


def log(message):
    print(f"[deploy] {message}", flush=True)


def function_archive(binary):
    """A function binary's bootstrap.zip: in target/lambda/ as `cargo lambda build` leaves it, or in
    CAFE_LAMBDA_DIR (`make test` packs its dev-profile build there)."""
    return Path(os.environ.get("CAFE_LAMBDA_DIR") or ROOT / "target" / "lambda") / binary / "bootstrap.zip"


def package(template, s3, bucket):
    """Uploads each function's bootstrap.zip and points its CodeUri at the upload."""
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception:
        s3.create_bucket(Bucket=bucket)
    for name, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        binary = resource["Metadata"]["BuildProperties"]["Binary"]
        archive = function_archive(binary)
        if not archive.exists():
            sys.exit(f"{archive} is missing: run `cargo lambda build --release --output-format zip` first")
        data = archive.read_bytes()
        key = f"{binary}/{hashlib.sha256(data).hexdigest()[:16]}.zip"
        s3.put_object(Bucket=bucket, Key=key, Body=data)
        resource["Properties"]["CodeUri"] = f"s3://{bucket}/{key}"
        log(f"{name}: {binary} ({len(data) // 1024} KiB) -> s3://{bucket}/{key}")
    return template


def event_ids(cfn, stack_name):
    return {e["EventId"] for e in cfn.describe_stack_events(StackName=stack_name)["StackEvents"]}


def wait_for(cfn, stack_name, timeout, seen):
    """Polls the stack until it settles, saying as it goes how many of its resources are done
    and which failed (of the events not `seen` before)."""
    started = time.time()
    while time.time() - started < timeout:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = stack["StackStatus"]
        events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
        new = [e for e in reversed(events) if e["EventId"] not in seen]
        seen.update(e["EventId"] for e in new)
        for event in new:
            if "FAILED" in event.get("ResourceStatus", ""):
                log(f"  {event['LogicalResourceId']}: {event['ResourceStatus']} {event.get('ResourceStatusReason', '')}")
        done = [e for e in new if e["LogicalResourceId"] != stack_name and e["ResourceStatus"].endswith("_COMPLETE")]
        if done:
            log(f"  {time.time() - started:4.1f} s: {len(done)} more resources done (last: "
                f"{done[-1]['LogicalResourceId']} {done[-1]['ResourceStatus']})")
        if status.endswith("_COMPLETE") or status.endswith("_FAILED"):
            return stack
        time.sleep(0.5)
    sys.exit(f"stack {stack_name} did not settle within {timeout} s")


def upload_template(s3, bucket, stack_name, body):
    """The packaged template in the artifacts bucket, as a URL CloudFormation reads it from: a
    template sent inline may hold at most 51,200 bytes (on AWS as on the local cloud), one in S3
    up to 1 MB."""
    key = f"templates/{stack_name}-{hashlib.sha256(body.encode()).hexdigest()[:16]}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
    return f"{s3.meta.endpoint_url.rstrip('/')}/{bucket}/{key}"


def deploy(cfn, stack_name, template_url, parameters):
    params = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]
    caps = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
    try:
        seen = event_ids(cfn, stack_name)
        exists = True
    except cfn.exceptions.ClientError:
        seen, exists = set(), False
    if exists:
        try:
            cfn.update_stack(StackName=stack_name, TemplateURL=template_url, Parameters=params,
                             Capabilities=caps)
            log(f"updating stack {stack_name}")
        except cfn.exceptions.ClientError as error:
            if "No updates are to be performed" not in str(error):
                raise
            log(f"stack {stack_name} is up to date")
    else:
        cfn.create_stack(StackName=stack_name, TemplateURL=template_url, Parameters=params, Capabilities=caps)
        log(f"creating stack {stack_name}")
    stack = wait_for(cfn, stack_name, timeout=300, seen=seen)
    status = stack["StackStatus"]
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        sys.exit(f"stack {stack_name} ended {status}")
    log(f"stack {stack_name}: {status}")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def local_profile_parameters():
    """The parameter overrides of samconfig.toml's local profile (what `sam deploy --config-env
    local` deploys with): what a local cloud needs otherwise than AWS."""
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    overrides = config["local"]["deploy"]["parameters"].get("parameter_overrides", "")
    return dict(pair.split("=", 1) for pair in overrides.split())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"))
    parser.add_argument("--stack-name", default="cafe")
    parser.add_argument("--bucket", default="cafe-artifacts")
    parser.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE",
                        help="a template parameter override (repeatable), over the local profile's")
    parser.add_argument("--outputs", type=Path, help="write the stack outputs as JSON here")
    args = parser.parse_args()

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    region = os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1"))
    session = boto3.session.Session(region_name=region)
    s3 = session.client("s3", endpoint_url=args.endpoint)
    cfn = session.client("cloudformation", endpoint_url=args.endpoint)

    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=CfnLoader)
    body = json.dumps(package(template, s3, args.bucket))
    parameters = local_profile_parameters() | dict(p.split("=", 1) for p in args.parameter)
    outputs = deploy(cfn, args.stack_name, upload_template(s3, args.bucket, args.stack_name, body), parameters)

    base = f"{args.endpoint.rstrip('/')}/_aws/execute-api/{outputs['ApiId']}/{outputs['StageName']}/"
    outputs["LocalApiUrl"] = base
    outputs["KioskUrl"] = base
    outputs["Endpoint"] = args.endpoint
    if args.outputs:
        args.outputs.parent.mkdir(parents=True, exist_ok=True)
        args.outputs.write_text(json.dumps(outputs, indent=2))
    log(f"API:   {base}")
    log(f"Kiosk: {base}")


if __name__ == "__main__":
    main()
