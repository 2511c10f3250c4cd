"""gunicorn settings for coaching; gunicorn reads this file from its working directory: `gunicorn wsgi:app`.

Every value can be changed through the GUNICORN_* environment variables below (docs/deployment.md explains them).
Options given on gunicorn's command line win over this file (the tests and the bench pass their own).
"""
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    """An integer from the environment, or the default."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Behind nginx on the same host: listen on loopback only (nginx terminates TLS, see docs/deployment.md).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Processes x threads. Requests spend much of their time in the database and in I/O, so a few threads per
# process help; processes give parallel CPU. 2 per core is a good start; on SQLite stay at 4 workers or fewer
# (one writer at a time), with PostgreSQL scale workers with cores and app servers.
workers = _int("GUNICORN_WORKERS", max(2, min(2 * multiprocessing.cpu_count(), 8)))
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread"

# A request that has not finished in 60 s is killed (the slowest pages - certificate PDF, CSV exports - take well
# under a second); on restart, running requests get 30 s to finish.
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5  # nginx keeps upstream connections open

# Worker recycling is off: a new worker parses the whole catalog before it serves (about 10 s of CPU for 1,000
# lessons, see docs/performance.md), so recycling every few thousand requests would take workers away under load.
# Set GUNICORN_MAX_REQUESTS (e.g. 100000) only if memory is seen to grow.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10

# Each worker builds its own app: its own database pool, content store (hot reload) and Redis connection.
# preload_app would share those across fork, which database connections and locks do not survive.
preload_app = False

# The heartbeat file on tmpfs: a slow disk cannot make the arbiter think a worker hangs.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# nginx logs every request already; set GUNICORN_ACCESS_LOG=- to log them here too (to stdout).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The client address in access logs comes from X-Forwarded-For only through the app's ProxyFix (PROXY_FIX_HOPS).
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms'
