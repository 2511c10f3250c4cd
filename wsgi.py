"""WSGI entry point: `gunicorn wsgi:app`; also lets `flask` find the app without FLASK_APP.

A setting that stops the start (coaching/startup.py) ends the process with one line per problem on stderr,
not a traceback.
"""
import sys

from coaching import create_app
from config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    for line in error.lines:
        sys.stderr.write(f"coaching: cannot start: {line}\n")
    sys.exit(1)
