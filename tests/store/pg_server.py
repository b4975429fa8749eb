"""A throwaway PostgreSQL server for the tests: initdb + pg_ctl on a temporary directory and port.

PostgreSQL refuses to run as root, so under root the server runs as the `postgres` system user
(created if missing). No server binaries is a failure that says how to get them, not a skip.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

HOW_TO_GET = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's package with "
    "`apt-get install postgresql` (`make test` does it when run as root), or point PRACTICE_PG_BIN "
    "at the directory that holds them"
)
SUPERUSER = "practice"


def find_bin_dir() -> Path | None:
    """The directory holding initdb and pg_ctl: PRACTICE_PG_BIN, Debian's newest, or PATH."""
    candidates = [os.environ.get("PRACTICE_PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    found = shutil.which("initdb")
    candidates.append(str(Path(found).resolve().parent) if found else "")
    for c in filter(None, candidates):
        if (Path(c) / "initdb").is_file() and (Path(c) / "pg_ctl").is_file():
            return Path(c)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> list[str]:
    """The command prefix that runs a server binary as a user PostgreSQL accepts."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"], check=True)
    return ["runuser", "-u", "postgres", "--"]


@dataclass
class PgServer:
    """A running server: connect as `url(dbname)`."""

    bin_dir: Path
    root: Path
    port: int
    prefix: list[str]

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its directory."""
        subprocess.run([*self.prefix, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
                       capture_output=True, check=False)  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> PgServer:
    """initdb a temporary cluster and start it on a free 127.0.0.1 port; raises RuntimeError with the reason."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise RuntimeError(HOW_TO_GET)
    prefix = _run_as()
    root = Path(tempfile.mkdtemp(prefix="practice-pg-"))
    if prefix:
        shutil.chown(root, "postgres", "postgres")
    server = PgServer(bin_dir, root, _free_port(), prefix)
    # fsync off: a test cluster is thrown away, durability would only cost time.
    options = f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    steps = [
        [str(bin_dir / "initdb"), "-D", str(server.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
        [str(bin_dir / "pg_ctl"), "-D", str(server.data), "-o", options, "-l", str(root / "server.log"), "-w", "-t", "60", "start"],
    ]  # fmt: skip
    for cmd in steps:
        done = subprocess.run([*prefix, *cmd], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = (root / "server.log").read_text(errors="replace")[-2000:] if (root / "server.log").exists() else ""
            server.stop()
            raise RuntimeError(f"{Path(cmd[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}\n{log}")
    return server
