"""Manager views for personal data: export an affiliate's data, delete an account (managers only)."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from .. import audit, privacy
from ..access import manager_required
from ..dbutil import begin_write
from ..extensions import db
from . import bp


class DeleteUserForm(FlaskForm):
    """Delete a person's account: a confirmation box and the choice for their certificates."""

    confirm = BooleanField(_l("Yes, delete this account and its personal data"), validators=[DataRequired()])
    certificates = RadioField(_l("Certificates"), default="keep", validators=[DataRequired()], choices=[
        SelectChoice("keep", _l("Keep them verifiable (the page keeps showing the printed name)")),
        SelectChoice("withdraw", _l("Withdraw them (the page says “withdrawn by the holder”, no name)"))])


REFUSALS = {
    "self": lambda: _("You cannot delete your own account here. Use “Delete my account” on your profile."),
    "last_manager": lambda: _("This is the last active manager. Make someone else a manager first."),
}


def _person_or_404(user_id: int) -> Any:
    """A person by id, or 404."""
    user = privacy.find_person(user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/affiliates/<dbid:user_id>/export.json")
@manager_required
def export_user_data(user_id: int) -> Any:
    """Download everything kept about one person as JSON (for their access or portability request)."""
    user = _person_or_404(user_id)
    body = privacy.export_json(user)
    begin_write()  # a GET that writes: take the write lock first on SQLite
    audit.record(current_user, "personal_data_exported", "user", user.id)
    db.session.commit()
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{privacy.export_filename(user)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/affiliates/<dbid:user_id>/delete")
@manager_required
def delete_user(user_id: int) -> Any:
    """Delete one person's account and personal data, with the certificate choice; never one's own."""
    user = _person_or_404(user_id)
    form = DeleteUserForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors or form.certificates.errors:
            abort(400)
        flash(_("Tick the confirmation box to delete the account."), "warning")
        return redirect(url_for("manage.affiliate", user_id=user.id), 303)
    try:
        privacy.delete_account(user, actor=current_user._get_current_object(),
                               withdraw_certificates=form.certificates.data == "withdraw", via="manager")
    except privacy.PrivacyError as error:
        db.session.rollback()
        flash(REFUSALS[error.code](), "error")
        return redirect(url_for("manage.affiliate", user_id=user_id), 303)
    db.session.commit()
    flash(_("The account and its personal data have been deleted."), "success")
    return redirect(url_for("manage.affiliates"), 303)
