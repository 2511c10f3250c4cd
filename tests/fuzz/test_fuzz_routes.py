"""Fuzz every route of app.url_map as anonymous visitor, affiliate and manager, with valid CSRF tokens: the corpus
(tests/fuzz/corpus.py) in every query parameter, every path segment, every form field (also sent twice and as
`name[]`) and as JSON bodies. Zero 5xx; a refused request (4xx) leaves every table as it was; no refused text
reaches a database statement. Destructive manager actions hit throwaway people. Runs on SQLite and, in CI, on
PostgreSQL (COACHING_TEST_BACKEND=postgresql): about 12,000 requests per database."""
from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pytest

from tests.fuzz.conftest import NEW_PASSWORD, PASSWORD, ROLES, FoundForm, FuzzWorld, encode, forms_on
from tests.fuzz.corpus import CORPUS, JSON_BODIES

BUDGET = 14_000  # requests per database (CI time)
ACCESS_ROLES = {"public": ("anonymous", "affiliate"), "user": ("affiliate",), "manager": ("manager",)}
# Query parameters the views read, besides those found in GET forms on the pages.
KNOWN_ARGS = ("q", "page", "sort", "status", "role", "lang", "next", "invite", "id", "view")
# A sensible value for empty fields, so a fuzzed field is not refused only because its neighbours are empty.
DEFAULTS = {"name": "Fuzz Person", "email": "fuzz-{role}@example.com", "password": PASSWORD, "reason": "Fuzzing",
            "current_password": PASSWORD, "confirm": "does not match it", "course": "demo", "lesson": "headlines",
            "title": "Fuzz title", "slug": "fuzzed-{role}", "alt": "A fuzzed picture"}


def declared_access(app: Any, endpoint: str) -> str:
    """public, user or manager, as the view declares it."""
    view = app.view_functions[endpoint]
    while view is not None:
        if hasattr(view, "access"):
            return view.access
        view = getattr(view, "__wrapped__", None)
    raise AssertionError(f"{endpoint} declares no access rule")


def samples(world: FuzzWorld) -> dict[str, str]:
    """A valid value for every URL argument."""
    seed = world.seed
    return {"course_slug": "demo", "lesson_slug": "headlines", "filename": "images/funnel.svg",
            "attempt_id": str(seed["affiliate"]["attempt"]), "name": seed["affiliate"]["certificate"] + ".pdf",
            "token": seed["reset_token"], "user_id": str(seed["target"]["id"]),
            "cert_id": seed["target"]["certificate"], "invite_id": str(seed["invite"]),
            "number": "1", "thumbprint": "A" * 43, "submission_id": str(seed["waiting_submission"])}


def rules(world: FuzzWorld, method: str) -> list[Any]:
    """The app's rules that accept a method (the static files aside)."""
    return [r for r in world.app.url_map.iter_rules() if method in r.methods and r.endpoint != "static"]


def build(rule: Any, values: dict[str, str], replace: tuple[str, str] | None = None) -> str:
    """The path of a rule with valid values, one argument optionally replaced by a raw (encoded) value."""
    path = rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]
    if replace is None:
        return path
    argument, raw = replace
    parts = rule.rule.split("/")
    built = path.split("/")
    for i, part in enumerate(parts):
        if part.startswith("<") and part.rstrip(">").split(":")[-1] == argument:
            built[i] = raw
    return "/".join(built)


def roles_for(world: FuzzWorld, rule: Any) -> tuple[str, ...]:
    """Who can reach the view behind a rule."""
    return ACCESS_ROLES[declared_access(world.app, rule.endpoint)]


def timed(world: FuzzWorld, name: str) -> Any:
    """Record a phase's seconds."""
    class Timer:
        def __enter__(self) -> None:
            self.start = time.perf_counter()

        def __exit__(self, *_exc: Any) -> None:
            world.seconds[name] = world.seconds.get(name, 0.0) + time.perf_counter() - self.start

    return Timer()


def assert_clean(world: FuzzWorld) -> None:
    """No 5xx, no exception, no refused request that changed the database."""
    assert not world.failures, f"{len(world.failures)} findings:\n" + "\n".join(str(f) for f in world.failures[:40])


# --- query strings ---------------------------------------------------------------------------------------------

def get_form_args(world: FuzzWorld) -> set[str]:
    """Names of the fields of GET forms on the main pages (search, filters, verify lookup)."""
    names: set[str] = set()
    for role, page in (("anonymous", "/"), ("anonymous", "/verify"), ("manager", "/manage/affiliates"),
                       ("manager", "/manage/courses/demo")):
        html = world.page(role, page)
        for form in forms_on(html, page):
            if form.method == "get":
                names.update(form.names())
    return names


