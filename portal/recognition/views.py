"""Recognition views: load, check access, validate, call one service, commit once."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from portal import policy
from portal.actions import attach_to, run_action
from portal.extensions import db, limiter
from portal.forms import ConfirmForm, choices
from portal.jobs import enqueue
from portal.models import Ward
from portal.policy import admin_required, manager_required, ward_manager_required, ward_member_required
from portal.recognition import bp, charts, services
from portal.recognition.forms import (
    AnnounceForm,
    CommitteeForm,
    CycleForm,
    ModerationForm,
    NominationForm,
    PublicFeedbackForm,
    RecognitionForm,
    RecoveryCloseForm,
    ServiceValueForm,
    SurveyMappingForm,
    SurveyUploadForm,
    score_form,
)
from portal.recognition.models import (
    CommitteeMember,
    FeedbackStatus,
    Nomination,
    NominationCycle,
    PatientFeedback,
    Recognition,
    ServiceValue,
    SurveyImport,
)
from portal.recognition.scoring import Experience
from portal.recognition.tasks import run_survey_import
from portal.timeutil import local_today


def _get_or_404(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _local_path(target: str | None, fallback: str) -> str:
    """Only redirect back to a path on this site."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return fallback


def _uploads() -> Path:
    return Path(current_app.instance_path) / "uploads"


def _picker_choices(groups: list[services.StaffGroup]):
    return choices([(person.id, person.name) for group in groups for person in group.people])


def _feed_context(pagination):
    org = services.organisation()
    return {
        "pagination": pagination,
        "reactions": services.reaction_counts(pagination.items, current_user),
        "value_labels": services.value_labels(org),
        "sender_label": services.sender_label,
        "my_wards": db.session.scalars(select(Ward).where(Ward.id.in_(
            current_user.member_ward_ids | current_user.managed_ward_ids)).order_by(Ward.name)).all(),
    }


# --- feeds -------------------------------------------------------------------------------------

@bp.route("/")
@login_required
def feed():
    page = request.args.get("page", 1, type=int)
    pagination = services.feed_page(current_user, page)
    return render_template("recognition/feed.html", ward=None, **_feed_context(pagination))


@bp.route("/wards/<int:ward_id>")
@ward_member_required
def ward_feed(ward: Ward):
    page = request.args.get("page", 1, type=int)
    pagination = services.feed_page(current_user, page, ward_id=ward.id)
    return render_template("recognition/feed.html", ward=ward, **_feed_context(pagination))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def give():
    org = services.organisation()
    form = RecognitionForm()
    own = current_user.staff.id if current_user.staff is not None else None
    groups = services.staff_picker_groups(org, exclude_staff_id=own,
                                          first_ward_ids=sorted(current_user.member_ward_ids))
    form.staff_ids.choices = _picker_choices(groups)
    form.values.choices = choices([(v.key, v.name) for v in services.service_values(org)])
    if request.method == "GET" and request.args.get("staff", type=int):
        form.staff_ids.data = [request.args.get("staff", type=int)]
    if form.validate_on_submit():
        sent = run_action(lambda: services.give_recognition(current_user, form.staff_ids.data, form.message.data,
                                                            form.values.data, form.visibility.data),
                          errors=services.RecognitionError, success="Thank you. Your recognition has been sent.",
                          on_error=attach_to(form.message))
        if sent.committed:
            return redirect(url_for("recognition.feed"))
    return render_template("recognition/give.html", form=form, value_options=services.service_values(org),
                           staff_groups=groups)


@bp.route("/<int:recognition_id>/react", methods=["POST"])
@login_required
def react(recognition_id: int):
    recognition = _get_or_404(Recognition, recognition_id)
    if not policy.can_see_recognition(current_user, recognition):
        abort(403)
    back = _local_path(request.form.get("next"), url_for("recognition.feed"))
    if ConfirmForm().validate_on_submit():
        run_action(lambda: services.toggle_reaction(current_user, recognition, request.form.get("kind", "")),
                   errors=services.RecognitionError)
    return redirect(f"{back}#recognition-{recognition.id}")


