"""`flask content sync`, run on one server: files changed in its content folder outside the editor (a `git pull`,
an edit on the server) become revisions, checked like a browser save (published, or a draft when they have
errors or when the browser changed the same file meanwhile); files removed there become deletions; then, where
the folder is in a git work tree, every published revision not yet in git is committed with its author.

Commits are made with git's plumbing on a private index, so the served folder never shows an older version.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..content.images import ImageRefused, inspect_image
from ..content.scaffold import parse_name
from ..extensions import db
from ..models import ContentRevision, User
from . import authoring, authoring_files, publishing

SYNC_MESSAGE = "changed in the content folder"


@dataclass
class SyncReport:
    """What a sync did, line by line for the command's output."""

    published: list[str] = field(default_factory=list)
    drafts: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    moved_rows: int = 0


def ref_of(path: str) -> authoring.FileRef:
    """The FileRef of a content path (`course/NN-slug.de.md`, `course/course.md`)."""
    course_slug, name = path.split("/", 1)
    _order, slug, lang = parse_name(name)
    return authoring.FileRef(course_slug, slug, lang, name, True)


def folder_paths(root: Path) -> dict[str, Path]:
    """Every file of the folder the editor could have written, by content path."""
    found: dict[str, Path] = {}
    for course in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        candidates = list(course.iterdir()) + (list((course / "images").iterdir())
                                               if (course / "images").is_dir() else [])
        for file in candidates:
            relative = file.relative_to(root).as_posix()
            if file.is_file() and not file.is_symlink() and publishing.SAFE_PATH.match(relative):
                found[relative] = file
    return found


def sync(root: Path, *, actor: User | None = None, use_git: bool = True) -> SyncReport:
    """Import what changed in the folder, bring the folder up to date, commit to git. Commits the database."""
    report = SyncReport()
    with publishing.folder_lock(root):
        marker = publishing.read_marker(root)
        conn = db.session.connection()
        publishing.apply_pending(root, conn, marker, publishing.latest_published_id(conn))
        for path, file in folder_paths(root).items():
            _import_if_changed(root, path, file, marker, actor, report)
        for path, entry in list(marker.paths.items()):
            if entry[1] is not None and not (root / path).exists():
                _removed(root, path, entry, marker, actor, report)
        db.session.commit()
        publishing.write_marker(root, marker)
    for alias in authoring_files.all_aliases():
        report.moved_rows += authoring_files.move_slug_rows(alias.course_slug, alias.old_slug, alias.new_slug)
    db.session.commit()
    if use_git:
        report.commits = commit_to_git(root)
        db.session.commit()
    return report


def _import_if_changed(root: Path, path: str, file: Path, marker: publishing.Marker, actor: User | None,
                       report: SyncReport) -> None:
    """Turn one file changed outside the editor into a revision."""
    data = file.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    entry = marker.paths.get(path)
    doc = authoring.document(path)
    if entry is not None and sha == entry[1]:
        return
    if entry is None and doc is not None and sha in publishing.known_hashes(db.session.connection(), path):
        return
    # The browser moved on since this folder's version (or we cannot tell): keep theirs, import this as a draft.
    crossed = doc is not None and not doc.deleted and (entry is None or doc.head_id != entry[0])
    if path.split("/")[1] == "images":
        _import_image(path, data, doc, marker, actor, report)
        return
    try:
        text = authoring.clean_text(data.decode("utf-8"))
    except (UnicodeDecodeError, authoring.AuthoringError):
        report.skipped.append(f"{path}: not valid UTF-8 text (or empty, or with control characters): left as it is")
        return
    ref = ref_of(path)
    result = authoring.check(ref, text)
    publish = result.errors == 0 and not crossed
    row = authoring.add_revision(path, ref.course_slug, text=text, action="sync", published=publish, author=actor,
                                 message=SYNC_MESSAGE, base_id=doc.head_id if doc else None, sha=sha,
                                 problems=authoring.problem_rows(result))
    authoring.advance(path, ref.course_slug, doc.head_id if doc else 0, row)
    if publish:
        marker.note(path, row.id, sha)
        report.published.append(path)
        return
    why = "also changed in the browser: compare and merge in the editor" if crossed else \
        f"{result.errors} errors: fix them in the editor"
    report.drafts.append(f"{path}: kept as a draft ({why})")
    _back_to_published(root, path, file, doc, marker)


def _back_to_published(root: Path, path: str, file: Path, doc: Any, marker: publishing.Marker) -> None:
    """Drafts never stay in a folder: archive the changed file and put the published version back."""
    publishing.archive(root, file)
    published = authoring.revision(doc.published_id) if doc is not None else None
    if published is not None and not published.deleted:
        content = publishing.content_of(published)
        publishing.atomic_write(file, content or b"")
        marker.note(path, published.id, published.sha256)
    else:
        marker.paths.pop(path, None)


def _import_image(path: str, data: bytes, doc: Any, marker: publishing.Marker, actor: User | None,
                  report: SyncReport) -> None:
    """A picture added or replaced in the folder."""
    try:
        inspect_image(data)
    except ImageRefused as refusal:
        report.skipped.append(f"{path}: not imported ({refusal.code}): left as it is")
        return
    course_slug = path.split("/", 1)[0]
    row = authoring.add_revision(path, course_slug, data=data, action="sync", published=True, author=actor,
                                 kind="image", message=SYNC_MESSAGE)
    authoring.advance(path, course_slug, doc.head_id if doc else 0, row)
    marker.note(path, row.id, row.sha256)
    report.published.append(path)


