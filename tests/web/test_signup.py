"""Nobody learns from us who has an account: registration and forgotten passwords answer the same (page, words,
status), do the same work (one password hash, one mail queued) for a known and an unknown email; an open
registration becomes an account only through the link mailed to the address, with the password chosen then."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from coaching.extensions import db
from coaching.models import Registration, User, utcnow
from coaching.services import accounts, signup
from tests.conftest import Auth, csrf_token
from tests.mailbox import last_mail, link_in, mails

PASSWORD = "a long enough passphrase"


def page_text(response, *emails: str) -> str:
    """The visible page without the parts that legitimately differ (the address typed, tokens)."""
    html = response.get_data(as_text=True)
    for address in emails:
        html = html.replace(address, "EMAIL")
    return re.sub(r'name="csrf_token"[^>]*>', "", html)


def count_users(app) -> int:
    """How many accounts exist."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


@pytest.fixture
def hashes(monkeypatch):
    """Count the password hashes registration computes."""
    calls = []
    real = signup.hash_password

    def counting(password: str) -> str:
        calls.append(password)
        return real(password)

    monkeypatch.setattr(signup, "hash_password", counting)
    return calls


# --- registration ---------------------------------------------------------------------------------------------

def test_registration_answers_the_same_for_known_and_unknown_emails(app, client, affiliate, hashes):
    """Same status, same redirect, same page and words; one hash and one mail on each path."""
    known = Auth(app.test_client())
    unknown = Auth(app.test_client())
    answer_known = known.register(email="aff@example.com", password=PASSWORD)
    answer_unknown = unknown.register(email="fresh@example.com", password=PASSWORD)
    assert answer_known.status_code == answer_unknown.status_code == 303
    assert answer_known.headers["Location"] == answer_unknown.headers["Location"] == "/auth/register/check-mail"
    page_known = known.client.get("/auth/register/check-mail")
    page_unknown = unknown.client.get("/auth/register/check-mail")
    assert page_known.status_code == page_unknown.status_code == 200
    assert page_text(page_known, "aff@example.com") == page_text(page_unknown, "fresh@example.com")
    assert "Check your inbox" in page_known.get_data(as_text=True)
    assert len(hashes) == 2  # the password is hashed on both paths (same cost)
    assert [(m.to, m.subject) for m in mails(app)] == [("aff@example.com", "You already have an account"),
                                                        ("fresh@example.com", "Confirm your email address")]
    assert count_users(app) == 1  # nothing created yet


def test_known_address_gets_a_working_reset_link_and_keeps_its_password(app, client, affiliate):
    """The mail to a known address lets its owner back in; the registration changed nothing on the account."""
    Auth(app.test_client()).register(name="Intruder", email="aff@example.com", password="intruder passphrase")
    mail = last_mail(app, to="aff@example.com")
    assert "/auth/login" in mail.body and mail.user_id == affiliate.id
    path = link_in(mail, "/auth/reset/")
    assert client.get(path, follow_redirects=True).status_code == 200  # the token moves into the session
    assert Auth(app.test_client()).login().status_code == 302  # the old password still works
    assert Auth(app.test_client()).login(password="intruder passphrase").status_code == 400


def test_registration_form_errors_do_not_depend_on_the_email(app, affiliate):
    """A refused password reads the same for a known and an unknown email (no "already exists" anywhere)."""
    known = Auth(app.test_client()).register(name="N", email="aff@example.com", password="short")
    unknown = Auth(app.test_client()).register(name="N", email="fresh@example.com", password="short")
    assert known.status_code == unknown.status_code == 400
    assert page_text(known, "aff@example.com") == page_text(unknown, "fresh@example.com")
    assert "already" not in known.get_data(as_text=True)
    assert mails(app) == []