@bp.route("/mine")
@login_required
def received():
    if current_user.staff is None:
        return render_template("recognition/received.html", items=[], staff=None, since=None)
    since = None
    if request.args.get("since"):
        try:
            since = date.fromisoformat(request.args["since"])
        except ValueError:
            flash("That date was not understood; showing everything.", "error")
    items = services.received_recognitions(current_user.staff, since)
    return render_template("recognition/received.html", items=items, staff=current_user.staff, since=since,
                           value_labels=services.value_labels(services.organisation()),
                           sender_label=services.sender_label)


@bp.route("/wards/<int:ward_id>/digest")
@ward_manager_required
def digest(ward: Ward):
    try:
        week = date.fromisoformat(request.args.get("week", "")) if request.args.get("week") else local_today()
    except ValueError:
        week = local_today()
    summary = services.weekly_digest(ward, week)
    return render_template("recognition/digest.html", digest=summary, sender_label=services.sender_label,
                           previous_week=summary.week_start - timedelta(days=7),
                           next_week=summary.week_start + timedelta(days=7))


# --- the public patient form ---------------------------------------------------------------

def _public_ward(ward_code: str) -> Ward:
    ward = services.ward_by_code(ward_code)
    if ward is None:
        abort(404)
    return ward


@limiter.limit("10 per minute;60 per hour", methods=["POST"])
def public_feedback(ward_code: str):
    ward = _public_ward(ward_code)
    form = PublicFeedbackForm()
    org = services.organisation()
    cycle = services.open_cycle_on(org, local_today())
    if form.validate_on_submit():
        if form.website.data:
            # A bot filled in the hidden box: look successful, keep nothing.
            return redirect(url_for("recognition.public_thanks", ward_code=ward.code))
        submitted = run_action(
            lambda: services.submit_public_feedback(
                ward,
                experience=Experience(int(form.experience.data)) if form.experience.data else None,
                recommend=int(form.recommend.data) if form.recommend.data else None,
                thanks=form.thanks.data or "", comment=form.comment.data or "",
                wants_contact=form.wants_contact.data, contact=form.contact.data or "",
                wants_nomination=bool(cycle) and form.nominate.data,
            ),
            errors=services.RecognitionError, on_error=attach_to(form.comment))
        if submitted.committed:
            return redirect(url_for("recognition.public_thanks", ward_code=ward.code))
    return render_template("recognition/public_form.html", ward=ward, form=form, cycle=cycle)


def public_thanks(ward_code: str):
    ward = _public_ward(ward_code)
    return render_template("recognition/public_thanks.html", ward=ward)


PUBLIC_ROUTES = (
    ("/f/<ward_code>", "public_feedback", public_feedback, ["GET", "POST"]),
    ("/f/<ward_code>/thanks", "public_thanks", public_thanks, ["GET"]),
)


def _public_url(ward: Ward) -> str:
    base = current_app.config.get("BASE_URL")
    path = url_for("recognition.public_feedback", ward_code=ward.code)
    return base.rstrip("/") + path if base else url_for("recognition.public_feedback", ward_code=ward.code,
                                                         _external=True)


@bp.route("/wards/<int:ward_id>/poster")
@ward_manager_required
def poster(ward: Ward):
    address = _public_url(ward)
    return render_template("recognition/poster.html", ward=ward, address=address,
                           qr_svg=Markup(charts.qr_svg(address)))


# --- moderation and service recovery --------------------------------------------------------

@bp.route("/feedback")
@manager_required
def moderation():
    pagination = services.moderation_page(current_user, request.args.get("page", 1, type=int))
    names = services.staff_by_ids(i for f in pagination.items for i in (f.named_staff_ids or []))
    if current_user.is_admin:
        wards = db.session.scalars(select(Ward).where(Ward.is_active).order_by(Ward.name)).all()
    else:
        wards = db.session.scalars(select(Ward).where(Ward.id.in_(current_user.managed_ward_ids))
                                   .order_by(Ward.name)).all()
    return render_template("recognition/moderation.html", pagination=pagination, queue=pagination.items,
                           names=names, wards=wards)


