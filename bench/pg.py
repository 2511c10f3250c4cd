"""A throwaway PostgreSQL 15 cluster for the bench (as .ci/run starts one), or the one named by BENCH_DATABASE_URL."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.scale.helpers import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(command: str) -> None:
    """Run a shell command as the postgres user."""
    subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", command], check=True, capture_output=True, timeout=120)


@contextmanager
def postgres() -> Iterator[str | None]:
    """Yield a PostgreSQL URL for the bench, or None (with the reason printed) when none can be had."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        yield url
        return
    if not (PG_BIN / "initdb").exists() or os.geteuid() != 0 or shutil.which("su") is None:
        print("PostgreSQL: skipped (set BENCH_DATABASE_URL, or run as root with postgresql-15 installed)")
        yield None
        return
    work = Path(tempfile.mkdtemp(prefix="coaching-bench-pg."))
    work.chmod(0o755)
    data, run = work / "data", work / "run"
    for folder in (data, run):
        folder.mkdir()
        shutil.chown(folder, "postgres")
    port = free_port()
    try:
        _as_postgres(f"{PG_BIN}/initdb -D {data} -A trust -U postgres")
        _as_postgres(f"{PG_BIN}/pg_ctl -D {data} -o '-p {port} -k {run} -c listen_addresses=127.0.0.1' "
                     f"-l {run}/pg.log -w start")
        _as_postgres(f"{PG_BIN}/createdb -h 127.0.0.1 -p {port} coaching_bench")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/coaching_bench"
    finally:
        subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", f"{PG_BIN}/pg_ctl -D {data} -m fast stop"],
                       capture_output=True, timeout=120)
        shutil.rmtree(work, ignore_errors=True)
