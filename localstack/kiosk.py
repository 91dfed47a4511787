"""The cafe's kiosks, as the operator, on the stack `make up` deployed (its .cafe/outputs.json):

  kiosk.py register NAME [--replace] [--link]  register a kiosk; prints its link and token (shown once)
  kiosk.py list                                the registered kiosks
  kiosk.py revoke KIOSK_ID                     its token places no more orders

The local cloud is CAFE_ENDPOINT, else http://127.0.0.1:$CAFE_PORT (4566). On AWS, call the same
routes (POST /kiosks, GET /kiosks, DELETE /kiosks/{kioskId}) with the operator token.
"""
import argparse
import json
import os
import pathlib
import sys
import urllib.error
import urllib.request

import boto3

ROOT = pathlib.Path(__file__).resolve().parent.parent


class Cafe:
    def __init__(self, endpoint, outputs):
        outputs = json.loads(pathlib.Path(outputs).read_text())
        self.api = outputs["LocalApiUrl"]
        # The local cloud takes any credentials; real ones and a region come from the environment.
        secrets = boto3.client("secretsmanager", endpoint_url=endpoint,
                               region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
                               aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
                               aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"))
        self.token = secrets.get_secret_value(SecretId=outputs["OperatorTokenSecretArn"])["SecretString"]

    def call(self, method, path, body=None):
        request = urllib.request.Request(
            self.api + path, method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"authorization": f"Bearer {self.token}", "content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read()), answer.headers.get("next-token")
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read() or b"null"), None

    def kiosks(self):
        kiosks, page = [], ""
        while True:
            status, items, next_token = self.call("GET", "kiosks?limit=100" + (f"&nextToken={page}" if page else ""))
            if status != 200:
                sys.exit(f"listing kiosks answered {status}: {items}")
            kiosks += items
            if not next_token:
                return kiosks
            page = next_token


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    port = os.environ.get("CAFE_PORT", "4566")
    parser.add_argument("--endpoint", default=os.environ.get("CAFE_ENDPOINT") or f"http://127.0.0.1:{port}")
    parser.add_argument("--outputs", default=ROOT / ".cafe/outputs.json")
    commands = parser.add_subparsers(dest="command", required=True)
    register = commands.add_parser("register", help="register a kiosk")
    register.add_argument("name", help="where it stands, e.g. 'front door'")
    register.add_argument("--replace", action="store_true", help="revoke the kiosks of that name first")
    register.add_argument("--link", action="store_true", help="print only the kiosk link")
    commands.add_parser("list", help="the registered kiosks")
    revoke = commands.add_parser("revoke", help="revoke a kiosk")
    revoke.add_argument("kiosk_id")
    args = parser.parse_args()
    cafe = Cafe(args.endpoint, args.outputs)

    if args.command == "list":
        for kiosk in cafe.kiosks():
            print(f"{kiosk['kioskId']}  registered {kiosk['registeredAt']}  {kiosk['kioskName']}")
    elif args.command == "revoke":
        status, kiosk, _ = cafe.call("DELETE", f"kiosks/{args.kiosk_id}")
        if status != 200:
            sys.exit(f"revoking {args.kiosk_id} answered {status}: {kiosk}")
        print(f"revoked {kiosk['kioskId']} ({kiosk['kioskName']}): its token places no more orders")
    else:
        if args.replace:
            for kiosk in cafe.kiosks():
                if kiosk["kioskName"] == args.name:
                    cafe.call("DELETE", f"kiosks/{kiosk['kioskId']}")
        status, kiosk, _ = cafe.call("POST", "kiosks", {"kioskName": args.name})
        if status != 201:
            sys.exit(f"registering a kiosk answered {status}: {kiosk}")
        # A URL fragment: the browser keeps it and never sends it to a server or a log.
        link = f"{cafe.api}#kiosk={kiosk['kioskToken']}"
        if args.link:
            print(link)
            return
        print(f"registered {kiosk['kioskId']} ({kiosk['kioskName']})")
        print(f"  kiosk link:  {link}")
        print("               open it once on the kiosk's screen: the page keeps the token and clears the link")
        print(f"  kiosk token: {kiosk['kioskToken']}  (shown this once: the cafe keeps only its hash)")


if __name__ == "__main__":
    main()