def _moderatable(feedback_id: int) -> PatientFeedback:
    feedback = _get_or_404(PatientFeedback, feedback_id)
    if not policy.can_moderate_feedback(current_user, feedback):
        abort(403)
    return feedback


@bp.route("/feedback/<int:feedback_id>", methods=["GET", "POST"])
@login_required
def moderate_feedback(feedback_id: int):
    feedback = _moderatable(feedback_id)
    org = services.organisation()
    form = ModerationForm()
    groups = services.staff_picker_groups(org, first_ward_ids=[feedback.ward_id])
    form.staff_ids.choices = _picker_choices(groups)
    if request.method == "GET":
        form.staff_ids.data = list(feedback.named_staff_ids or [])
    if form.validate_on_submit():
        moderated = run_action(lambda: _moderate(feedback, form), errors=services.RecognitionError,
                               success=lambda message: message, on_error=attach_to(form.staff_ids))
        if moderated.committed:
            if form.reassign.data:
                return redirect(url_for("recognition.moderate_feedback", feedback_id=feedback.id))
            return redirect(url_for("recognition.moderation"))
    candidates = services.staff_by_ids(c for a in (feedback.ambiguous or []) for c in a.get("candidates", []))
    listed = {person.id for group in groups for person in group.people}
    named = services.staff_by_ids(feedback.named_staff_ids or [])
    return render_template("recognition/moderate.html", feedback=feedback, form=form, candidates=candidates,
                           staff_groups=groups,
                           not_listed=[named[i].full_name for i in feedback.named_staff_ids or []
                                       if i not in listed and i in named],
                           experience_label=_experience_label(feedback.experience))


def _moderate(feedback: PatientFeedback, form: ModerationForm) -> str:
    """Do what the moderator's button asks; return the confirmation to show."""
    if form.approve.data:
        services.approve_feedback(current_user, feedback, form.staff_ids.data or [])
        return "Approved. It is now in their recognition feed."
    if form.reassign.data:
        services.reassign_feedback(current_user, feedback, form.staff_ids.data or [])
        return "Names saved. The comment is still waiting for approval."
    if form.recovery.data:
        services.send_to_recovery(current_user, feedback)
        return "Moved to the ward's service-recovery list."
    if form.reject.data:
        services.reject_feedback(current_user, feedback, form.note.data or "")
        return "Rejected. Nobody else will see it."
    raise services.RecognitionError("Choose what to do with this feedback.")


def _experience_label(code: int | None) -> str:
    if code is None:
        return "Not answered"
    try:
        return Experience(code).label
    except ValueError:
        return "Not answered"


@bp.route("/feedback/<int:feedback_id>/original")
@login_required
def original_feedback(feedback_id: int):
    feedback = _get_or_404(PatientFeedback, feedback_id)
    if not policy.can_view_original_feedback(current_user, feedback):
        abort(403)
    original = services.view_original(current_user, feedback)
    db.session.commit()  # the audit record of this view
    return render_template("recognition/original.html", feedback=feedback, original=original)


@bp.route("/wards/<int:ward_id>/recovery")
@ward_manager_required
def recovery(ward: Ward):
    show_closed = request.args.get("show") == "closed"
    items = services.recovery_list(ward, closed=show_closed)
    return render_template("recognition/recovery.html", ward=ward, items=items, show_closed=show_closed,
                           experience_label=_experience_label)