def test_confirmation_link_creates_the_account_with_the_chosen_password(app, client, auth):
    """The link asks for the password of that registration, then creates the account and signs in; it is single-use."""
    auth.register(name="Nora New", email="nora@example.com", password=PASSWORD)
    path = link_in(last_mail(app, to="nora@example.com"), "/auth/confirm/")
    page = client.get(path)
    assert page.status_code == 200 and "nora@example.com" in page.get_data(as_text=True)
    wrong = auth.post(path, {"password": "not the password at all"})
    assert wrong.status_code == 400 and "not the password chosen with this link" in wrong.get_data(as_text=True)
    assert count_users(app) == 0
    right = auth.post(path, {"password": PASSWORD})
    assert right.status_code == 303 and "confirmed" in client.get("/").get_data(as_text=True)
    assert client.get("/dashboard").status_code == 200
    with app.app_context():
        user = accounts.find_user_by_email("nora@example.com")
        assert (user.name, user.role, user.active) == ("Nora New", "affiliate", True)
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
    assert app.test_client().get(path).status_code == 404


def test_someone_registering_your_address_never_gets_the_account(app):
    """An attacker's registration of a victim's address: the victim's own link (with the victim's password)
    makes the account; the attacker's link cannot be used with the victim's password, nor the attacker's
    password with the victim's link."""
    Auth(app.test_client()).register(name="Mallory", email="victim@example.com", password="mallory passphrase")
    attacker_link = link_in(last_mail(app, to="victim@example.com"), "/auth/confirm/")
    victim = Auth(app.test_client())
    victim.register(name="Victor Victim", email="victim@example.com", password=PASSWORD)
    victim_link = link_in(last_mail(app, to="victim@example.com"), "/auth/confirm/")
    assert victim.post(attacker_link, {"password": PASSWORD}).status_code == 400
    assert Auth(app.test_client()).post(victim_link, {"password": "mallory passphrase"}).status_code == 400
    assert victim.post(victim_link, {"password": PASSWORD}).status_code == 303
    assert Auth(app.test_client()).login("victim@example.com", "mallory passphrase").status_code == 400
    assert Auth(app.test_client()).login("victim@example.com", PASSWORD).status_code == 302
    assert app.test_client().get(attacker_link).status_code == 404  # the other registration went with it
    with app.app_context():
        assert accounts.find_user_by_email("victim@example.com").name == "Victor Victim"


