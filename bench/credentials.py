"""Certificate figures (issue 17), measured in process through the Flask test client:

- verifying an uploaded certificate PDF through `POST /verify` (the whole route: multipart parsing in memory,
  pypdf, signature, status and record lookups, the answer page), median ms (aim: under 50 ms);
- status list 0 with 100,000 certificates (1 % revoked, 0.1 % withdrawn): its size and the time to serve
  `GET /credentials/status/0` (built from the rows on every request, then signed), median ms.

    python -m bench.credentials [--certificates 100000] [--rounds 30] [--postgres]

`make bench` runs `measure` on each database after the HTTP figures (see bench/__main__.py).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.scale.helpers import REPO

RNG_SEED = 17


def _config(url: str, root: Path) -> type:
    """Test settings on the given database; uploads not rate limited (the bench sends many)."""
    from config import TestConfig

    return type("CredentialBenchConfig", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": url, "CONTENT_DIR": str(REPO / "tests" / "fixtures" / "content"),
        "SIGNING_KEY_FILE": str(root / "credential-bench-keys.json"), "PAGES_DIR": str(REPO / "content" / "pages"),
        "VERIFY_UPLOADS_PER_MINUTE": 1_000_000, "SITE_URL": "https://academy.example"})


def _timings(call: Callable[[], Any], rounds: int) -> list[float]:
    """Wall times of `rounds` calls, in ms."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _seed_certificates(url: str, count: int, first_index: int) -> dict[str, int]:
    """`count` certificate rows with status indexes first_index.., 1 % revoked and 0.1 % withdrawn (bulk insert)."""
    from coaching.credentials.ids import new_certificate_id

    rng = random.Random(RNG_SEED)
    now = datetime.now(UTC)
    engine = sa.create_engine(url)
    table = sa.Table("certificates", sa.MetaData(), autoload_with=engine)
    rows, revoked, withdrawn = [], 0, 0
    for offset in range(count):
        roll = rng.random()
        revoked_at = now - timedelta(days=rng.randrange(1, 300)) if roll < 0.01 else None
        withdrawn_at = now - timedelta(days=rng.randrange(1, 300)) if 0.01 <= roll < 0.011 else None
        revoked += revoked_at is not None
        withdrawn += withdrawn_at is not None
        rows.append({"id": new_certificate_id(), "user_id": None, "course_slug": "demo",
                     "recipient_name": None if withdrawn_at else f"Bench Holder {offset}",
                     "course_title": "Demo course",
                     "certificate_title": "Certificate of completion", "language": "en",
                     "content_fingerprint": "0" * 64, "issued_at": now - timedelta(days=400),
                     "revoked_at": revoked_at, "revoked_reason": "bench" if revoked_at else None,
                     "withdrawn_at": withdrawn_at, "status_index": first_index + offset, "evidence": []})
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(table.insert(), rows[start:start + 5000])
    engine.dispose()
    return {"certificates": count, "revoked": revoked, "withdrawn": withdrawn}


