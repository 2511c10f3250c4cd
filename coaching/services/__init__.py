"""The service layer: every business rule and every query of the app, one module per job.

Views parse a request, call a function here, and render; CLI commands do the same. Functions take explicit
arguments, add and flush; the caller (a view or a command) commits. Nothing here imports a blueprint.

    catalog        the current content catalog and who may see which course
    progress       lesson completion, course status, reading activity
    quizzes        quiz answers, attempts (exactly once), attempts left, grants
    standing       the result that counts for a quiz and attempts left (used by quizzes and certificates)
    certificates   issuing exactly once with frozen facts, status, revocation, status lists, evidence,
                   checking an uploaded certificate, credentials and PDFs
    coaching       assignment submissions and reviews (the state machine)
    coaches        who coaches whom, which review mails each manager wants
    review_queue   the waiting submissions and the overview's review figures
    assignment_views  what lesson, review and dashboard pages show of assignments
    evidence       approved work frozen on a certificate as evidence, the holder's consent
    review_mail    coaching mail: new submissions, reviews, resets, the managers' daily digest
    credentials    the credential, JWT, PDF and status list of a certificate row, signed with the site's keys
    links          public URLs of certificates (verification page, evidence, status list)
    verification   checking a certificate someone hands us (uploaded PDF or JWT)
    accounts       users, passwords, sessions, resets, invites, profiles
    signup         registration by confirmation link, forgotten passwords (same work for every address)
    management     manager actions on people, certificates, invites and content (with the audit log)
    privacy        personal-data export, account deletion, retention
    audit          the audit log
    reports/      read-only figures and lists of the manager area (one module per report)
    mail           outgoing mail
    throttle       failed-login and mail limits (shared through Redis when configured)
    pages          operator-edited pages (privacy notice, imprint)
    health         the health check
    db             database helpers that behave the same on SQLite and PostgreSQL
    authoring      browser authoring: open, check, save a file as a revision or a draft
    authoring_files  new lessons, translations, courses; rename, delete, pictures
    authoring_history  a file's history, diffs, restoring a revision
    publishing     published revisions in the database, written to every server's content folder
    content_sync   `flask content sync`: files changed outside the editor become revisions
"""