def _removed(root: Path, path: str, entry: list, marker: publishing.Marker, actor: User | None,
             report: SyncReport) -> None:
    """A file this folder held was removed outside the editor: a deletion, unless the browser changed it since."""
    doc = authoring.document(path)
    if doc is None or doc.deleted:
        marker.note(path, entry[0], None)
        return
    if doc.head_id != entry[0]:
        head = authoring.revision(doc.published_id)
        if head is not None and not head.deleted:
            publishing.atomic_write(root / path, publishing.content_of(head) or b"")
            marker.note(path, head.id, head.sha256)
        report.skipped.append(f"{path}: removed from the folder but changed in the browser since: put back")
        return
    row = authoring.add_revision(path, path.split("/", 1)[0], action="sync", published=True, deleted=True,
                                 author=actor, message="removed from the content folder")
    authoring.advance(path, path.split("/", 1)[0], doc.head_id, row)
    marker.note(path, row.id, None)
    report.deleted.append(path)


def _git(root: Path, *args: str, env: dict | None = None, data: bytes | None = None) -> str:
    """Run git in the content folder; its output without the trailing newline."""
    done = subprocess.run(["git", *args], cwd=root, env={**os.environ, **(env or {})}, input=data,
                          capture_output=True, check=True, timeout=120)
    return done.stdout.decode("utf-8", "replace").strip()


def commit_to_git(root: Path) -> list[str]:
    """Commit each published revision not yet in git (oldest first) with its author; returns 'sha path' lines.

    Nothing happens when git is missing or the folder is not in a work tree."""
    if shutil.which("git") is None:
        return []
    try:
        top = Path(_git(root, "rev-parse", "--show-toplevel")).resolve()
    except (subprocess.CalledProcessError, OSError):
        return []
    pending = list(db.session.scalars(select(ContentRevision).where(
        ContentRevision.published.is_(True), ContentRevision.git_commit.is_(None)).order_by(ContentRevision.id)))
    if not pending:
        return []
    prefix = root.resolve().relative_to(top)
    _exclude_own_files(root, prefix)
    try:
        head = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    except subprocess.CalledProcessError:
        head = ""
    start, lines, touched = head, [], []
    committer = _committer(root)
    with tempfile.TemporaryDirectory() as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index"), **committer}
        _git(root, "read-tree", *([head] if head else ["--empty"]), env=env)
        for rev in pending:
            git_path = (prefix / rev.path).as_posix()
            touched.append(git_path)
            if rev.deleted:
                _git(root, "update-index", "--force-remove", "--", git_path, env=env)
            else:
                blob = _git(root, "hash-object", "-w", "--stdin", data=publishing.content_of(rev) or b"")
                _git(root, "update-index", "--add", "--cacheinfo", f"100644,{blob},{git_path}", env=env)
            tree = _git(root, "write-tree", env=env)
            if head and tree == _git(root, "rev-parse", f"{head}^{{tree}}"):
                rev.git_commit = head  # already in git (e.g. pulled)
                continue
            head = _git(root, "commit-tree", tree, *(["-p", head] if head else []), "-m", _message(rev),
                        env={**env, **_author(rev)})
            rev.git_commit = head
            lines.append(f"{head[:10]} {rev.path} (#{rev.id})")
    if head != start:
        _git(root, "update-ref", "HEAD", head, *([start] if start else []))
        _git(top, "reset", "-q", "--", *touched)  # the index follows HEAD; the folder already holds these files
    return lines


def _exclude_own_files(root: Path, prefix: Path) -> None:
    """Keep the folder's marker, lock and archive out of `git status` (in the work tree's own, uncommitted
    .git/info/exclude)."""
    exclude = Path(_git(root, "rev-parse", "--path-format=absolute", "--git-path", "info/exclude"))
    base = "" if str(prefix) == "." else f"/{prefix.as_posix()}"
    wanted = [f"{base}/{name}" for name in (publishing.MARKER_NAME, publishing.LOCK_NAME, publishing.ARCHIVE_DIR + "/")]
    present = exclude.read_text(encoding="utf-8").splitlines() if exclude.exists() else []
    missing = [line for line in wanted if line not in present]
    if missing:
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with exclude.open("a", encoding="utf-8") as handle:
            handle.write("".join(f"{line}\n" for line in ["# coaching: the content folder's own files", *missing]))


def _message(rev: ContentRevision) -> str:
    """The commit message of a revision."""
    return f"{rev.path}: {rev.message or rev.action}\n\nContent revision #{rev.id} ({rev.action})."


def _author(rev: ContentRevision) -> dict[str, str]:
    """The git author of a revision: the manager, or the folder itself for imported changes."""
    stamp = f"{int(rev.created_at.timestamp())} +0000"
    if rev.author is not None:
        return {"GIT_AUTHOR_NAME": rev.author.name, "GIT_AUTHOR_EMAIL": rev.author.email, "GIT_AUTHOR_DATE": stamp}
    return {"GIT_AUTHOR_NAME": "Content folder", "GIT_AUTHOR_EMAIL": "content@localhost", "GIT_AUTHOR_DATE": stamp}


def _committer(root: Path) -> dict[str, str]:
    """git's committer from its configuration, or a stand-in when none is configured."""
    try:
        _git(root, "config", "user.email")
        return {}
    except subprocess.CalledProcessError:
        return {"GIT_COMMITTER_NAME": "coaching", "GIT_COMMITTER_EMAIL": "coaching@localhost"}
