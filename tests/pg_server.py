"""A PostgreSQL server for the tests: the one CI started (BRIEFBOT_TEST_POSTGRES_URL, and
BRIEFBOT_TEST_POSTGRES_DATA for restarts), else a private cluster in a temp folder started
here with Debian's `initdb`/`pg_ctl` (as an unprivileged user when the tests run as root:
initdb refuses root). Each test gets its own database, created and dropped around it."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PASSWORD = "briefbot-test-secret"
USER = "briefbot"


def pg_bin() -> Path | None:
    """The folder of initdb/pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<n>/bin."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return versions[0].parent if versions else None


def _as_owner(data: Path) -> list[str]:
    """`runuser -u <owner> --` when root must act as the data folder's owner, else nothing."""
    if os.geteuid() != 0:
        return []
    owner = pwd.getpwuid(data.stat().st_uid).pw_name
    return [] if owner == "root" else ["runuser", "-u", owner, "--"]


def unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("no unprivileged user to run PostgreSQL as")


@dataclass
class PgServer:
    url: str  # the admin URL (a superuser, the maintenance database)
    data: Path | None  # the cluster's folder, for pg_ctl stop/start/restart
    bin: Path | None

    def database_url(self, name: str) -> str:
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))

    def ctl(self, action: str) -> None:
        assert self.data is not None and self.bin is not None, "no data folder to restart"
        command = [*_as_owner(self.data), str(self.bin / "pg_ctl"), "-D", str(self.data)]
        command += ["-w", "-l", str(self.data / "server.log"), action]
        if action == "stop" or action == "restart":
            command += ["-m", "fast"]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    @contextmanager
    def database(self) -> Iterator[str]:
        """A fresh empty database for one test; dropped after it (with its connections)."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        try:
            yield self.database_url(name)
        finally:
            with psycopg.connect(self.url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def private_cluster(bin_dir: Path) -> Iterator[PgServer]:
    """initdb + pg_ctl start in a temp folder (127.0.0.1, a free port, password auth);
    stopped and removed at the end."""
    root = Path(tempfile.mkdtemp(prefix="briefbot-pg-"))
    data = root / "data"
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD)
    if os.geteuid() == 0:
        user = pwd.getpwnam(unprivileged_user())
        for path in (root, pwfile):
            os.chown(path, user.pw_uid, user.pw_gid)
        runner = ["runuser", "-u", user.pw_name, "--"]
    else:
        runner = []
    port = _free_port()
    try:
        subprocess.run(
            [
                *runner,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                "-A",
                "scram-sha-256",
                f"--pwfile={pwfile}",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        with open(data / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{root}'\nfsync = off\n"
                "synchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n"
            )
        url = f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/postgres"
        server = PgServer(url, data, bin_dir)
        server.ctl("start")
        try:
            yield server
        finally:
            server.ctl("stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