@bp.route("/feedback/<int:feedback_id>/recovery", methods=["GET", "POST"])
@login_required
def recovery_item(feedback_id: int):
    feedback = _moderatable(feedback_id)
    if feedback.status != FeedbackStatus.RECOVERY:
        abort(404)
    form = RecoveryCloseForm()
    if form.validate_on_submit():
        closed = run_action(lambda: services.close_recovery(current_user, feedback, form.note.data),
                            errors=services.RecognitionError, success="Closed. The note is kept with the feedback.",
                            on_error=attach_to(form.note))
        if closed.committed:
            return redirect(url_for("recognition.recovery", ward_id=feedback.ward_id))
    return render_template("recognition/recovery_item.html", feedback=feedback, form=form,
                           experience_label=_experience_label(feedback.experience))


# --- KPIs ----------------------------------------------------------------------------------

@bp.route("/kpis")
@manager_required
def kpis():
    if current_user.is_admin:
        wards = db.session.scalars(select(Ward).where(Ward.is_active).order_by(Ward.name)).all()
    else:
        wards = db.session.scalars(select(Ward).where(Ward.id.in_(current_user.managed_ward_ids))
                                   .order_by(Ward.name)).all()
    if not wards:
        abort(404)
    ward = next((w for w in wards if w.id == request.args.get("ward", type=int)), wards[0])
    rows = services.ward_kpis(ward, months=6)
    today = local_today()
    this_quarter = services.quarter_start(today)
    equity = [services.recognition_equity(ward, services.add_months(this_quarter, -3)),
              services.recognition_equity(ward, this_quarter)]
    return render_template("recognition/kpis.html", ward=ward, wards=wards, rows=rows, equity=equity,
                           score_chart=Markup(charts.scores_chart(rows, ward.name)),
                           recognition_chart=Markup(charts.recognitions_chart(rows, ward.name)),
                           threshold=services.SUPPRESSION_THRESHOLD)


# --- survey import -------------------------------------------------------------------------

@bp.route("/import", methods=["GET", "POST"])
@admin_required
def import_survey():
    form = SurveyUploadForm()
    org = services.organisation()
    if form.validate_on_submit():
        started = run_action(
            lambda: services.start_import(current_user, form.source.data, form.file.data.filename or "",
                                          form.file.data.read(), form.encoding.data, _uploads()),
            errors=services.RecognitionError, on_error=attach_to(form.file))
        if started.committed:
            run, _header = started.value
            return redirect(url_for("recognition.map_import", import_id=run.id))
    recent = db.session.scalars(select(SurveyImport).order_by(SurveyImport.created_at.desc()).limit(10)).all()
    return render_template("recognition/import.html", form=form, sources=services.survey_sources(org), recent=recent)


@bp.route("/import/<int:import_id>/columns", methods=["GET", "POST"])
@admin_required
def map_import(import_id: int):
    run = _get_or_404(SurveyImport, import_id)
    if run.status not in ("uploaded", "failed"):
        return redirect(url_for("recognition.import_status", import_id=run.id))
    path = services.upload_path(_uploads(), run.upload_token)
    if not path.exists():
        flash("The uploaded file is no longer on the server. Upload it again.", "error")
        return redirect(url_for("recognition.import_survey"))
    try:
        header = services.read_header(path.read_bytes(), run.encoding)
    except services.SurveyFileError as exc:
        flash(f"This file cannot be read: {exc}.", "error")
        return redirect(url_for("recognition.import_survey"))
    form = SurveyMappingForm()
    form.set_columns(header)
    if request.method == "GET":
        for name, value in services.mapping_suggestion(run, header).items():
            if name in form and value:
                form[name].data = value
    if form.validate_on_submit():
        columns = {name: form[name].data or None for name in
                   ("date", "ward", "experience", "recommend", "comment", "response_id")}
        columns["experience_codes"] = form.experience_codes.data
        queued = run_action(lambda: services.queue_import(current_user, run, columns),
                            errors=services.RecognitionError, on_error=attach_to(form.date))
        if queued.committed:
            # import_id rather than run.id: touching the session after the commit opens a new transaction
            enqueue(run_survey_import, import_id)
            return redirect(url_for("recognition.import_status", import_id=import_id))
    return render_template("recognition/import_columns.html", run=run, form=form, header=header)


