"""Drive a URL with wrk (Debian package), or with a threaded Python load generator when wrk is missing.

Both return the same figures: requests per second, p50/p99 latency (ms), failures, and for quiz runs the
attempt ids that the server's redirects named (to count lost or duplicated attempts afterwards).
"""
from __future__ import annotations

import http.client
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.scale.helpers import USER_AGENT

ATTEMPT_RE = re.compile(r"/attempts/(\d+)$")

LUA = r"""
local path, method, body_prefix, out, vary = %(path)s, %(method)s, %(body)s, %(out)s, %(vary)s
local threads, counter = {}, 0
tid, ids = 0, ""  -- globals: setup() sets tid per thread, done() reads ids
local next_tid = 0
wrk.headers["User-Agent"] = %(agent)s
%(headers)s
function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
  table.insert(threads, thread)
end
function request()
  counter = counter + 1
  if method == "GET" then return wrk.format("GET", path) end
  local sid = %(run)s .. "-" .. tid .. "-" .. counter
  local extra = vary ~= "" and (vary .. sid) or ""
  return wrk.format("POST", path, nil, body_prefix .. "&submission_id=" .. sid .. extra)
end
%(response)s
function done(summary, latency, requests)
  local f = io.open(out, "w")
  local all = {}
  for _, t in ipairs(threads) do
    local got = t:get("ids")
    if got and #got > 0 then table.insert(all, string.sub(got, 1, -2)) end
  end
  f:write(string.format('{"requests": %%d, "duration_us": %%d, "status_errors": %%d, "socket_errors": %%d, ' ..
    '"p50_us": %%d, "p99_us": %%d, "ids": [%%s]}', summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), table.concat(all, ",")))
  f:close()
end
"""

RESPONSE = r"""
function response(status, headers, body)
  local loc = headers["Location"] or headers["location"]
  if status == 303 and loc then
    local id = string.match(loc, "/attempts/(%d+)$")
    if id then ids = ids .. id .. "," end
  end
end
"""


@dataclass
class Result:
    """What one load run measured."""

    tool: str
    requests: int
    seconds: float
    failures: int
    p50_ms: float
    p99_ms: float
    ids: list[int] = field(default_factory=list)

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def have_wrk() -> bool:
    """True when wrk is installed."""
    return shutil.which("wrk") is not None


def _lua_string(value: str) -> str:
    """A Lua string literal."""
    return json.dumps(value)


def run(base: tuple[str, int], path: str, *, seconds: float, connections: int, cookie: str | None = None,
        post_body: str | None = None, run_id: str = "r", vary_field: str | None = None) -> Result:
    """Load one URL for `seconds`; POST bodies get a unique `submission_id` (and `vary_field` value) per request."""
    vary = f"&{vary_field}=" if vary_field else ""
    if have_wrk():
        return _run_wrk(base, path, seconds, connections, cookie, post_body, run_id, vary)
    return _run_python(base, path, seconds, connections, cookie, post_body, run_id, vary)


def _run_wrk(base: tuple[str, int], path: str, seconds: float, connections: int, cookie: str | None,
             post_body: str | None, run_id: str, vary: str) -> Result:
    """wrk with a generated Lua script (unique submission ids, attempt ids collected, JSON summary)."""
    with tempfile.TemporaryDirectory() as tmp:
        out, script = Path(tmp) / "result.json", Path(tmp) / "script.lua"
        headers = f'wrk.headers["Cookie"] = {_lua_string(cookie)}\n' if cookie else ""
        if post_body:
            headers += 'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        script.write_text(LUA % {
            "path": _lua_string(path), "method": _lua_string("POST" if post_body else "GET"),
            "body": _lua_string(post_body or ""), "out": _lua_string(str(out)), "vary": _lua_string(vary),
            "agent": _lua_string(USER_AGENT),
            "headers": headers, "run": _lua_string(run_id), "response": RESPONSE if post_body else ""})
        command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{int(seconds)}s", "--timeout", "30s",
                   "-s", str(script), f"http://{base[0]}:{base[1]}{path}"]
        done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=seconds + 120)
        data = json.loads(out.read_text())
        if not data["requests"]:
            print(f"wrk completed no request on {path}:\n{done.stdout}{done.stderr}", flush=True)
    return Result("wrk", data["requests"], data["duration_us"] / 1e6, data["status_errors"] + data["socket_errors"],
                  data["p50_us"] / 1000, data["p99_us"] / 1000, [int(i) for i in data["ids"]])


def _run_python(base: tuple[str, int], path: str, seconds: float, connections: int, cookie: str | None,
                post_body: str | None, run_id: str, vary: str) -> Result:
    """The fallback: one thread per connection, keep-alive, same figures as wrk."""
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    ids: list[int] = []
    failures = [0]
    lock = threading.Lock()

    def worker(number: int) -> None:
        conn = http.client.HTTPConnection(*base, timeout=30)
        headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
        counter = 0
        while time.monotonic() < stop:
            counter += 1
            sid = f"{run_id}-{number}-{counter}"
            body = f"{post_body}&submission_id={sid}{vary + sid if vary else ''}" if post_body else None
            if body:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            started = time.perf_counter()
            try:
                conn.request("POST" if body else "GET", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(*base, timeout=30)
                with lock:
                    failures[0] += 1
                continue
            took = time.perf_counter() - started
            match = ATTEMPT_RE.search(response.getheader("Location") or "")
            with lock:
                latencies.append(took)
                if response.status >= 400:
                    failures[0] += 1
                if match and response.status == 303:
                    ids.append(int(match.group(1)))
        conn.close()

    began = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    ordered = sorted(latencies) or [0.0]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return Result("python", len(latencies), elapsed, failures[0], statistics.median(ordered) * 1000, p99 * 1000, ids)
