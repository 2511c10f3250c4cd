"""Manager views for personal data: export an affiliate's data, delete an account (managers only)."""
from __future__ import annotations

from typing import Any

from flask import current_app, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import manager_required
from ..extensions import db
from ..models import User
from ..routing import attachment
from ..services import privacy
from ..services.management import ActionRefused
from . import bp
from .forms import DeleteUserForm
from .routes import person_action, user_or_404


@bp.get("/affiliates/<dbid:user_id>/export.json")
@manager_required
def export_user_data(user_id: int) -> Any:
    """Download everything kept about one person as JSON (for their access or portability request)."""
    user = user_or_404(user_id)
    body = privacy.export_json(user)
    privacy.record_export(current_user, user)
    db.session.commit()
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Content-Disposition"] = attachment(privacy.export_filename(user))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/affiliates/<dbid:user_id>/delete")
@manager_required
def delete_user(user_id: int) -> Any:
    """Delete one person's account and personal data, with the certificate choice; never one's own."""
    def act(user: User, form: DeleteUserForm) -> tuple[str, str]:
        try:
            privacy.delete_account(user, actor=current_user._get_current_object(),
                                   withdraw_certificates=form.certificates.data == "withdraw", via="manager")
        except privacy.PrivacyError as error:
            raise ActionRefused(error.code) from error
        return _("The account and its personal data have been deleted."), "success"

    return person_action(user_id, DeleteUserForm(), act,
                         unconfirmed=_("Tick the confirmation box to delete the account."),
                         done=lambda _user: redirect(url_for("manage.affiliates"), 303))
