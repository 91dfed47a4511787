#!/usr/bin/env python3
"""The payment provider, locally: localstripe (a stateful stand-in for Stripe's API, PyPI) on
127.0.0.1:PORT, for the payment function to call as it calls Stripe on AWS. Any `sk_test_...` key
is taken; `pm_card_visa` is charged and `pm_card_chargeCustomerFail` declined, as in Stripe's test
mode. Ready when `GET /v1/payment_intents` answers 401 (it wants a key).

localstripe writes its whole state to one file, /tmp/localstripe.pickle, at every change, for
every instance on the machine: here each instance keeps its state in memory only, so the test
binaries' instances side by side neither share it nor spend their time writing it.

Usage: payments.py --port N
"""

import argparse

from aiohttp import web
from localstripe.resources import Store
from localstripe.server import app

Store.dump_to_disk = lambda self: None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