def test_expired_confirmation_link_is_refused_and_purged(app, auth):
    """After 24 hours the link is dead; the next registration removes the stale row."""
    auth.register(email="late@example.com")
    path = link_in(last_mail(app, to="late@example.com"), "/auth/confirm/")
    with app.app_context():
        db.session.execute(update(Registration).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert app.test_client().get(path).status_code == 404
    assert auth.post(path, {"password": PASSWORD}).status_code == 404
    Auth(app.test_client()).register(email="next@example.com")
    with app.app_context():
        assert db.session.scalars(select(Registration.email)).all() == ["next@example.com"]


def test_confirming_after_the_address_got_an_account_signs_in_nothing(app, auth, make_user):
    """If the address got an account in the meantime, the link says so (its holder owns the mailbox)."""
    auth.register(email="twice@example.com")
    path = link_in(last_mail(app, to="twice@example.com"), "/auth/confirm/")
    make_user(email="twice@example.com")
    response = auth.post(path, {"password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/auth/login"
    assert count_users(app) == 1


def test_known_but_deactivated_address_is_told_so(app, make_user):
    """A deactivated account's owner learns the account exists but is deactivated; no reset link."""
    make_user(email="off@example.com", active=False)
    assert Auth(app.test_client()).register(email="off@example.com").status_code == 303
    mail = last_mail(app, to="off@example.com")
    assert "deactivated" in mail.body and "/auth/reset/" not in mail.body


def test_invite_bound_to_the_email_skips_confirmation(app_factory):
    """An invite bound to an address proves it: the account exists at once and the person is signed in."""
    app = app_factory(REGISTRATION="invite")
    with app.app_context():
        _invite, token = accounts.create_invite(created_by=None, email="bound@example.com")
        db.session.commit()
    client = app.test_client()
    page = client.get(f"/auth/register?invite={token}").get_data(as_text=True)
    assert "We will send you a link" not in page
    response = client.post("/auth/register", data={"csrf_token": csrf_token(page), "name": "Bo Bound",
                                                    "email": "bound@example.com", "password": PASSWORD,
                                                    "invite": token})
    assert response.status_code == 302 and client.get("/dashboard").status_code == 200
    assert mails(app) == []


def test_open_invite_is_claimed_when_the_link_is_used(app_factory):
    """An invite without an address still needs the mailed link; the invite is used up at confirmation."""
    app = app_factory(REGISTRATION="invite")
    with app.app_context():
        invite, token = accounts.create_invite(created_by=None)
        db.session.commit()
        invite_id = invite.id
    client = app.test_client()
    auth = Auth(client)
    page = client.get(f"/auth/register?invite={token}").get_data(as_text=True)
    assert "We will send you a link" in page
    response = client.post("/auth/register", data={"csrf_token": csrf_token(page), "name": "Olga Open",
                                                    "email": "olga@example.com", "password": PASSWORD,
                                                    "invite": token})
    assert response.status_code == 303
    with app.app_context():
        assert accounts.find_invite(invite_id).used_at is None
    assert auth.confirm("olga@example.com").status_code == 303
    with app.app_context():
        invite = accounts.find_invite(invite_id)
        assert invite.used_at is not None and invite.used_by_id == accounts.find_user_by_email("olga@example.com").id


def test_open_invite_used_meanwhile_refuses_the_confirmation(app_factory):
    """Two registrations on one open invite: the second confirmation finds the invite used and creates nothing."""
    app = app_factory(REGISTRATION="invite")
    with app.app_context():
        _invite, token = accounts.create_invite(created_by=None)
        db.session.commit()
    people = []
    for email in ("one@example.com", "two@example.com"):
        client = app.test_client()
        page = client.get(f"/auth/register?invite={token}").get_data(as_text=True)
        client.post("/auth/register", data={"csrf_token": csrf_token(page), "name": "P", "email": email,
                                            "password": PASSWORD, "invite": token})
        people.append((Auth(client), email))
    assert people[0][0].confirm(people[0][1]).status_code == 303
    assert people[1][0].confirm(people[1][1]).status_code == 404
    assert count_users(app) == 1


def test_confirmation_mail_in_the_language_of_the_page(app):
    """An address without an account gets its mail in the language of the page it registered from."""
    client = app.test_client()
    page = client.get("/auth/register", headers={"Accept-Language": "de"}).get_data(as_text=True)
    client.post("/auth/register", headers={"Accept-Language": "de"},
                data={"csrf_token": csrf_token(page), "name": "Jörg", "email": "joerg@example.com",
                      "password": PASSWORD})
    mail = last_mail(app, to="joerg@example.com")
    assert mail.subject == "Bestätigen Sie Ihre E-Mail-Adresse" and "Guten Tag Jörg" in mail.body


def test_known_address_mail_in_the_account_language(app, make_user):
    """A known address with a German account gets the German mail, whatever the language of the request."""
    make_user(email="de@example.com", language="de")
    Auth(app.test_client()).register(email="de@example.com")
    assert last_mail(app, to="de@example.com").subject == "Sie haben bereits ein Konto"


def test_demo_accounts_can_sign_in_at_once(app_factory):
    """`flask users demo` creates confirmed accounts: their printed passwords sign in without any mail."""
    app = app_factory(DEMO_ACCOUNTS=True)
    output = app.test_cli_runner().invoke(args=["users", "demo"]).output
    for email, password in re.findall(r"(\S+@example\.com)\s+password: (\S+)", output):
        assert Auth(app.test_client()).login(email, password).status_code == 302
    assert mails(app) == []


# --- forgotten password ---------------------------------------------------------------------------------------

def test_forgot_password_answers_and_works_the_same(app, affiliate):
    """Known and unknown address: same status, redirect and message; one mail queued each, only one with a link."""
    known = Auth(app.test_client())
    unknown = Auth(app.test_client())
    a = known.post("/auth/forgot", {"email": "aff@example.com"}, follow_redirects=True)
    b = unknown.post("/auth/forgot", {"email": "nobody@example.com"}, follow_redirects=True)
    assert a.status_code == b.status_code == 200
    assert page_text(a) == page_text(b) and "We have sent a message to this address" in page_text(a)
    [to_known] = mails(app, to="aff@example.com")
    [to_unknown] = mails(app, to="nobody@example.com")
    assert to_known.subject == to_unknown.subject == "Reset your password"
    assert "/auth/reset/" in to_known.body and "/auth/reset/" not in to_unknown.body
    assert "no account with this address" in to_unknown.body and "/auth/register" in to_unknown.body


def test_forgot_password_for_unknown_address_in_invite_mode(app_factory):
    """With REGISTRATION=invite the mail to an unknown address points to the manager, not to registration."""
    app = app_factory(REGISTRATION="invite")
    Auth(app.test_client()).post("/auth/forgot", {"email": "nobody@example.com"})
    body = last_mail(app, to="nobody@example.com").body
    assert "invitation" in body and "/auth/register" not in body


def test_forgot_password_request_sends_nothing_inside_the_request(app_factory):
    """The request only queues: with the SMTP backend and no server, the request still answers at once."""
    app = app_factory(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=9, MAIL_USE_TLS=False)
    with app.app_context():
        accounts.create_user(email="aff@example.com", name="A", password=PASSWORD)
        db.session.commit()
    response = Auth(app.test_client()).post("/auth/forgot", {"email": "aff@example.com"})
    assert response.status_code == 302 and last_mail(app).status == "pending"


# --- limits on mails to one address ---------------------------------------------------------------------------

def test_mails_to_one_address_are_limited_whether_or_not_it_has_an_account(app_factory, make_user):
    """ACCOUNT_MAILS_PER_HOUR per address counts registrations and reset requests alike: 429 after it, for known
    and unknown addresses the same (so the limit tells nothing either)."""
    app = app_factory(ACCOUNT_MAILS_PER_HOUR=2)
    with app.app_context():
        accounts.create_user(email="aff@example.com", name="A", password=PASSWORD)
        db.session.commit()
    for address in ("aff@example.com", "nobody@example.com"):
        auth = Auth(app.test_client())
        assert auth.post("/auth/forgot", {"email": address}).status_code == 302
        assert auth.register(email=address).status_code == 303
        assert auth.post("/auth/forgot", {"email": address}).status_code == 429
        assert auth.register(email=address).status_code == 429
        assert len(mails(app, to=address)) == 2


def test_mails_from_one_ip_are_limited(app_factory):
    """ACCOUNT_MAILS_PER_IP_PER_HOUR: one address cannot mail the world."""
    app = app_factory(ACCOUNT_MAILS_PER_IP_PER_HOUR=3)
    auth = Auth(app.test_client())
    statuses = [auth.post("/auth/forgot", {"email": f"n{i}@example.com"}).status_code for i in range(4)]
    assert statuses == [302, 302, 302, 429] and len(mails(app)) == 3


# --- the same work, statement for statement --------------------------------------------------------------------

def statements_of(app, send) -> list[str]:
    """The SQL statements (text only) a request sent."""
    from sqlalchemy import event

    seen: list[str] = []

    def before(_conn, _cursor, statement, _parameters, _context, _many):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        send()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return seen


@pytest.mark.parametrize("path, form", [
    ("/auth/forgot", {}),
    ("/auth/register", {"name": "Same Work", "password": PASSWORD}),
])
def test_requests_send_the_same_statements_for_known_and_unknown_emails(app, affiliate, path, form):
    """The request never looks the address up: a known and an unknown email cause the very same SQL statements
    (the worker decides later what the mail says)."""
    known, unknown = Auth(app.test_client()), Auth(app.test_client())
    tokens = {id(a): a.token(path) for a in (known, unknown)}
    runs = {}
    for auth, email in ((known, "aff@example.com"), (unknown, "nobody@example.com")):
        runs[email] = statements_of(app, lambda a=auth, e=email: a.client.post(
            path, data={"csrf_token": tokens[id(a)], "email": e, **form}))
    assert runs["aff@example.com"] == runs["nobody@example.com"]
    assert not any("FROM users" in statement for statement in runs["aff@example.com"])
