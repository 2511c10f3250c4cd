"""The README's shell blocks work as written when copied into a fresh shell in the project folder.

Every ```sh block of README.md runs in `env -i bash` (a PATH without the venv, no FLASK_APP, no activated
environment) with one addition: COACHING_INSTANCE points at a temporary folder, so the commands do not touch
the developer's database. Two lines are not run as they stand: `make test` (it would run this suite again) and
`make run ...` (a server that never ends): that one is started, asked for /healthz and stopped.
```text blocks are references with placeholders (EMAIL, PATH) and are not run.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.scale.helpers import REPO, free_port

README = REPO / "README.md"
NOT_RUN = ("make test",)


def sh_blocks() -> list[str]:
    """The ```sh blocks of the README."""
    return re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S)


def fresh_shell_env(tmp_path: Path) -> dict[str, str]:
    """What a new login shell has: a system PATH, a HOME, a locale; nothing of this test process."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
            "COACHING_INSTANCE": str(tmp_path / "instance")}


def test_readme_has_runnable_blocks() -> None:
    """The README shows make check (all and one course), make run PORT=... and both ways to run flask."""
    text = "\n".join(sh_blocks())
    for command in ("make check", "make check DIR=content/lessons/copywriting", "make run PORT=5083", ".venv/bin/flask content check", ". .venv/bin/activate"):
        assert command in text, command


@pytest.mark.parametrize("index", range(len(sh_blocks())))
def test_readme_block_runs_in_a_fresh_shell(index: int, tmp_path: Path) -> None:
    """One ```sh block, line by line in one fresh shell (so `. .venv/bin/activate` carries to the next line)."""
    if not (REPO / ".venv" / "bin" / "flask").exists():
        pytest.fail("no .venv in the project folder: `make install-dev` first (make test does it)")
    lines = [line.split("  #")[0].strip() for line in sh_blocks()[index].splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    script = ["set -e", f"cd {REPO}"]
    servers = []
    for line in lines:
        if line.startswith(NOT_RUN):
            continue
        if line.startswith("make run"):
            servers.append(line)
            continue
        script.append(line)
    done = subprocess.run(["bash", "-c", "\n".join(script)], env=fresh_shell_env(tmp_path), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"
    for line in servers:
        serve(line, tmp_path)


def serve(line: str, tmp_path: Path) -> None:
    """Start `make run ...` on a free port in a fresh shell, wait for /healthz, check SITE_URL, stop it."""
    port = free_port()
    line = re.sub(r"PORT=\d+", f"PORT={port}", line) if "PORT=" in line else f"{line} PORT={port}"
    process = subprocess.Popen(["bash", "-c", f"cd {REPO} && exec {line}"], env=fresh_shell_env(tmp_path),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "make run did not serve within 2 minutes"
                time.sleep(0.5)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert f"Serving on http://127.0.0.1:{port}" in output, output
