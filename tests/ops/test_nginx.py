"""The sample nginx site of docs/deployment.md loads on the installed nginx and keeps tokens out of its access log.

Skipped loudly outside CI when nginx is missing (`apt-get install nginx`); .ci/run installs it.
"""
from __future__ import annotations

import http.client
import re
import shutil
import signal
import ssl
import subprocess
import time
from pathlib import Path

from tests.conftest import skip_or_fail
from tests.scale.helpers import REPO, free_port

DOC = REPO / "docs" / "deployment.md"


def nginx_binary() -> str:
    """The nginx program, or a loud skip (a failure in CI)."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if found is None:
        skip_or_fail("nginx is not installed (apt-get install nginx)")
    return found


def sample_site() -> str:
    """The ```nginx block of docs/deployment.md, as printed."""
    blocks = re.findall(r"```nginx\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 1, "docs/deployment.md should hold exactly one nginx site"
    return blocks[0]


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key, as the docs show for a first test."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=academy.example.com", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def configure(folder: Path, site: str) -> Path:
    """nginx.conf for a private prefix that includes the site, with certificates and logs in `folder`."""
    cert, key = self_signed(folder)
    site = site.replace("/etc/letsencrypt/live/academy.example.com/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/academy.example.com/privkey.pem", str(key))
    site = site.replace("/var/log/nginx/", f"{folder}/")
    (folder / "coaching.conf").write_text(site)
    temp = "\n".join(f"  {kind}_temp_path {folder}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                         "scgi"))
    main = folder / "nginx.conf"
    main.write_text(f"""worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
  include /etc/nginx/mime.types;
  access_log {folder}/default-access.log;
{temp}
  include {folder}/coaching.conf;
}}
""")
    return main


def test_sample_site_passes_nginx_t(tmp_path: Path) -> None:
    """`nginx -t` accepts the documented site as printed (certificate and log paths swapped for temporary ones)."""
    nginx = nginx_binary()
    main = configure(tmp_path, sample_site())
    done = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "[emerg]" not in done.stderr, done.stderr
    assert "test is successful" in done.stderr
    assert "server_tokens off;" in sample_site()


def test_sample_site_logs_no_tokens(tmp_path: Path) -> None:
    """Served for real (on free ports): reset and invitation tokens never reach the documented access log."""
    nginx = nginx_binary()
    http_port, https_port = free_port(), free_port()
    site = sample_site()
    site = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", site)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{free_port()};")  # no app: 502 is fine
    main = configure(tmp_path, site)
    started = subprocess.run([nginx, "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True,
                             timeout=60)
    assert started.returncode == 0, started.stderr
    try:
        insecure = ssl.create_default_context()
        insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE
        for path in ("/auth/reset/RESETSECRET", "/auth/register?invite=INVITESECRET", "/healthz"):
            conn = http.client.HTTPSConnection("127.0.0.1", https_port, context=insecure, timeout=10)
            conn.request("GET", path, headers={"Host": "academy.example.com"})
            answer = conn.getresponse()
            assert answer.status == 502 and "nginx/" not in answer.getheader("Server", "")
            conn.close()
        plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
        plain.request("GET", "/auth/reset/PLAINSECRET", headers={"Host": "academy.example.com"})
        assert plain.getresponse().status == 301
        plain.close()
    finally:
        pid = int((tmp_path / "nginx.pid").read_text())
        subprocess.run(["kill", f"-{signal.SIGQUIT.value}", str(pid)], check=False)
        for _ in range(50):
            if not (tmp_path / "nginx.pid").exists():
                break
            time.sleep(0.1)
    log = (tmp_path / "coaching.access.log").read_text()
    assert "/auth/reset/[redacted]" in log and "/auth/register?[query]" in log and "/healthz" in log, log
    for secret in ("RESETSECRET", "INVITESECRET", "PLAINSECRET"):
        assert secret not in log, log