def test_query_strings(world: FuzzWorld) -> None:
    """Every GET route, for each role that may use it: every corpus value in every query parameter at once,
    as an array (the parameter twice), and a raw non-UTF-8 byte. No 5xx."""
    with timed(world, "query strings"):
        names = sorted(set(KNOWN_ARGS) | get_form_args(world))
        values = samples(world)
        for rule in rules(world, "GET"):
            path = build(rule, values)
            for role in roles_for(world, rule):
                for label, raw in CORPUS:
                    world.send(role, "GET", path, query="&".join(f"{n}={raw}" for n in names), label=label)
                world.send(role, "GET", path, query="&".join(f"{n}=1&{n}=2" for n in names), label="arrays")
                world.send(role, "GET", path, environ={"QUERY_STRING": "q=\xff&page=\xff"}, label="raw FF byte")
    assert_clean(world)


# --- path segments ---------------------------------------------------------------------------------------------

def test_path_segments(world: FuzzWorld) -> None:
    """Every argument of every route replaced by every corpus value (POST routes with a valid token and form).
    No 5xx; a path with refused characters is a 404."""
    with timed(world, "path segments"):
        values = samples(world)
        for method in ("GET", "POST"):
            for rule in rules(world, method):
                if method == "POST" and "GET" in rule.methods:
                    continue  # its GET pass covers the path; the form pass covers the POST
                role = roles_for(world, rule)[-1]
                for argument in rule.arguments:
                    for label, raw in CORPUS:
                        path = build(rule, values, (argument, raw))
                        if method == "GET":
                            world.send(role, "GET", path, label=f"{argument}={label}")
                        else:
                            world.post_form(role, path, [("csrf_token", encode(world.tokens[role]))],
                                            label=f"{argument}={label}")
    assert_clean(world)


# --- forms -----------------------------------------------------------------------------------------------------

def crawl_pages(world: FuzzWorld) -> list[tuple[str, str, str]]:
    """(role, page, action suffix to keep or "") of the pages whose POST forms are fuzzed."""
    seed = world.seed
    return [
        *(("anonymous", page, "") for page in ("/", "/verify", "/auth/register", "/auth/login", "/auth/forgot",
                                                f"/auth/reset/{seed['reset_token']}",
                                                f"/auth/confirm/{seed['confirm_token']}")),
        *(("affiliate", page, "") for page in ("/dashboard", "/auth/profile", "/auth/delete", "/courses/demo/welcome",
                                                "/courses/demo/headlines", "/courses/pitch/landing")),
        *(("manager", page, "") for page in ("/manage/content", "/manage/invites", "/manage/affiliates",
                                              "/manage/reviews", f"/manage/reviews/{seed['waiting_submission']}",
                                              f"/manage/affiliates/{seed['target']['id']}")),
        *(("manager", f"/manage/content/scratch{page}", "") for page in (
            "/draft-page/edit", "/draft-page/history", "/move-me/rename", "/remove-me/delete", "/new", "/images")),
        ("manager", "/manage/content/new", ""),
        ("manager", f"/manage/affiliates/{seed['inactive']['id']}", "/reactivate"),
        ("manager", "/courses/demo/welcome", "/complete"),  # the affiliate finished the course: no button left
    ]


def discover(world: FuzzWorld) -> list[tuple[str, FoundForm]]:
    """Every POST form on the crawled pages, per role (each action and field set once)."""
    found: dict[tuple[str, str, tuple[str, ...]], tuple[str, FoundForm]] = {}
    for role, page, keep in crawl_pages(world):
        if page.startswith("/auth/reset/"):  # the mailed link keeps its token in the session, then moves on
            world.clients[role].get(page)
            page = "/auth/reset"
        html = world.page(role, page)
        for form in forms_on(html, page):
            if form.method == "post" and form.action.endswith(keep):
                found.setdefault((role, form.action, tuple(form.names())), (role, form))
    return list(found.values())


def filled(form: FoundForm, role: str, world: FuzzWorld) -> list[tuple[str, str]]:
    """The form's fields with the page's values, empty ones given a sensible default (all encoded).

    Forms that would end the role's access stay one field short of valid: the affiliate's password change
    and account deletion get a wrong current password, the reset and confirmation links a wrong password
    (so the reset token and the pending registration survive the run). The login form gets the affiliate's
    real credentials: an accepted `next` signs the anonymous client in, and `restore` signs it out again.
    """
    values = []
    for name, value in form.fields:
        if not value and name in DEFAULTS:
            value = DEFAULTS[name].format(role=role)
        if form.action == "/auth/login" and name == "email":
            value = world.seed["affiliate"]["email"]
        if name in ("password", "current_password") and (form.action.startswith(("/auth/confirm/", "/auth/delete"))
                                                         or name == "current_password"):
            value = "not the right password"
        if name == "password" and form.action.startswith("/auth/reset"):
            value = NEW_PASSWORD
        values.append((name, encode(value)))
    return values


