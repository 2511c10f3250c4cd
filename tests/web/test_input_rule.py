"""The input rule: NUL and other C0 controls, line breaks in single-line fields, lone surrogates and invalid
UTF-8 are refused with a clear 400 (a field error in forms, 404 in the path) before any query, on SQLite and
PostgreSQL alike; tab, CRLF in multi-line fields, emoji and RTL text pass."""
from __future__ import annotations

import io
import json

import pytest
from wtforms import StringField, TextAreaField

from coaching.forms import Form
from coaching.inputs import text_problem, urlencoded_problems
from tests.conftest import csrf_token
from tests.dbwatch import fingerprint, refused_parameters
from tests.web.helpers import certificate_id, finish_demo_course


def form_body(fields: dict[str, str], raw: str = "") -> bytes:
    """A urlencoded body from ordinary fields plus one raw (already percent-encoded) pair."""
    from urllib.parse import urlencode

    return "&".join(part for part in (urlencode(fields), raw) if part).encode("ascii")


def post_raw(client, path: str, token_page: str, fields: dict[str, str], raw: str):
    """POST a form whose raw part is sent exactly as given (invalid percent-encoding included)."""
    token = csrf_token(client.get(token_page).get_data(as_text=True))
    return client.post(path, data=form_body({"csrf_token": token, **fields}, raw),
                       content_type="application/x-www-form-urlencoded")


@pytest.fixture
def certified(app, client, logged_in, manager_client):
    """The affiliate finished the demo course: (user id, certificate id)."""
    finish_demo_course(client)
    return logged_in.id, certificate_id(client)


# --- the six requests of issue 16 (500 on PostgreSQL before the rule) ------------------------------------------

def test_register_with_nul_in_the_name_is_a_field_error(app, client):
    """POST /auth/register with name=Reg%00Nul: 400, the name field says why, nothing stored, no query saw it."""
    before = fingerprint(app)
    with refused_parameters(app) as seen:
        response = post_raw(client, "/auth/register", "/auth/register",
                            {"email": "reg@example.com", "password": "a long enough passphrase"}, "name=Reg%00Nul")
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="name-error"' in body and "control characters such as a NUL byte" in body
    assert seen == [] and fingerprint(app) == before


def test_register_with_nul_in_the_email_runs_no_query_with_it(app, client, affiliate):
    """The email field refuses a NUL before any validator or query sees it (on PostgreSQL: a DataError before)."""
    before = fingerprint(app)
    with refused_parameters(app) as seen:
        response = post_raw(client, "/auth/register", "/auth/register",
                            {"name": "Reg", "password": "a long enough passphrase"}, "email=aff%00@example.com")
    assert response.status_code == 400 and 'id="email-error"' in response.get_data(as_text=True)
    assert seen == [] and fingerprint(app) == before


def test_profile_name_with_nul_is_a_field_error(app, client, logged_in):
    """POST /auth/profile with a NUL in the name: 400 with the field error; the name stays as it was."""
    before = fingerprint(app)
    with refused_parameters(app) as seen:
        response = post_raw(client, "/auth/profile", "/auth/profile", {"language": ""}, "name=Alex%00Affiliate")
    assert response.status_code == 400 and 'id="name-error"' in response.get_data(as_text=True)
    assert seen == [] and fingerprint(app) == before


@pytest.mark.parametrize("path", ["/manage/affiliates?q=a%00b", "/manage/courses/demo?q=a%00b"])
def test_manager_search_with_nul_is_400(app, manager_client, path):
    """The manager's searches refuse a NUL in `q` with a 400 page that names the parameter."""
    with refused_parameters(app) as seen:
        response = manager_client.get(path)
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "“q” contains characters that are not allowed" in body
    assert seen == []


def test_revoke_reason_with_nul_is_400(app, manager_client, certified):
    """A NUL in the revocation reason: 400 that names the field, the certificate stays valid, no audit row."""
    user_id, cert_id = certified
    before = fingerprint(app)
    with refused_parameters(app) as seen:
        response = post_raw(manager_client, f"/manage/affiliates/{user_id}/certificates/{cert_id}/revoke",
                            f"/manage/affiliates/{user_id}", {}, "reason=fraud%00")
    assert response.status_code == 400 and "“Reason” contains characters" in response.get_data(as_text=True)
    assert seen == [] and fingerprint(app) == before
    assert manager_client.get(f"/verify/{cert_id}/status.json").json["status"] == "valid"


def test_malformed_email_runs_no_query(app, client, affiliate):
    """Validators that query run only after the format checks pass: a malformed email on registration and on
    forgot-password reaches no table."""
    from sqlalchemy import event

    from coaching.extensions import db

    seen = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        for path in ("/auth/register", "/auth/forgot"):
            response = post_raw(client, path, path, {"name": "N", "password": "a long enough passphrase"},
                                "email=not-an-email")
            assert response.status_code == 400
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert not [s for s in seen if "users" in s or "registrations" in s or "mail_outbox" in s], seen


# --- each kind of refused text, in each place -------------------------------------------------------------------