def measure(url: str, root: Path, *, certificates: int = 100_000, rounds: int = 30) -> dict[str, Any]:
    """Seed the certificates, issue one real certificate, then time the upload check and the status list."""
    from coaching import create_app
    from coaching.credentials.verify import read_credential_from_pdf, verify_file
    from coaching.extensions import db
    from coaching.models import Counter, User
    from coaching.services import certificates as issuing
    from coaching.services import credentials, links, verification
    from coaching.services.accounts import create_user
    from coaching.services.catalog import catalog
    from tests.conftest import csrf_token

    root.mkdir(parents=True, exist_ok=True)
    app = create_app(_config(url, root))
    with app.app_context():
        db.create_all()  # the tables a migrated database already has are left alone
        first = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(sa.text("status_index")) + 1, 0))
                                  .select_from(sa.table("certificates")))
    seeded = _seed_certificates(url, certificates, first)
    with app.app_context():
        db.session.merge(Counter(name=issuing.STATUS_COUNTER, value=first + certificates))
        user = create_user(email=f"bench-holder-{time.time_ns()}@example.com", name="Bench Holder",
                           password="a bench passphrase")
        cert = issuing.issue_certificate(db.session.get(User, user.id), catalog().course("demo"), "en")
        db.session.commit()
        pdf = credentials.certificate_pdf(cert)
        list_number = cert.status_index // 131_072
        jwks, site = credentials.site_jwks(), links.site_url()
        token = read_credential_from_pdf(pdf)
        library = _timings(lambda: verify_file(pdf, jwks=jwks, issuer_url=site, now=datetime.now(UTC),
                                               status_lookup=lambda _url, _position: False), rounds)
        service = _timings(lambda: verification.verify_certificate_file(pdf), rounds)
        list_service = _timings(lambda: credentials.status_list_jwt(list_number), rounds)
    client = app.test_client()
    csrf = csrf_token(client.get("/verify").get_data(as_text=True))

    def upload() -> None:
        import io

        response = client.post("/verify", data={"csrf_token": csrf, "file": (io.BytesIO(pdf), "certificate.pdf")},
                               content_type="multipart/form-data")
        assert response.status_code == 200 and 'data-outcome="valid"' in response.get_data(as_text=True)

    upload()  # warm up (templates, fonts of the error path, pypdf imports)
    route = _timings(upload, rounds)
    status_path = f"/credentials/status/{list_number}"
    served = client.get(status_path)
    assert served.status_code == 200
    list_route = _timings(lambda: client.get(status_path), rounds)
    import jwt

    encoded = jwt.decode(served.get_data(as_text=True), options={"verify_signature": False})[
        "credentialSubject"]["encodedList"]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return {
        "status list seeded": seeded, "status list certificates": seeded["certificates"], "pdf bytes": len(pdf),
        "token bytes": len(token),
        "upload route ms": statistics.median(route), "upload route p90 ms": sorted(route)[int(rounds * 0.9) - 1],
        "upload service ms": statistics.median(service), "upload library ms": statistics.median(library),
        "status list route ms": statistics.median(list_route),
        "status list service ms": statistics.median(list_service),
        "status list bytes": len(served.data), "encodedList chars": len(encoded),
    }


def rows(figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Table rows (label, value, note) of one database's figures."""
    seeded = figures["status list seeded"]
    return [
        ("verify an uploaded certificate PDF, POST /verify, median ms", f"{figures['upload route ms']:.1f}",
         f"goal < 50; p90 {figures['upload route p90 ms']:.1f} ms; PDF {figures['pdf bytes']:,} bytes"),
        ("  the same check without HTTP (service / pure library), median ms",
         f"{figures['upload service ms']:.1f} / {figures['upload library ms']:.1f}", "record lookups / none"),
        (f"status list with {seeded['certificates']:,} certificates, GET /credentials/status/0, median ms",
         f"{figures['status list route ms']:.1f}",
         f"{seeded['revoked']:,} revoked, {seeded['withdrawn']:,} withdrawn; built and signed per request"),
        ("  the same list without HTTP (queries, GZIP, RS256), median ms", f"{figures['status list service ms']:.1f}",
         ""),
        ("status list size (signed VC-JWT) / encodedList, bytes",
         f"{figures['status list bytes']:,} / {figures['encodedList chars']:,}", "131,072 entries per list"),
    ]


def main(argv: list[str]) -> None:
    """Measure on a fresh SQLite file (and PostgreSQL with --postgres) and print the rows."""
    parser = argparse.ArgumentParser(prog="python -m bench.credentials", description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--postgres", action="store_true", help="also on a throwaway PostgreSQL (see bench/pg.py)")
    args = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory(prefix="coaching-bench-credentials.") as tmp_name:
        tmp = Path(tmp_name)
        results["SQLite"] = measure(f"sqlite:///{tmp / 'credentials.db'}", tmp / "sqlite",
                                    certificates=args.certificates, rounds=args.rounds)
        if args.postgres:
            from bench.pg import postgres

            with postgres() as url:
                if url:
                    results["PostgreSQL"] = measure(url, tmp / "pg", certificates=args.certificates,
                                                    rounds=args.rounds)
    for name, figures in results.items():
        print(f"\n{name}")
        print("| figure | value | note |\n|---|---|---|")
        for label, value, note in rows(figures):
            print(f"| {label} | {value} | {note} |")


if __name__ == "__main__":
    main(sys.argv[1:])
