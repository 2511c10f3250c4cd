"""gunicorn settings for coaching; gunicorn reads this file from its working directory: `gunicorn wsgi:app`.

Every value can be changed through the GUNICORN_* environment variables below (docs/deployment.md explains them).
Options given on gunicorn's command line win over this file (the tests and the bench pass their own).
"""
import multiprocessing
import os
import subprocess
import sys


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

# Worker recycling is off by default: nothing is known to grow. A new worker reads the catalog before it serves
# (post_worker_init below: about half a second for 1,000 lessons from the shared render cache, see
# docs/performance.md), so GUNICORN_MAX_REQUESTS (e.g. 100000) costs little if memory is ever seen to grow.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10

# Each worker builds its own app: its own database pool, content store (hot reload) and Redis connection.
# preload_app would share those across fork, which database connections and locks do not survive.
preload_app = False

# gunicorn's control socket (`gunicornc`: worker status, add or remove workers, graceful reload). Under systemd
# with RuntimeDirectory=coaching it lives in /run/coaching/ (owned by the service user, removed on stop); else
# GUNICORN_CONTROL_SOCKET, else gunicorn's default ($XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl).
# Mode 0600: only the service user may use it.
_runtime_dir = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
elif _runtime_dir:
    control_socket = os.path.join(_runtime_dir, "gunicorn.ctl")
control_socket_mode = 0o600

# The heartbeat file on tmpfs: a slow disk cannot make the arbiter think a worker hangs.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Logging: every line gunicorn and the app write is one JSON object on stderr (coaching.logs.JsonFormatter),
# tracebacks included. nginx logs every request already, so gunicorn's access log is off; GUNICORN_ACCESS_LOG=-
# adds one JSON line per request to stderr, a file path writes them there. Access lines carry the method, the
# path without its query string and with reset tokens redacted, status, bytes and duration: no user agent.
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
_access_target = os.environ.get("GUNICORN_ACCESS_LOG", "").strip()
accesslog = None
# Only used if the JSON logging below is replaced: the path (%(U)s) never includes the query string.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
_access_handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
if _access_target and _access_target != "-":
    _access_handler = {"class": "logging.FileHandler", "formatter": "json", "filename": _access_target}
def _json_formatter() -> object:
    """coaching/logformat.py loaded by its path: the master imports neither Flask nor the app (see on_starting)."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "coaching", "logformat.py")
    spec = importlib.util.spec_from_file_location("coaching_logformat", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.JsonFormatter()


logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": _json_formatter}},
    "handlers": {
        "json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
        "access": _access_handler,
    },
    "root": {"level": "WARNING", "handlers": ["json"]},
    "loggers": {
        # No level here: gunicorn sets it from loglevel (or --log-level) before applying this dict.
        "gunicorn.error": {"handlers": [], "propagate": True},
        "gunicorn.access": {"level": "INFO" if _access_target else "CRITICAL", "handlers": ["access"],
                            "propagate": False},
    },
}


def on_starting(server: object) -> None:
    """Refuse to start, one line per problem and no traceback, when a production setting is missing or unsafe.

    Runs once in the master before any worker starts. The check (coaching/startup.py) runs in a child process:
    the master must not import the app or its libraries, or workers forked after `systemctl reload` (HUP)
    would inherit the old code instead of importing the new release.
    """
    folder = getattr(getattr(server, "cfg", None), "chdir", None) or os.getcwd()
    check = "import sys; from coaching.startup import main; sys.exit(main())"
    done = subprocess.run([sys.executable, "-c", check], cwd=folder, check=False)
    if done.returncode != 0:
        sys.exit(1)


def post_worker_init(worker: object) -> None:
    """Read the lesson catalog before this worker takes its first request, so nobody waits for it.

    The renderings come from the server's shared render cache (instance/render-cache.sqlite3), so a new worker
    or a restart reads 1,000 lessons in about half a second; only the very first start renders them all.
    """
    app = getattr(worker, "wsgi", None)
    store = getattr(app, "extensions", {}).get("coaching.content")
    if store is not None:
        store.catalog  # noqa: B018  (the property reads the catalog)
