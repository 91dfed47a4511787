#!/usr/bin/env python3
"""`sam local invoke` and `sam local start-api` against a running local cloud.

    sam_local.py [--endpoint URL] [--stack-name NAME] invoke FUNCTION EVENT_FILE
    sam_local.py [--endpoint URL] [--stack-name NAME] api [--port 3000]

FUNCTION is a template function (OrderApiFunction) or its binary (order-api). SAM runs the built
bootstrap in a Docker container, which needs, on a machine no image registry answers:
- Docker: Debian's docker.io, installed if missing, and a dockerd started if none answers (its
  pid in .cafe/dockerd.pid, so `make down` stops only a daemon this started);
- the base image SAM asks for (public.ecr.aws/lambda/provided:al2023-x86_64), made once from a
  Debian minbase (debootstrap, with ca-certificates for the SDK's TLS) and kept by Docker;
- the local cloud, reachable from a container: containers see this host at the bridge's address
  (172.17.0.1), where nothing listens, so while SAM runs, a forwarder listens on that address
  and the cloud's port, and passes each connection to 127.0.0.1 (never all interfaces);
- the deployed stack's configuration: a copy of template.yaml whose functions run the zips
  `cargo lambda build` made, and, as --env-vars, each deployed function's environment (its table
  names, queue URLs, secrets) plus LOCAL_ENDPOINT_URL, the one variable the template declares
  for this (SAM sets only variables the template declares).
"""

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import yaml

from deploy import CfnLoader, function_archive

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".cafe"
SAM = ROOT / ".venv-sam" / "bin" / "sam"
BASE_IMAGE = "public.ecr.aws/lambda/provided:al2023-x86_64"


def log(message):
    print(f"[sam-local] {message}", file=sys.stderr, flush=True)


def as_root(command):
    return command if os.geteuid() == 0 else ["sudo", *command]


def docker_answers():
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def ensure_docker():
    """Debian's docker.io, and a daemon that answers."""
    if docker_answers():
        return
    if not shutil.which("dockerd") or not shutil.which("debootstrap"):
        log("installing docker.io and debootstrap (apt)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(as_root(["apt-get", "install", "-y", "-q", "docker.io", "debootstrap"]), check=True, env=env,
                       stdout=subprocess.DEVNULL)
    STATE.mkdir(exist_ok=True)
    started = time.time()
    # Its default bridge stays: with --bridge=none no container reaches the host.
    with open(STATE / "dockerd.log", "ab") as out:
        daemon = subprocess.Popen(as_root(["dockerd"]), stdout=out, stderr=out, start_new_session=True)
    (STATE / "dockerd.pid").write_text(str(daemon.pid))
    while not docker_answers():
        if daemon.poll() is not None or time.time() - started > 60:
            sys.exit(f"dockerd did not start; see {STATE / 'dockerd.log'}")
        time.sleep(0.5)
    log(f"started dockerd in {time.time() - started:.1f} s (pid {daemon.pid}; make down stops it)")


def ensure_base_image():
    """The image SAM builds its runtime image on, made locally once."""
    if subprocess.run(["docker", "image", "inspect", BASE_IMAGE], capture_output=True).returncode == 0:
        return
    started = time.time()
    rootfs = STATE / "base-image-rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    log(f"making {BASE_IMAGE} from a Debian minbase (debootstrap, about a minute, once)")
    subprocess.run(as_root(["debootstrap", "--variant=minbase", "--include=ca-certificates", "bookworm",
                            str(rootfs)]), check=True, stdout=subprocess.DEVNULL)
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(["docker", "import", "-", BASE_IMAGE], stdin=tar.stdout, check=True, stdout=subprocess.DEVNULL)
    tar.wait()
    shutil.rmtree(rootfs, ignore_errors=True)
    log(f"made {BASE_IMAGE} in {time.time() - started:.0f} s")


def bridge_address():
    """This host's address on Docker's default bridge, where a container reaches it."""
    inspect = subprocess.run(["docker", "network", "inspect", "bridge"], capture_output=True, text=True, check=True)
    network = json.loads(inspect.stdout)[0]
    gateway = ((network["IPAM"]["Config"] or [{}])[0]).get("Gateway")
    if gateway:
        return gateway
    # Docker 20.10 names no gateway: the bridge interface's own address is it.
    interface = network["Options"]["com.docker.network.bridge.name"]
    shown = subprocess.run(["ip", "-4", "-o", "addr", "show", interface], capture_output=True, text=True, check=True)
    return shown.stdout.split()[3].split("/")[0]


