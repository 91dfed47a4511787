#!/usr/bin/env python3
"""Runs the workspace's test binaries: the quick ones one after another, the end-to-end ones side
by side.

`cargo test` runs one test binary after another. An end-to-end binary starts its own MiniStack on
a free port and spends most of its time waiting on the saga, so three of them at once on 2 cores
take little more than one. This builds every test binary once (`cargo test --no-run`, which builds the
functions' binaries too: they are packed as their bootstrap.zip, so the end-to-end stacks run the
same dev-profile build and nothing is compiled twice), then runs them in LANES lanes (CAFE_TEST_LANES, default 3), longest first: the quick binaries are one job, each
end-to-end binary another. The binaries that measure speed (the benchmark, the API's throttle) run
last, alone. Each binary's output is printed whole when it ends, then a summary of times.

Usage: run_tests.py [--build-only | test binary arguments...]: `--nocapture` is implied; a name
filter given here goes to every binary. Exits non-zero if the build or any binary failed.
"""

import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANES = int(os.environ.get("CAFE_TEST_LANES", "3"))
# The end-to-end package's folder: each of its binaries deploys its own stack.
END_TO_END = "tests"
# Binaries whose assertions depend on how fast requests arrive: run when nothing else does.
ALONE = {"benchmark", "throttle"}
# Seconds each end-to-end binary took on a 2-core machine, two at a time (a first guess for the
# order; an unknown one counts as long, so it starts early).
TOOK = {
    "security": 155, "sam_cli": 100, "contract": 82, "reliability": 72, "hard_paths": 62,
    "sam_local": 49, "cafe_floor": 42, "kiosk_page": 27, "api_fuzz": 26, "saga": 19,
    "operator_page": 40, "commerce": 12, "store_outage": 7, "sample_events": 6, "aws_ready": 6, "least_privilege": 1,
    "cafe_e2e": 0,
}


# Where the functions' bootstrap.zip files go, one folder per binary as cargo-lambda lays them out;
# deploy.py, sam_local.py and the benchmark read CAFE_LAMBDA_DIR.
LAMBDA_DIR = ROOT / "target" / "lambda-test"


def build():
    """Builds every test binary once, and with them the functions' binaries (each function crate
    has integration tests, so `cargo test` builds its binaries too, with the same dependencies).
    Returns (test binaries as (package folder, name, executable, directory), function binaries as
    (name, executable)). (Doc-tests are not run: the crates have none.)"""
    build = subprocess.run(
        ["cargo", "test", "--workspace", "--no-run", "--message-format=json-render-diagnostics"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    if build.returncode != 0:
        sys.exit("building the test binaries failed")
    tests, functions = [], []
    for line in build.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") != "compiler-artifact" or not message.get("executable"):
            continue
        directory = Path(message["manifest_path"]).parent
        package = str(directory.relative_to(ROOT))
        if message["profile"]["test"]:
            tests.append((package, message["target"]["name"], message["executable"], directory))
        elif package.startswith("functions/"):
            functions.append((message["target"]["name"], message["executable"]))
    return tests, functions


def pack(function):
    """A function binary as Lambda takes it: `bootstrap` in a zip, its debug info left out (the
    line tables stay in target/ for a backtrace; a stack's zips stay small to deploy)."""
    name, executable = function
    folder = LAMBDA_DIR / name
    archive = folder / "bootstrap.zip"
    if archive.exists() and archive.stat().st_mtime > Path(executable).stat().st_mtime:
        return
    folder.mkdir(parents=True, exist_ok=True)
    bootstrap = folder / "bootstrap"
    subprocess.run(["strip", "--strip-debug", "-o", str(bootstrap), executable], check=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zipped:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o100755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zipped.writestr(info, bootstrap.read_bytes())


class Run:
    def __init__(self, label, binaries):
        self.label, self.binaries = label, binaries
        self.passed, self.took, self.output = None, 0.0, ""

    def __call__(self, args, print_lock):
        started = time.time()
        outputs, passed = [], True
        for package, name, executable, directory in self.binaries:
            # As cargo test runs it: from its package's folder.
            done = subprocess.run(
                [executable, "--nocapture", *args], cwd=directory,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
            )
            outputs.append(f"     Running {package} {name}\n{done.stdout}")
            if done.returncode != 0:
                passed = False
                outputs.append(f"FAILED: {package} {name} (exit {done.returncode})\n")
        self.passed, self.took, self.output = passed, time.time() - started, "".join(outputs)
        with print_lock:
            print(f"\n==> {self.label}: {'ok' if passed else 'FAILED'} in {self.took:.0f} s", flush=True)
            print(self.output, flush=True)


def main():
    args = sys.argv[1:]
    building = time.time()
    binaries, functions = build()
    print(f"==> test binaries and {len(functions)} function binaries built in {time.time() - building:.0f} s", flush=True)
    packing = time.time()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(pack, functions))
    os.environ["CAFE_LAMBDA_DIR"] = str(LAMBDA_DIR)
    print(f"==> functions packed into {LAMBDA_DIR.relative_to(ROOT)}/ in {time.time() - packing:.0f} s", flush=True)
    if args == ["--build-only"]:
        return
    quick = [b for b in binaries if b[0] != END_TO_END]
    end_to_end = [b for b in binaries if b[0] == END_TO_END and b[1] not in ALONE]
    alone = [b for b in binaries if b[0] == END_TO_END and b[1] in ALONE]
    end_to_end.sort(key=lambda b: -TOOK.get(b[1], 1000))
    jobs = [Run(f"end to end: {b[1]}", [b]) for b in end_to_end]
    # The quick binaries (unit, in-process, store contracts) together take about a minute.
    jobs.insert(min(2, len(jobs)), Run(f"{len(quick)} unit, in-process and contract test binaries", quick))
    print(f"==> {len(binaries)} test binaries: {len(end_to_end)} end-to-end ones {LANES} at a time, "
          f"then {', '.join(b[1] for b in alone)} alone", flush=True)

    print_lock, queue, queue_lock = threading.Lock(), list(jobs), threading.Lock()

    def lane():
        while True:
            with queue_lock:
                if not queue:
                    return
                job = queue.pop(0)
            job(args, print_lock)

    started = time.time()
    lanes = [threading.Thread(target=lane) for _ in range(LANES)]
    for thread in lanes:
        thread.start()
    for thread in lanes:
        thread.join()
    for binary in alone:
        job = Run(f"end to end, alone: {binary[1]}", [binary])
        job(args, print_lock)
        jobs.append(job)

    print(f"\n==> tests: {time.time() - started:.0f} s in all ({LANES} lanes)")
    for job in sorted(jobs, key=lambda j: -j.took):
        print(f"  {'ok    ' if job.passed else 'FAILED'} {job.took:6.0f} s  {job.label}")
    failed = [job.label for job in jobs if not job.passed]
    if failed:
        sys.exit(f"{len(failed)} failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