@bp.route("/import/<int:import_id>")
@admin_required
def import_status(import_id: int):
    run = _get_or_404(SurveyImport, import_id)
    db.session.refresh(run)
    return render_template("recognition/import_status.html", run=run)


# --- settings: values and the award committee ------------------------------------------------

@bp.route("/values", methods=["GET", "POST"])
@admin_required
def values():
    org = services.organisation()
    form = ServiceValueForm()
    if form.validate_on_submit():
        added = run_action(lambda: services.add_service_value(current_user, org, form.name.data,
                                                              form.description.data or ""),
                           errors=services.RecognitionError, success=f"Value “{form.name.data}” added.",
                           on_error=attach_to(form.name))
        if added.committed:
            return redirect(url_for("recognition.values"))
    rows = services.configured_values(org)
    db.session.commit()  # the defaults become editable rows the first time this page is opened
    return render_template("recognition/values.html", form=form, rows=rows)


@bp.route("/values/<int:value_id>/toggle", methods=["POST"])
@admin_required
def toggle_value(value_id: int):
    value = _get_or_404(ServiceValue, value_id)
    if ConfirmForm().validate_on_submit():
        run_action(lambda: services.set_service_value_active(current_user, value, not value.is_active),
                   errors=services.RecognitionError,
                   success=lambda _: f"“{value.name}” {'restored' if value.is_active else 'retired'}.")
    return redirect(url_for("recognition.values"))


@bp.route("/committee", methods=["GET", "POST"])
@admin_required
def committee():
    org = services.organisation()
    form = CommitteeForm()
    if form.validate_on_submit():
        added = run_action(lambda: services.add_committee_member(current_user, form.email.data),
                           errors=services.RecognitionError, on_error=attach_to(form.email),
                           success=lambda member: f"{member.user.display_name} is now on the award committee.")
        if added.committed:
            return redirect(url_for("recognition.committee"))
    return render_template("recognition/committee.html", form=form, members=services.committee_members(org))


@bp.route("/committee/<int:member_id>/remove", methods=["POST"])
@admin_required
def remove_committee_member(member_id: int):
    member = _get_or_404(CommitteeMember, member_id)
    if ConfirmForm().validate_on_submit():
        services.remove_committee_member(current_user, member)
        db.session.commit()
        flash("Removed from the committee.", "success")
    return redirect(url_for("recognition.committee"))


# --- awards ----------------------------------------------------------------------------------

@bp.route("/awards")
@login_required
def awards():
    org = services.organisation()
    return render_template("recognition/awards.html", cycles=services.cycles(org), today=local_today(),
                           is_committee=policy.is_award_committee_member(current_user))


@bp.route("/awards/new", methods=["GET", "POST"])
@admin_required
def new_cycle():
    form = CycleForm()
    if request.method == "GET":
        form.opens_on.data = local_today()
        form.closes_on.data = local_today() + timedelta(days=28)
    if form.validate_on_submit():
        created = run_action(
            lambda: services.create_cycle(current_user, form.title.data, form.criteria.data.splitlines(),
                                          form.opens_on.data, form.closes_on.data),
            errors=services.RecognitionError, on_error=attach_to(form.criteria),
            success=lambda cycle: f"Nominations for {cycle.title} are open.")
        if created.committed:
            return redirect(url_for("recognition.awards"))
    return render_template("recognition/cycle_new.html", form=form)


@bp.route("/awards/<int:cycle_id>/nominate", methods=["GET", "POST"])
@login_required
def nominate(cycle_id: int):
    cycle = _get_or_404(NominationCycle, cycle_id)
    org = services.organisation()
    form = NominationForm()
    own = current_user.staff.id if current_user.staff is not None else None
    form.staff_id.choices = choices([(0, "Choose a colleague")] + services.staff_choices(org, exclude_staff_id=own))
    if form.validate_on_submit():
        sent = run_action(lambda: services.nominate(current_user, cycle, form.staff_id.data, form.reason.data),
                          errors=services.RecognitionError, on_error=attach_to(form.reason),
                          success="Thank you. Your nomination has gone to the committee.")
        if sent.committed:
            return redirect(url_for("recognition.awards"))
    return render_template("recognition/nominate.html", cycle=cycle, form=form, is_open=cycle.is_open_on(local_today()))