@pytest.mark.parametrize("raw, reason", [
    ("%00", "NUL"), ("%01", "NUL"), ("%1B", "NUL"), ("%0B", "NUL"), ("%0A", "line breaks"), ("%0D", "line breaks"),
    ("%FF", "not valid UTF-8"), ("%C3", "not valid UTF-8"), ("%E2%82", "not valid UTF-8"),
    ("%ED%A0%80", "not valid UTF-8"),  # a surrogate code point encoded in UTF-8 (CESU): not UTF-8
])
def test_query_string_refusals(app, client, raw, reason):
    """Control characters, line breaks and invalid UTF-8 in a query value: 400 saying what is wrong."""
    with refused_parameters(app) as seen:
        response = client.get(f"/search?q=a{raw}b")
    assert response.status_code == 400 and reason in response.get_data(as_text=True)
    assert seen == []


def test_raw_non_utf8_byte_in_the_query_string_is_400_not_500(client):
    """A raw 0xFF byte in QUERY_STRING made Werkzeug raise UnicodeDecodeError (a 500); now it is a 400 page."""
    response = client.get("/search", environ_overrides={"QUERY_STRING": "q=\xff"})
    assert response.status_code == 400 and "not valid UTF-8" in response.get_data(as_text=True)


def test_refused_parameter_names_too(client):
    """A refused character in a parameter's name is refused like one in its value."""
    assert client.get("/search?a%00b=1").status_code == 400
    assert client.get("/search?%FF=1").status_code == 400


@pytest.mark.parametrize("value", ["Ada\tLovelace", "Zoë 🦊 Müller", "\u202eevil\u202c", "'; DROP TABLE users; --",
                                   "١٢٣ ١٢", "x" * 10_000, "%zz", "100%"])
def test_acceptable_text_passes(app, client, value):
    """Tab, emoji, RTL marks, SQL-looking text, Unicode digits, long text and stray percent signs are text."""
    with refused_parameters(app) as seen:
        response = client.get("/search", query_string={"q": value})
    assert response.status_code == 200 and seen == []


@pytest.mark.parametrize("path", ["/verify/%00", "/verify/A%00B", "/courses/de%00mo", "/courses/%FF",
                                  "/courses/demo/%0Aheadlines", "/verify/%ED%A0%80"])
def test_refused_path_segments_are_404(app, client, logged_in, path):
    """A path with control characters or invalid UTF-8 names nothing here: 404, never 500, no query with it."""
    with refused_parameters(app) as seen:
        assert client.get(path).status_code == 404
    assert seen == []


def test_line_break_in_a_single_line_field_is_a_field_error(app, client, logged_in):
    """A newline in the name (a one-line field) is a field error, not a silent strip."""
    response = post_raw(client, "/auth/profile", "/auth/profile", {"language": ""}, "name=Alex%0D%0AAffiliate")
    assert response.status_code == 400 and "line breaks" in response.get_data(as_text=True)