def forward(bridge, port):
    """Listens on bridge:port in a background thread, passing each connection to 127.0.0.1:port,
    for as long as this process runs. If another forwarder already serves that address, it is
    left to do so."""

    async def pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def connect(client_reader, client_writer):
        try:
            cloud_reader, cloud_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, cloud_writer), pipe(cloud_reader, client_writer))

    async def serve(listening):
        server = await asyncio.start_server(connect, sock=listening)
        await server.serve_forever()

    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((bridge, port))
    except OSError as error:
        log(f"{bridge}:{port} is taken ({error.strerror}): using the forwarder already there")
        return
    listening.listen(128)
    threading.Thread(target=lambda: asyncio.run(serve(listening)), daemon=True).start()


def logical_id(name, template):
    """The template's function for a logical id or a binary name."""
    functions = {n: r for n, r in template["Resources"].items() if r.get("Type") == "AWS::Serverless::Function"}
    if name in functions:
        return name
    for found, resource in functions.items():
        if resource["Metadata"]["BuildProperties"]["Binary"] == name:
            return found
    sys.exit(f"no function {name!r} in template.yaml; one of: {', '.join(sorted(functions))}")


def prepare(template, endpoint, stack_name, only=None):
    """Writes the template and the --env-vars file for this stack on this cloud (in a folder of
    the cloud's port) and starts the forwarder; returns the folder. With `only`, the template
    holds that function alone, without its event sources: SAM reads it in a second, where the
    whole template takes it several."""
    if only:
        function = template["Resources"][only]
        function["Properties"].pop("Events", None)
        template["Resources"] = {only: function}
        template.pop("Outputs", None)
    port = int(endpoint.rsplit(":", 1)[1].split("/")[0])
    bridge = bridge_address()
    lambda_client = boto3.client("lambda", endpoint_url=endpoint)
    env_vars = {}
    for name, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        binary = resource.pop("Metadata")["BuildProperties"]["Binary"]
        archive = function_archive(binary)
        if not archive.exists():
            sys.exit(f"{archive} is missing: run `make up` (or cargo lambda build --release --output-format zip)")
        resource["Properties"]["CodeUri"] = str(archive)
        deployed = lambda_client.get_function_configuration(FunctionName=f"{stack_name}-{binary}")
        env_vars[name] = {**deployed.get("Environment", {}).get("Variables", {}),
                          "LOCAL_ENDPOINT_URL": f"http://{bridge}:{port}"}
    work = STATE / f"sam-local-{port}"
    work.mkdir(parents=True, exist_ok=True)
    (work / "template.json").write_text(json.dumps(template, indent=1))
    (work / "env.json").write_text(json.dumps(env_vars, indent=1))
    forward(bridge, port)
    return work


def sam(work, endpoint, *args):
    # SAM itself asks STS for the account id: on the local cloud that answers at once, where AWS,
    # out of reach, costs seconds of timeouts on every run.
    env = dict(os.environ, SAM_CLI_TELEMETRY="0", AWS_ENDPOINT_URL=endpoint)
    common = ["--template", str(work / "template.json"), "--env-vars", str(work / "env.json"),
              "--skip-pull-image"]
    child = subprocess.Popen([str(SAM), *args, *common], env=env)

    # Stopping this (Ctrl-C, or a test's SIGTERM) stops SAM, which removes its containers.
    def stop(_signal, _frame):
        child.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    return child.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", help="the local cloud (default: the one `make up` started)")
    parser.add_argument("--stack-name", default="cafe")
    commands = parser.add_subparsers(dest="command", required=True)
    invoke = commands.add_parser("invoke", help="run one function once on an event file")
    invoke.add_argument("function")
    invoke.add_argument("event")
    api = commands.add_parser("api", help="serve the REST API locally (sam local start-api)")
    api.add_argument("--port", type=int, default=3000)
    args = parser.parse_args()

    endpoint = args.endpoint
    if not endpoint:
        outputs = STATE / "outputs.json"
        if not outputs.exists():
            sys.exit("no local cloud: run `make up` first (or pass --endpoint)")
        endpoint = json.loads(outputs.read_text())["Endpoint"]
    if not SAM.exists():
        sys.exit(f"{SAM} is missing: `make invoke` and `make api` install the SAM CLI first")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_REGION", os.environ["AWS_DEFAULT_REGION"])
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=CfnLoader)
    function = logical_id(args.function, template) if args.command == "invoke" else None
    ensure_docker()
    ensure_base_image()
    work = prepare(template, endpoint, args.stack_name, only=function)
    if function:
        sys.exit(sam(work, endpoint, "local", "invoke", function, "--event", args.event))
    log(f"the API on http://127.0.0.1:{args.port}/ (Ctrl-C stops it)")
    sys.exit(sam(work, endpoint, "local", "start-api", "--host", "127.0.0.1", "--port", str(args.port),
                 "--warm-containers", "LAZY"))


if __name__ == "__main__":
    main()