def _committee_only() -> None:
    if not policy.can_score_nominations(current_user):
        abort(403)


@bp.route("/awards/<int:cycle_id>/score")
@login_required
def score_cycle(cycle_id: int):
    _committee_only()
    cycle = _get_or_404(NominationCycle, cycle_id)
    forms = {}
    mine = {}
    for nomination in cycle.nominations:
        form = score_form(cycle.criteria, prefix=f"n{nomination.id}")
        existing = next((s for s in nomination.scores if s.scorer_id == current_user.id), None)
        if existing is not None:
            for index, value in enumerate(existing.scores):
                form[f"criterion_{index}"].data = str(value)
            mine[nomination.id] = existing.total
        forms[nomination.id] = form
    return render_template("recognition/score.html", cycle=cycle, forms=forms, mine=mine)


@bp.route("/awards/nominations/<int:nomination_id>/score", methods=["POST"])
@login_required
def score_nomination(nomination_id: int):
    _committee_only()
    nomination = _get_or_404(Nomination, nomination_id)
    cycle = nomination.cycle
    form = score_form(cycle.criteria, prefix=f"n{nomination.id}", formdata=request.form)
    if form.validate_on_submit():
        scores = [int(form[f"criterion_{i}"].data) for i in range(len(cycle.criteria))]
        run_action(lambda: services.score_nomination(current_user, nomination, scores),
                   errors=services.RecognitionError, success="Scores saved.")
    else:
        flash("Give every criterion a score from 1 to 5, then save.", "error")
    return redirect(url_for("recognition.score_cycle", cycle_id=cycle.id) + f"#nomination-{nomination.id}")


@bp.route("/awards/<int:cycle_id>/manage")
@admin_required
def manage_cycle(cycle_id: int):
    cycle = _get_or_404(NominationCycle, cycle_id)
    ranked = services.ranked_nominations(cycle)
    form = AnnounceForm()
    form.nomination_id.choices = choices([(n.id, f"{n.nominee.full_name} (average {avg:.1f})" if avg is not None
                                           else f"{n.nominee.full_name} (not scored)") for n, avg, _ in ranked])
    return render_template("recognition/cycle_manage.html", cycle=cycle, ranked=ranked, form=form,
                           confirm=ConfirmForm())


@bp.route("/awards/<int:cycle_id>/close", methods=["POST"])
@admin_required
def close_cycle(cycle_id: int):
    cycle = _get_or_404(NominationCycle, cycle_id)
    if ConfirmForm().validate_on_submit():
        run_action(lambda: services.close_nominations(current_user, cycle), errors=services.RecognitionError,
                   success="Nominations closed. The committee can now score them.")
    return redirect(url_for("recognition.manage_cycle", cycle_id=cycle.id))


@bp.route("/awards/<int:cycle_id>/announce", methods=["POST"])
@admin_required
def announce(cycle_id: int):
    cycle = _get_or_404(NominationCycle, cycle_id)
    form = AnnounceForm()
    form.nomination_id.choices = choices([(n.id, n.nominee.full_name) for n in cycle.nominations])
    if form.validate_on_submit():
        nomination = _get_or_404(Nomination, form.nomination_id.data)
        announced = run_action(
            lambda: services.announce_winner(current_user, cycle, nomination), errors=services.RecognitionError,
            success=lambda _: f"{nomination.nominee.full_name} is announced as the winner in the feed.")
        if announced.committed:
            return redirect(url_for("recognition.feed"))
    else:
        flash("Choose the winner from the list.", "error")
    return redirect(url_for("recognition.manage_cycle", cycle_id=cycle.id))