def test_undeclared_form_field_with_nul_is_400(app, client, logged_in):
    """A refused value in a field no form declares (a quiz answer, an extra field) stops the request: 400."""
    page = client.get("/courses/demo/headlines").get_data(as_text=True)
    before = fingerprint(app)
    from tests.web.helpers import QuizFormParser

    parser = QuizFormParser()
    parser.feed(page)
    text_question = next(q for q, kind in parser.kinds.items() if kind == "text")
    response = client.post("/courses/demo/headlines/quiz", data=form_body(parser.hidden, f"{text_question}=a%00b"),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and f"“{text_question}” contains" in response.get_data(as_text=True)
    assert fingerprint(app) == before


def test_extra_field_with_a_line_break_is_400(client, affiliate):
    """Fields no form declares are single-line: a line break there is refused too."""
    response = post_raw(client, "/auth/login", "/auth/login",
                        {"email": "aff@example.com", "password": "correct horse battery"}, "is_admin=1%0A")
    assert response.status_code == 400


def test_password_with_nul_is_a_field_error(app, client, affiliate):
    """Passwords follow the rule as well (the login form says so at the field)."""
    response = post_raw(client, "/auth/login", "/auth/login", {"email": "aff@example.com"}, "password=abc%00defgh")
    assert response.status_code == 400 and 'id="password-error"' in response.get_data(as_text=True)


@pytest.mark.parametrize("document, status", [
    ('{"name": "\\u0000"}', 400), ('{"name": "\\ud800"}', 400), ('{"\\ud83d": 1}', 400),
    ('{"name": [1, {"deep": "a\\u001bb"}]}', 400), ("{not json", 400), ("[" * 5000 + "]" * 5000, 400),
])
def test_json_bodies(app, client, document, status):
    """NUL, lone surrogates (also in keys, also nested), malformed and absurdly nested JSON: 400, not 500."""
    response = client.post("/auth/login", data=document, content_type="application/json",
                           headers={"Accept": "application/json"})
    assert response.status_code == status
    assert response.json["status"] == 400


def test_json_body_with_invalid_utf8_is_400(client):
    """JSON bytes that are not UTF-8: 400."""
    response = client.post("/auth/login", data=b'{"a": "\xff"}', content_type="application/json")
    assert response.status_code == 400 and "not valid UTF-8" in response.get_data(as_text=True)


def test_multipart_text_part_with_nul_is_a_field_error_and_files_are_left_alone(app, client, affiliate):
    """Text parts of a multipart body follow the rule; a file part full of NUL bytes is not text and passes."""
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    bad = client.post("/auth/login", content_type="multipart/form-data",
                      data={"csrf_token": token, "email": "aff\x00@example.com", "password": "correct horse battery"})
    assert bad.status_code == 400 and 'id="email-error"' in bad.get_data(as_text=True)
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    good = client.post("/auth/login", content_type="multipart/form-data",
                       data={"csrf_token": token, "email": "aff@example.com", "password": "correct horse battery",
                             "attachment": (io.BytesIO(b"\x00\xff\x00 binary"), "x.bin")})
    assert good.status_code == 302


def test_multipart_text_part_with_invalid_utf8_is_refused(client, affiliate):
    """Werkzeug turns invalid UTF-8 in a text part into U+FFFD: such a value counts as invalid UTF-8."""
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    boundary = "xYzZY"
    parts = [("csrf_token", token.encode()), ("email", b"aff\xff@example.com"), ("password", b"correct horse battery")]
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
                    for name, value in parts) + f"--{boundary}--\r\n".encode()
    response = client.post("/auth/login", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400 and "not valid UTF-8" in response.get_data(as_text=True)


def test_field_error_in_german(app, client):
    """The field error speaks the reader's language."""
    response = post_raw(client, "/auth/register", "/auth/register",
                        {"email": "reg@example.com", "password": "a long enough passphrase"}, "name=Reg%00Nul")
    assert response.status_code == 400
    german = client.post("/auth/register", headers={"Accept-Language": "de"},
                         data=form_body({"csrf_token": csrf_token(client.get(
                             "/auth/register", headers={"Accept-Language": "de"}).get_data(as_text=True)),
                             "email": "reg@example.com", "password": "a long enough passphrase"}, "name=Reg%00Nul"),
                         content_type="application/x-www-form-urlencoded")
    assert german.status_code == 400 and "nicht erlaubte Zeichen" in german.get_data(as_text=True)


# --- the pieces -------------------------------------------------------------------------------------------------

class _NoteForm(Form):
    """A form with a one-line and a multi-line field (the app's forms have no text area yet)."""

    title = StringField()
    note = TextAreaField()


def test_multiline_fields_keep_line_breaks_as_lf(app):
    """A text area accepts CRLF and stores LF; the one-line field refuses the same text; tab is fine in both."""
    from werkzeug.datastructures import MultiDict

    with app.test_request_context(method="POST"):
        form = _NoteForm(formdata=MultiDict({"title": "a\tb", "note": "line one\r\nline two\rthree\tend"}),
                         meta={"csrf": False})
        assert form.validate()
        assert form.note.data == "line one\nline two\nthree\tend"
        form = _NoteForm(formdata=MultiDict({"title": "a\r\nb", "note": "x\x00"}), meta={"csrf": False})
        assert not form.validate()
        assert set(form.refused_fields) == {"title", "note"}


def test_every_form_of_the_app_follows_the_rule():
    """Each form class in coaching derives from coaching.forms.Form (so its fields get the rule)."""
    from flask_wtf import FlaskForm

    import coaching.auth.forms
    import coaching.learn.forms
    import coaching.manage.forms
    import coaching.site.forms  # noqa: F401

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [cls for cls in subclasses(FlaskForm) if cls.__module__.startswith("coaching.")]
    assert ours and all(issubclass(cls, Form) for cls in ours), [c for c in ours if not issubclass(c, Form)]


@pytest.mark.parametrize("value, multiline, problem", [
    ("plain", False, None), ("tab\there", False, None), ("a\nb", True, None), ("a\r\nb", True, None),
    ("a\nb", False, "newline"), ("a\x00b", True, "control"), ("\x7f", False, None), ("\x1f", True, "control"),
    ("\ud800", True, "surrogate"), ("🦊", False, None), ("\u202e", False, None),
])
def test_text_problem(value, multiline, problem):
    """The rule itself, character by character."""
    assert text_problem(value, multiline=multiline) == problem


def test_urlencoded_problems_reads_raw_bytes():
    """Percent escapes are decoded strictly: invalid UTF-8 and control characters are named with their field."""
    found = list(urlencoded_problems(b"a=1&b=%FF&c=x%00&d=%zz&e=line%0Abreak&%00=1&f=ok+%C3%A4"))
    assert found == [("b", "encoding"), ("c", "control"), ("e", "newline"), (None, "control")]


def test_json_error_for_json_clients(client):
    """A JSON client gets the refusal as JSON, with the message."""
    response = client.get("/search?q=%00", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.json["status"] == 400 and "NUL" in response.json["message"]
    assert json.dumps(response.json)  # serialisable, no stray bytes