def variants(fields: list[tuple[str, str]], name: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The form with one field fuzzed: each corpus value; then the field twice and as `name[]`."""
    out = []
    for label, raw in CORPUS:
        out.append((f"{name}={label}", [(n, raw if n == name else v) for n, v in fields]))
    default = next(v for n, v in fields if n == name)
    out.append((f"{name} twice", [*fields, (name, "%00")]))
    out.append((f"{name} twice (emoji)", [(n, v) for n, v in fields if n != name] + [(name, quote("🦊")),
                                                                                      (name, default)]))
    out.append((f"{name}[]", [*fields, (quote(name + "[]"), "x")]))
    return out


def retarget(world: FuzzWorld, form: FoundForm) -> str:
    """A manager action on a person goes to the current throwaway target (a fresh one once deleted)."""
    target = world.seed["target"]
    action = form.action
    for old_id in {str(i) for i in world.seed.get("old_targets", [])}:
        action = action.replace(f"/affiliates/{old_id}/", f"/affiliates/{target['id']}/")
    return action.replace(world.seed.get("first_certificate", target["certificate"]), target["certificate"])


def fresh_target(world: FuzzWorld) -> None:
    """The throwaway was deleted (or deactivated): make another one with a certificate."""
    world.seed.setdefault("old_targets", []).append(world.seed["target"]["id"])
    world.seed["target"] = world.create_person(finished=True, prefix="target")


def test_forms(world: FuzzWorld) -> None:
    """Each field of each POST form (found on the pages of each role) gets every corpus value, the rest of the
    form valid, with the session's CSRF token. No 5xx; refused requests change nothing; every POST route is
    reached."""
    with timed(world, "forms"):
        world.seed["first_certificate"] = world.seed["target"]["certificate"]
        world.seed["old_targets"] = [world.seed["target"]["id"]]
        forms = discover(world)
        reached = set()
        adapter = world.app.url_map.bind("localhost")
        for role, form in forms:
            endpoint, _args = adapter.match(form.action, method="POST")
            reached.add(endpoint)
            for name in form.names():
                for label, fields in variants(filled(form, role, world), name):
                    fields = [(n, encode(world.tokens[role]) if n == "csrf_token" and v == encode(form_token(form))
                               else v) for n, v in fields]
                    action = retarget(world, form) if role == "manager" else form.action
                    status = world.post_form(role, action, fields, label=f"{form.action} {label}")
                    if role == "manager" and status < 400 and endpoint in ("manage.delete_user", "manage.deactivate"):
                        fresh_target(world)
        post_routes = {r.endpoint for r in rules(world, "POST")}
    assert_clean(world)
    assert post_routes <= reached, f"POST routes without a form on the crawled pages: {post_routes - reached}"


def form_token(form: FoundForm) -> str:
    """The CSRF token the page printed into the form."""
    return next((value for name, value in form.fields if name == "csrf_token"), "")


# --- JSON bodies and parameter names ---------------------------------------------------------------------------

def test_json_bodies_and_odd_names(world: FuzzWorld) -> None:
    """Every POST route gets every JSON body (with the CSRF token as header), and a form whose field *name* is
    a corpus value. No 5xx; all refused without a change."""
    with timed(world, "JSON and names"):
        values = samples(world)
        values["user_id"] = str(world.seed["target"]["id"])
        values["cert_id"] = world.seed["target"]["certificate"]
        for rule in rules(world, "POST"):
            role = roles_for(world, rule)[-1]
            path = build(rule, values)
            for label, body in JSON_BODIES:
                world.send(role, "POST", path, body=body, content_type="application/json",
                           headers={"X-CSRFToken": world.tokens[role]}, label=f"json {label}")
            for label, raw in CORPUS[:12]:
                world.post_form(role, path, [("csrf_token", encode(world.tokens[role])), (raw or "%20", "1")],
                                label=f"name {label}")
    assert_clean(world)


# --- what the database saw, and the budget -----------------------------------------------------------------------

def test_no_refused_text_reached_a_statement(world: FuzzWorld) -> None:
    """Over the whole run no SQL statement was sent with NUL, another control character or a lone surrogate."""
    seen = world.seen_parameters  # type: ignore[attr-defined]
    assert seen == [], seen[:10]


def test_budget_and_coverage(world: FuzzWorld) -> None:
    """The run stayed within its request budget and used every role."""
    assert 1000 < world.requests <= BUDGET, world.summary()
    assert set(world.clients) == set(ROLES)
    print(f"\nfuzz corpus: {len(CORPUS)} values + {len(JSON_BODIES)} JSON bodies; {world.summary()}")


@pytest.fixture(autouse=True)
def _fail_fast_on_setup(world: FuzzWorld) -> None:
    """Every test of the module shares the world (and its findings)."""
