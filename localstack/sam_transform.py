#!/usr/bin/env python3
"""Prints template.yaml as CloudFormation will run it: the SAM transform applied (as AWS does it,
with the given parameter values), as JSON. It shows every role, mapping and permission SAM adds.

    localstack/sam_transform.py [KEY=VALUE ...]    # parameter overrides, e.g. CanaryDeployments=true
"""

import json
import logging
import os
import sys
from pathlib import Path

import yaml
from samtranslator.translator.transform import transform

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deploy import ROOT, CfnLoader  # noqa: E402


class NoManagedPolicies:
    """The template names no AWS managed policy, so there is none to look up."""

    def load(self):
        return {}


def main():
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    parameters = dict(arg.split("=", 1) for arg in sys.argv[1:])
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=CfnLoader)
    # As after `sam package`: the code in S3 (where does not matter here).
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            binary = resource["Metadata"]["BuildProperties"]["Binary"]
            resource["Properties"]["CodeUri"] = f"s3://packaged/{binary}.zip"
    print(json.dumps(transform(template, parameters, NoManagedPolicies()), indent=1))


if __name__ == "__main__":
    main()
