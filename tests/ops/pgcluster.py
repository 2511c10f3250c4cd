"""A throwaway PostgreSQL cluster that a test may stop and start (its own folder and port, like .ci/run)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.scale.helpers import free_port

PG_BIN_CANDIDATES = [Path(f"/usr/lib/postgresql/{v}/bin") for v in (17, 16, 15)]


def pg_bin() -> Path | None:
    """The folder with initdb and pg_ctl, or None when PostgreSQL is not installed."""
    for folder in PG_BIN_CANDIDATES:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


@dataclass
class Cluster:
    """initdb + pg_ctl in a private folder; as root the server runs as the postgres user (it refuses root)."""

    bin: Path
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="coaching-pg-")))
    port: int = 0

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the cluster's `coaching` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/coaching?connect_timeout=3"

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        """Run a PostgreSQL program (as postgres when we are root); fail loudly with its output."""
        args = [str(self.bin / command[0]), *command[1:]]
        if os.geteuid() == 0:
            args = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in args)]
        done = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{command[0]} failed: {done.stdout}{done.stderr}{self.log()}"
        return done

    def log(self) -> str:
        """The server log."""
        path = self.root / "run" / "pg.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def create(self) -> None:
        """initdb, start, and create the `coaching` database."""
        self.port = self.port or free_port()
        (self.root / "data").mkdir()
        (self.root / "run").mkdir()
        self.root.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.root / "data", "postgres")
            shutil.chown(self.root / "run", "postgres")
        self._run("initdb", "-D", str(self.root / "data"), "-A", "trust", "-U", "postgres")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "coaching")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root / 'run'} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.root / "data"), "-o", options, "-l", str(self.root / "run" / "pg.log"),
                  "-w", "start")

    def stop(self) -> None:
        """Stop the server at once (fast mode: open connections are cut, as in a restart)."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        """Stop if running and remove the folder."""
        if (self.root / "data" / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
