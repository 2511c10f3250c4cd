"""The service layer: every business rule and every query of the app, one module per job.

Views parse a request, call a function here, and render; CLI commands do the same. Functions take explicit
arguments, add and flush; the caller (a view or a command) commits. Nothing here imports a blueprint.

    catalog        the current content catalog and who may see which course
    progress       lesson completion, course status, reading activity
    quizzes        quiz answers, attempts (exactly once), attempts left, grants
    standing       the result that counts for a quiz and attempts left (used by quizzes and certificates)
    certificates   issuing exactly once with frozen facts, status, revocation, status lists, evidence,
                   checking an uploaded certificate, credentials and PDFs
    coaching       assignment submissions and reviews (the state machine), coaches, the review queue, evidence
    review_mail    coaching mail: new submissions, reviews, resets, the managers' daily digest
    accounts       users, passwords, sessions, resets, invites, profiles
    management     manager actions on people, certificates, invites and content (with the audit log)
    privacy        personal-data export, account deletion, retention
    audit          the audit log
    reports/      read-only figures and lists of the manager area (one module per report)
    mail           outgoing mail
    throttle       failed-login limits
    pages          operator-edited pages (privacy notice, imprint)
    health         the health check
    db             database helpers that behave the same on SQLite and PostgreSQL
"""
