"""coaching.credentials is a library beside the services: PDF drawing, signing, Open Badges payloads, ids. It knows
nothing of Flask, the database or the rest of the app (the services hand it plain values)."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "coaching" / "credentials"
FORBIDDEN = ("flask", "flask_login", "flask_sqlalchemy", "flask_wtf", "flask_babel", "sqlalchemy", "werkzeug")


def test_credentials_package_imports_nothing_of_the_app() -> None:
    """No Flask or SQLAlchemy, and inside the project only coaching.credentials itself."""
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: must stay inside the package
                    assert node.level == 1, (path.name, node.module)
                    continue
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, (path.name, name)
                assert not name.startswith("coaching.") or name.startswith("coaching.credentials"), (path.name, name)
