"""Recognition services: they take plain arguments, change rows, audit and flush; views commit.

The pure pieces (name matching, redaction, scoring, CSV parsing) live in matching.py,
redaction.py, scoring.py and survey_import.py; this module is the only place that joins them
to the database.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import Organisation, StaffMember, User, Ward, WardMembership, utcnow
from portal.recognition.matching import MatchResult, NameMatcher, StaffName
from portal.recognition.models import (
    CommitteeMember,
    CycleStatus,
    FeedbackStatus,
    Nomination,
    NominationCycle,
    NominationScore,
    PatientFeedback,
    Reaction,
    ReactionKind,
    Recognition,
    RecognitionKind,
    RecognitionRecipient,
    ServiceValue,
    SurveyImport,
    SurveySource,
    Visibility,
)
from portal.recognition.redaction import classify, redact
from portal.recognition.scoring import (
    SUPPRESSION_THRESHOLD,
    Experience,
    is_negative,
    summarise,
)
from portal.recognition.survey_import import (
    ColumnMapping,
    SurveyFileError,
    parse_survey,
    read_header,
    suggest_mapping,
)
from portal.scheduling.models import Roster, RosterAssignment, RosterKind, RosterPeriod
from portal.services import notify, record_audit
from portal.timeutil import hospital_zone, local_today

MESSAGE_MAX = 2000
FEED_PAGE_SIZE = 20
MODERATION_PAGE_SIZE = 50


class RecognitionError(Exception):
    """A refusal with a message fit to show the person using the page."""


@dataclass(frozen=True)
class ValueOption:
    key: str
    name: str
    description: str = ""


# Our own words; administrators may add, rename or retire values per organisation.
DEFAULT_VALUES: tuple[ValueOption, ...] = (
    ValueOption("patient-first", "Patient first", "Put the person in the bed at the centre of every decision."),
    ValueOption("clear-communication", "Clear communication", "Explained things so that people understood."),
    ValueOption("compassion", "Compassion", "Noticed distress and did something kind about it."),
    ValueOption("warm-welcome", "A warm welcome", "Made a patient, visitor or new colleague feel at home."),
    ValueOption("teamwork", "Teamwork", "Stepped in, shared the load, had a colleague's back."),
    ValueOption("extra-mile", "Going the extra mile", "Did more than the job asked, for someone else's sake."),
)

REACTION_LABELS: dict[str, str] = {
    ReactionKind.THANKS.value: "Thank you",
    ReactionKind.CELEBRATE.value: "Celebrate",
    ReactionKind.INSPIRING.value: "Inspiring",
}


def organisation() -> Organisation:
    org = db.session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
    if org is None:
        raise RecognitionError("No organisation exists yet. Run 'portal init' or 'portal demo'.")
    return org


# --- service values -----------------------------------------------------------------------

def service_values(org: Organisation, *, active_only: bool = True) -> list[ValueOption]:
    """The organisation's values, or the defaults until an administrator configures them."""
    rows = list(db.session.scalars(
        select(ServiceValue).where(ServiceValue.organisation_id == org.id).order_by(ServiceValue.position, ServiceValue.id)
    ))
    if not rows:
        return list(DEFAULT_VALUES)
    return [ValueOption(r.key, r.name, r.description) for r in rows if r.is_active or not active_only]


def value_labels(org: Organisation) -> dict[str, str]:
    labels = {v.key: v.name for v in DEFAULT_VALUES}
    labels.update({v.key: v.name for v in service_values(org, active_only=False)})
    return labels


def configured_values(org: Organisation) -> list[ServiceValue]:
    """Rows for the settings page; the defaults become rows the first time they are asked for."""
    rows = list(db.session.scalars(
        select(ServiceValue).where(ServiceValue.organisation_id == org.id).order_by(ServiceValue.position, ServiceValue.id)
    ))
    if rows:
        return rows
    for position, value in enumerate(DEFAULT_VALUES):
        db.session.add(ServiceValue(organisation_id=org.id, key=value.key, name=value.name,
                                    description=value.description, position=position))
    db.session.flush()
    return configured_values(org)


def _slug(name: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    while "--" in slug:
        slug = slug.replace("--", "-")
    return slug[:40] or "value"


def add_service_value(actor: User, org: Organisation, name: str, description: str = "") -> ServiceValue:
    rows = configured_values(org)
    name = name.strip()
    if any(r.name.lower() == name.lower() for r in rows):
        raise RecognitionError(f"There is already a value called {name}.")
    key = _slug(name)
    keys = {r.key for r in rows}
    base, n = key, 2
    while key in keys:
        key = f"{base[:36]}-{n}"
        n += 1
    value = ServiceValue(organisation_id=org.id, key=key, name=name, description=description.strip(),
                         position=len(rows))
    db.session.add(value)
    db.session.flush()
    record_audit(actor, "recognition.value_added", value, name=name)
    return value


def set_service_value_active(actor: User, value: ServiceValue, active: bool) -> None:
    if not active:
        others = db.session.scalar(select(func.count(ServiceValue.id)).where(
            ServiceValue.organisation_id == value.organisation_id, ServiceValue.is_active, ServiceValue.id != value.id))
        if not others:
            raise RecognitionError("Keep at least one value in use.")
    value.is_active = active
    db.session.flush()
    record_audit(actor, "recognition.value_restored" if active else "recognition.value_retired", value)


# --- staff helpers ------------------------------------------------------------------------

def current_ward_id(staff: StaffMember | None, day: date | None = None) -> int | None:
    if staff is None:
        return None
    day = day or local_today()
    current = sorted((m for m in staff.memberships if m.is_current(day)), key=lambda m: m.start_date)
    return current[-1].ward_id if current else None


def staff_choices(org: Organisation, *, exclude_staff_id: int | None = None) -> list[tuple[int, str]]:
    """Active staff with their current ward, for pick lists."""
    today = local_today()
    rows = db.session.execute(
        select(StaffMember.id, StaffMember.full_name, StaffMember.known_as, Ward.code)
        .join(WardMembership, WardMembership.staff_id == StaffMember.id)
        .join(Ward, Ward.id == WardMembership.ward_id)
        .where(StaffMember.organisation_id == org.id, StaffMember.is_active,
               WardMembership.start_date <= today,
               or_(WardMembership.end_date.is_(None), WardMembership.end_date >= today))
        .order_by(StaffMember.full_name)
    )
    seen: dict[int, str] = {}
    for staff_id, full_name, known_as, code in rows:
        if staff_id == exclude_staff_id or staff_id in seen:
            continue
        name = f"{full_name} ({known_as})" if known_as else full_name
        seen[staff_id] = f"{name} – {code}"
    return list(seen.items())


@dataclass(frozen=True)
class StaffOption:
    id: int
    name: str
    search: str  # lower-case, accents removed: names and ward, for the picker's search box


@dataclass(frozen=True)
class StaffGroup:
    ward_id: int
    ward_name: str
    people: tuple[StaffOption, ...]


def _search_text(*parts: str) -> str:
    text = unicodedata.normalize("NFKD", " ".join(p for p in parts if p).casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


def staff_picker_groups(org: Organisation, *, exclude_staff_id: int | None = None,
                        first_ward_ids: Iterable[int] = ()) -> list[StaffGroup]:
    """Active staff grouped by their current ward (the latest-starting membership), for the picker.

    Wards in ``first_ward_ids`` come first, in that order; then the others by name.
    """
    today = local_today()
    rows = db.session.execute(
        select(StaffMember.id, StaffMember.full_name, StaffMember.known_as, Ward.id, Ward.name, Ward.code,
               WardMembership.start_date)
        .join(WardMembership, WardMembership.staff_id == StaffMember.id)
        .join(Ward, Ward.id == WardMembership.ward_id)
        .where(StaffMember.organisation_id == org.id, StaffMember.is_active,
               WardMembership.start_date <= today,
               or_(WardMembership.end_date.is_(None), WardMembership.end_date >= today))
    )
    home: dict[int, tuple[Any, ...]] = {}
    for row in rows:
        if row[0] != exclude_staff_id and (row[0] not in home or row[6] > home[row[0]][6]):
            home[row[0]] = tuple(row)
    wards: dict[int, tuple[str, list[StaffOption]]] = {}
    for staff_id, full_name, known_as, ward_id, ward_name, ward_code, _ in home.values():
        name = f"{full_name} ({known_as})" if known_as else full_name
        wards.setdefault(ward_id, (ward_name, []))[1].append(
            StaffOption(staff_id, name, _search_text(full_name, known_as or "", ward_code, ward_name)))
    first = {ward_id: n for n, ward_id in enumerate(dict.fromkeys(first_ward_ids))}
    order = sorted(wards, key=lambda w: (first.get(w, len(first)), wards[w][0].casefold()))
    return [StaffGroup(w, wards[w][0], tuple(sorted(wards[w][1], key=lambda p: p.name.casefold())))
            for w in order]


def ward_staff(ward: Ward, day: date | None = None) -> list[StaffMember]:
    day = day or local_today()
    return list(db.session.scalars(
        select(StaffMember).join(WardMembership, WardMembership.staff_id == StaffMember.id)
        .where(WardMembership.ward_id == ward.id, StaffMember.is_active, WardMembership.start_date <= day,
               or_(WardMembership.end_date.is_(None), WardMembership.end_date >= day))
        .order_by(StaffMember.full_name).distinct()
    ))


def _active_staff(ids: Iterable[int], org: Organisation) -> list[StaffMember]:
    ids = sorted({int(i) for i in ids})
    if not ids:
        return []
    staff = list(db.session.scalars(select(StaffMember).where(
        StaffMember.id.in_(ids), StaffMember.organisation_id == org.id, StaffMember.is_active)))
    if len(staff) != len(ids):
        raise RecognitionError("Choose colleagues from the list; one of them is not an active member of staff.")
    return staff


# --- recognitions --------------------------------------------------------------------------

def _create_recognition(org: Organisation, kind: RecognitionKind, sender: User | None, message: str,
                        recipients: Sequence[StaffMember], *, value_keys: Sequence[str] = (),
                        visibility: Visibility = Visibility.EVERYONE, feedback_id: int | None = None,
                        created_at: datetime | None = None) -> Recognition:
    today = local_today()
    recognition = Recognition(
        organisation_id=org.id, kind=kind, sender_id=sender.id if sender else None,
        sender_ward_id=current_ward_id(sender.staff if sender else None, today),
        message=message, value_keys=list(value_keys), visibility=visibility, feedback_id=feedback_id,
        created_at=created_at or utcnow(),
    )
    for staff in recipients:
        recognition.recipients.append(RecognitionRecipient(staff_id=staff.id, ward_id=current_ward_id(staff, today)))
    db.session.add(recognition)
    db.session.flush()
    return recognition


def give_recognition(sender: User, staff_ids: Iterable[int], message: str, value_keys: Iterable[str],
                     visibility: str = Visibility.EVERYONE.value) -> Recognition:
    """A colleague thanks one or more colleagues for something that reflects our values."""
    org = organisation()
    own_id = sender.staff.id if sender.staff is not None else None
    ids = {int(i) for i in staff_ids}
    if own_id in ids:
        raise RecognitionError("Recognise a colleague rather than yourself.")
    recipients = _active_staff(ids, org)
    if not recipients:
        raise RecognitionError("Choose at least one colleague to recognise.")
    message = (message or "").strip()
    if not message:
        raise RecognitionError("Write a few words about what they did.")
    if len(message) > MESSAGE_MAX:
        raise RecognitionError(f"Keep the message under {MESSAGE_MAX} characters.")
    allowed = {v.key for v in service_values(org)}
    keys = [k for k in dict.fromkeys(value_keys) if k]
    if not keys:
        raise RecognitionError("Choose at least one value their work showed.")
    if not set(keys) <= allowed:
        raise RecognitionError("Choose values from the list.")
    try:
        chosen = Visibility(visibility)
    except ValueError:
        raise RecognitionError("Choose who can see this recognition.") from None
    recognition = _create_recognition(org, RecognitionKind.PEER, sender, message, recipients,
                                      value_keys=keys, visibility=chosen)
    for staff in recipients:
        if staff.user is not None:
            notify(staff.user, "recognition", f"{sender.display_name} recognised you.", link="/recognition/mine")
    record_audit(sender, "recognition.given", recognition, recipients=[s.id for s in recipients],
                 visibility=chosen.value)
    return recognition


def _visible_filter(viewer: User):
    """SQL condition: recognitions ``viewer`` may see (policy.can_see_recognition, as a query).

    Uncorrelated ``IN`` subqueries: SQLite (and PostgreSQL) evaluate them once per query, where
    a correlated EXISTS would be re-run for every recognition.
    """
    if viewer.is_admin:
        return None
    conditions = [Recognition.visibility == Visibility.EVERYONE, Recognition.sender_id == viewer.id]
    if viewer.staff is not None:
        conditions.append(Recognition.id.in_(select(RecognitionRecipient.recognition_id)
                                             .where(RecognitionRecipient.staff_id == viewer.staff.id)))
    managed = viewer.managed_ward_ids
    if managed:
        conditions.append(Recognition.id.in_(select(RecognitionRecipient.recognition_id)
                                             .where(RecognitionRecipient.ward_id.in_(managed))))
    return or_(*conditions)


def feed_query(viewer: User, ward_id: int | None = None):
    """Newest first; the hospital feed, or one ward's (recognitions of its staff)."""
    stmt = select(Recognition).options(
        selectinload(Recognition.recipients).selectinload(RecognitionRecipient.staff),
        selectinload(Recognition.sender).selectinload(User.staff),
    )
    visible = _visible_filter(viewer)
    if visible is not None:
        stmt = stmt.where(visible)
    if ward_id is not None:
        stmt = stmt.where(Recognition.id.in_(select(RecognitionRecipient.recognition_id)
                                             .where(RecognitionRecipient.ward_id == ward_id)))
    return stmt.order_by(Recognition.created_at.desc(), Recognition.id.desc())


def feed_page(viewer: User, page: int, ward_id: int | None = None, per_page: int = FEED_PAGE_SIZE):
    return db.paginate(feed_query(viewer, ward_id), page=max(page, 1), per_page=per_page, error_out=False)


@dataclass
class ReactionCount:
    kind: str
    label: str
    count: int
    mine: bool


def reaction_counts(recognitions: Sequence[Recognition], viewer: User) -> dict[int, list[ReactionCount]]:
    """Per recognition: every reaction kind with its count and whether ``viewer`` chose it."""
    ids = [r.id for r in recognitions]
    counts: dict[tuple[int, str], int] = {}
    mine: set[tuple[int, str]] = set()
    if ids:
        for rec_id, kind, n in db.session.execute(
            select(Reaction.recognition_id, Reaction.kind, func.count(Reaction.id))
            .where(Reaction.recognition_id.in_(ids)).group_by(Reaction.recognition_id, Reaction.kind)
        ):
            counts[(rec_id, str(kind))] = n
        for rec_id, kind in db.session.execute(
            select(Reaction.recognition_id, Reaction.kind).where(Reaction.recognition_id.in_(ids),
                                                                 Reaction.user_id == viewer.id)
        ):
            mine.add((rec_id, str(kind)))
    return {
        rec_id: [ReactionCount(kind, label, counts.get((rec_id, kind), 0), (rec_id, kind) in mine)
                 for kind, label in REACTION_LABELS.items()]
        for rec_id in ids
    }


def toggle_reaction(user: User, recognition: Recognition, kind: str) -> bool:
    """Add the reaction, or take it back if already given. Returns whether it is now on."""
    try:
        chosen = ReactionKind(kind)
    except ValueError:
        raise RecognitionError("Choose one of the reactions.") from None
    existing = db.session.scalar(select(Reaction).where(
        Reaction.recognition_id == recognition.id, Reaction.user_id == user.id, Reaction.kind == chosen))
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
        return False
    db.session.add(Reaction(recognition_id=recognition.id, user_id=user.id, kind=chosen))
    db.session.flush()
    return True


def received_recognitions(staff: StaffMember, since: date | None = None) -> list[Recognition]:
    """Everything ``staff`` received (all visibilities: they are the recipient), newest first."""
    stmt = (
        select(Recognition)
        .join(RecognitionRecipient, RecognitionRecipient.recognition_id == Recognition.id)
        .where(RecognitionRecipient.staff_id == staff.id)
        .options(selectinload(Recognition.recipients).selectinload(RecognitionRecipient.staff),
                 selectinload(Recognition.sender).selectinload(User.staff))
        .order_by(Recognition.created_at.desc(), Recognition.id.desc())
    )
    if since is not None:
        stmt = stmt.where(Recognition.created_at >= _start_of_day(since))
    return list(db.session.scalars(stmt))


def _start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=hospital_zone()).astimezone(timezone.utc)


@dataclass
class Digest:
    ward: Ward
    week_start: date
    week_end: date
    recognitions: list[Recognition]
    by_person: list[tuple[StaffMember, int]]
    by_value: list[tuple[str, int]]
    not_recognised_this_quarter: list[StaffMember]
    feedback_responses: int
    praise_waiting: int
    recovery_open: int


def weekly_digest(ward: Ward, week_start: date) -> Digest:
    """A manager's summary of one week on their ward (Monday to Sunday)."""
    week_start = week_start - timedelta(days=week_start.weekday())
    week_end = week_start + timedelta(days=6)
    recognitions = list(db.session.scalars(
        select(Recognition)
        .where(exists().where(RecognitionRecipient.recognition_id == Recognition.id,
                              RecognitionRecipient.ward_id == ward.id),
               Recognition.created_at >= _start_of_day(week_start),
               Recognition.created_at < _start_of_day(week_end + timedelta(days=1)))
        .options(selectinload(Recognition.recipients).selectinload(RecognitionRecipient.staff),
                 selectinload(Recognition.sender).selectinload(User.staff))
        .order_by(Recognition.created_at.desc())
    ))
    people: Counter[int] = Counter()
    staff_by_id: dict[int, StaffMember] = {}
    values: Counter[str] = Counter()
    for rec in recognitions:
        for r in rec.recipients:
            if r.ward_id == ward.id:
                people[r.staff_id] += 1
                staff_by_id[r.staff_id] = r.staff
        values.update(rec.value_keys or [])
    labels = value_labels(organisation())
    quarter = quarter_start(week_end)
    recognised = set(db.session.scalars(
        select(RecognitionRecipient.staff_id).join(Recognition)
        .where(RecognitionRecipient.ward_id == ward.id, Recognition.created_at >= _start_of_day(quarter),
               Recognition.created_at < _start_of_day(week_end + timedelta(days=1)))
    ))
    not_recognised = [s for s in ward_staff(ward, week_end) if s.id not in recognised]
    feedback = db.session.execute(
        select(func.count(PatientFeedback.id)).where(PatientFeedback.ward_id == ward.id,
                                                     PatientFeedback.received_on.between(week_start, week_end))
    ).scalar_one()
    waiting = db.session.scalar(select(func.count(PatientFeedback.id)).where(
        PatientFeedback.ward_id == ward.id,
        PatientFeedback.status.in_([FeedbackStatus.PENDING, FeedbackStatus.HELD]))) or 0
    recovery = db.session.scalar(select(func.count(PatientFeedback.id)).where(
        PatientFeedback.ward_id == ward.id, PatientFeedback.status == FeedbackStatus.RECOVERY,
        PatientFeedback.recovery_closed_at.is_(None))) or 0
    return Digest(
        ward, week_start, week_end, recognitions,
        sorted(((staff_by_id[i], n) for i, n in people.items()), key=lambda p: (-p[1], p[0].full_name)),
        [(labels.get(k, k), n) for k, n in values.most_common()],
        not_recognised, feedback, waiting, recovery,
    )


# --- the feedback pipeline -----------------------------------------------------------------

def rostered_staff_by_day(ward_ids: Iterable[int], first: date, last: date) -> dict[tuple[int, date], frozenset[int]]:
    """Staff rostered per (ward, day) from ``first`` to ``last``, in one query.

    A day's roster is the latest published version (highest ``number``) of the ward's roster
    period that contains the day; drafts never count. Days with nobody rostered are left out.
    """
    ward_ids = sorted({int(i) for i in ward_ids})
    if not ward_ids or last < first:
        return {}
    # Each overlapping period of these wards with its latest published version number.
    latest = (
        select(RosterPeriod.id.label("period_id"), RosterPeriod.ward_id, RosterPeriod.start_date,
               RosterPeriod.end_date, func.max(Roster.number).label("number"))
        .join(Roster, Roster.period_id == RosterPeriod.id)
        .where(Roster.kind == RosterKind.PUBLISHED, RosterPeriod.ward_id.in_(ward_ids),
               RosterPeriod.start_date <= last, RosterPeriod.end_date >= first)
        .group_by(RosterPeriod.id, RosterPeriod.ward_id, RosterPeriod.start_date, RosterPeriod.end_date)
        .subquery()
    )
    rows = db.session.execute(
        select(latest.c.ward_id, RosterAssignment.day, RosterAssignment.staff_id)
        .select_from(latest)
        .join(Roster, and_(Roster.period_id == latest.c.period_id, Roster.number == latest.c.number))
        .join(RosterAssignment, RosterAssignment.roster_id == Roster.id)
        .where(RosterAssignment.day.between(first, last),
               RosterAssignment.day.between(latest.c.start_date, latest.c.end_date))
    )
    staff: dict[tuple[int, date], set[int]] = defaultdict(set)
    for ward_id, day, staff_id in rows:
        staff[(ward_id, day)].add(staff_id)
    return {key: frozenset(ids) for key, ids in staff.items()}


def rostered_staff_ids(ward_id: int, day: date) -> frozenset[int]:
    """Staff rostered on ``ward_id`` on ``day`` (published roster), preferred by the name matcher."""
    return rostered_staff_by_day([ward_id], day, day).get((ward_id, day), frozenset())


def build_matcher(org: Organisation, day: date | None = None) -> NameMatcher:
    """Index every active member of staff with their current wards."""
    day = day or local_today()
    wards: dict[int, set[int]] = defaultdict(set)
    for staff_id, ward_id in db.session.execute(
        select(WardMembership.staff_id, WardMembership.ward_id).where(
            WardMembership.start_date <= day, or_(WardMembership.end_date.is_(None), WardMembership.end_date >= day))
    ):
        wards[staff_id].add(ward_id)
    people = []
    for staff_id, full_name, known_as in db.session.execute(
        select(StaffMember.id, StaffMember.full_name, StaffMember.known_as)
        .where(StaffMember.organisation_id == org.id, StaffMember.is_active)
    ):
        try:
            people.append(StaffName(staff_id, full_name, known_as or None, frozenset(wards.get(staff_id, ()))))
        except ValueError:
            continue  # a name with no letters cannot be matched
    return NameMatcher(people)


@dataclass
class PipelineOutcome:
    status: FeedbackStatus
    flags: list[str]
    is_negative: bool
    named_staff_ids: list[int]
    ambiguous: list[dict[str, Any]]
    redacted_thanks: str
    redacted_comment: str


def run_pipeline(matcher: NameMatcher, ward_id: int, rostered: Iterable[int], *, thanks: str, comment: str,
                 experience: Experience | None, recommend: int | None) -> PipelineOutcome:
    """Find named staff, redact patient identifiers, classify and route one response.

    Routing: negative → service recovery (never a feed); abusive or about another service →
    held for a manager; names staff (or a name we could not pin down) → waits for a manager
    to approve; anything else is recorded for the KPIs.
    """
    rostered = frozenset(rostered)
    named: dict[int, None] = {}
    ambiguous: list[dict[str, Any]] = []
    redacted = []
    for text in (thanks, comment):
        if not text:
            redacted.append("")
            continue
        analysis: MatchResult = matcher.analyse(text, ward_id, rostered)
        for match in analysis.matches:
            named.setdefault(match.staff_id)
        for mention in analysis.ambiguous:
            ambiguous.append({"text": mention.matched_text, "candidates": list(mention.candidate_ids),
                              "reason": mention.reason})
        redacted.append(redact(text, matcher, ward_id=ward_id, rostered_ids=rostered, matches=analysis).text)
    full_text = f"{thanks}\n{comment}".strip()
    flags = sorted(classify(full_text)) if full_text else []
    negative = is_negative(experience, recommend, full_text or None)
    if negative:
        status = FeedbackStatus.RECOVERY
    elif flags:
        status = FeedbackStatus.HELD
    elif named or ambiguous:
        status = FeedbackStatus.PENDING
    else:
        status = FeedbackStatus.RECORDED
    return PipelineOutcome(status, flags, negative, list(named), ambiguous, redacted[0], redacted[1])


def submit_public_feedback(ward: Ward, *, experience: Experience | None, recommend: int | None, thanks: str,
                           comment: str, wants_contact: bool, contact: str, wants_nomination: bool,
                           day: date | None = None) -> PatientFeedback:
    """Record a response from the public form and route it (see run_pipeline)."""
    day = day or local_today()
    org = db.session.get(Organisation, ward.organisation_id)
    thanks, comment = (thanks or "").strip(), (comment or "").strip()
    if experience is None and recommend is None and not thanks and not comment:
        raise RecognitionError("Answer at least one question before sending.")
    outcome = run_pipeline(build_matcher(org, day), ward.id, rostered_staff_ids(ward.id, day), thanks=thanks,
                           comment=comment, experience=experience, recommend=recommend)
    feedback = PatientFeedback(
        organisation_id=ward.organisation_id, ward_id=ward.id, source="form",
        fingerprint=hashlib.sha256(f"form:{secrets.token_hex(16)}".encode()).hexdigest(),
        received_on=day, experience=int(experience) if experience is not None else None, recommend=recommend,
        original_thanks=thanks, original_comment=comment,
        redacted_thanks=outcome.redacted_thanks, redacted_comment=outcome.redacted_comment,
        wants_contact=wants_contact, original_contact=(contact or "").strip() if wants_contact else "",
        wants_nomination=wants_nomination and not outcome.is_negative,
        status=outcome.status, flags=outcome.flags, is_negative=outcome.is_negative,
        named_staff_ids=outcome.named_staff_ids, ambiguous=outcome.ambiguous,
    )
    db.session.add(feedback)
    db.session.flush()
    record_audit(None, "feedback.received", feedback, ward=ward.code, status=feedback.status.value)
    return feedback


def moderation_query(user: User):
    """Feedback waiting for ``user`` (pending or held, on wards they manage), oldest first."""
    stmt = (select(PatientFeedback)
            .where(PatientFeedback.status.in_([FeedbackStatus.PENDING, FeedbackStatus.HELD]))
            .options(selectinload(PatientFeedback.ward))
            .order_by(PatientFeedback.received_on, PatientFeedback.id))
    if not user.is_admin:
        stmt = stmt.where(PatientFeedback.ward_id.in_(user.managed_ward_ids or {-1}))
    return stmt


def moderation_queue(user: User) -> list[PatientFeedback]:
    """Everything waiting for ``user``, oldest first (the page shows it a page at a time)."""
    return list(db.session.scalars(moderation_query(user)))


def moderation_page(user: User, page: int, per_page: int = MODERATION_PAGE_SIZE):
    return db.paginate(moderation_query(user), page=max(page, 1), per_page=per_page, error_out=False)


def staff_by_ids(ids: Iterable[int]) -> dict[int, StaffMember]:
    ids = list({int(i) for i in ids})
    if not ids:
        return {}
    return {s.id: s for s in db.session.scalars(select(StaffMember).where(StaffMember.id.in_(ids)))}


def _check_moderatable(feedback: PatientFeedback) -> None:
    if feedback.status not in (FeedbackStatus.PENDING, FeedbackStatus.HELD):
        raise RecognitionError("This feedback has already been dealt with.")


def praise_message(feedback: PatientFeedback) -> str:
    """What staff see: only ever the redacted text."""
    parts = [feedback.redacted_comment.strip()]
    if feedback.redacted_thanks.strip():
        parts.append(f"Thank you to: {feedback.redacted_thanks.strip()}")
    return "\n\n".join(p for p in parts if p) or "A patient thanked you."


def approve_feedback(actor: User, feedback: PatientFeedback, staff_ids: Iterable[int]) -> Recognition:
    """Turn patient feedback into a 'patient praise' recognition for the chosen staff."""
    _check_moderatable(feedback)
    if feedback.is_negative:
        raise RecognitionError("Negative feedback cannot become praise; it belongs on the service-recovery list.")
    org = db.session.get(Organisation, feedback.organisation_id)
    recipients = _active_staff(staff_ids, org)
    if not recipients:
        raise RecognitionError("Choose who the patient was thanking before approving.")
    recognition = _create_recognition(org, RecognitionKind.PATIENT, None, praise_message(feedback), recipients,
                                      feedback_id=feedback.id)
    feedback.status = FeedbackStatus.APPROVED
    feedback.named_staff_ids = [s.id for s in recipients]
    feedback.moderated_by_id, feedback.moderated_at = actor.id, utcnow()
    cycle = open_cycle_on(org, local_today())
    if feedback.wants_nomination and cycle is not None:
        for staff in recipients:
            db.session.add(Nomination(cycle_id=cycle.id, nominee_id=staff.id, from_patient=True,
                                      feedback_id=feedback.id, reason=praise_message(feedback)))
    for staff in recipients:
        if staff.user is not None:
            notify(staff.user, "recognition", "A patient thanked you. Their words are in your recognitions.",
                   link="/recognition/mine")
    db.session.flush()
    record_audit(actor, "feedback.approved", feedback, recognition=recognition.id,
                 staff=[s.id for s in recipients])
    return recognition


def reassign_feedback(actor: User, feedback: PatientFeedback, staff_ids: Iterable[int]) -> None:
    """Change who the comment is taken to name; it stays in the queue."""
    _check_moderatable(feedback)
    org = db.session.get(Organisation, feedback.organisation_id)
    recipients = _active_staff(staff_ids, org)
    before = list(feedback.named_staff_ids or [])
    feedback.named_staff_ids = [s.id for s in recipients]
    db.session.flush()
    record_audit(actor, "feedback.reassigned", feedback, before=before, after=feedback.named_staff_ids)


def reject_feedback(actor: User, feedback: PatientFeedback, note: str = "") -> None:
    _check_moderatable(feedback)
    feedback.status = FeedbackStatus.REJECTED
    feedback.moderation_note = (note or "").strip()[:1000]
    feedback.moderated_by_id, feedback.moderated_at = actor.id, utcnow()
    db.session.flush()
    record_audit(actor, "feedback.rejected", feedback)


def send_to_recovery(actor: User, feedback: PatientFeedback) -> None:
    """A held comment that is really a complaint: move it to the service-recovery list."""
    _check_moderatable(feedback)
    feedback.status = FeedbackStatus.RECOVERY
    feedback.is_negative = True
    feedback.moderated_by_id, feedback.moderated_at = actor.id, utcnow()
    db.session.flush()
    record_audit(actor, "feedback.sent_to_recovery", feedback)


@dataclass(frozen=True)
class OriginalText:
    thanks: str
    comment: str
    contact: str


def view_original(actor: User, feedback: PatientFeedback) -> OriginalText:
    """Return what the patient wrote, and record that ``actor`` read it. Policy is checked by the view."""
    record_audit(actor, "feedback.original_viewed", feedback, ward_id=feedback.ward_id)
    return OriginalText(feedback.original_thanks, feedback.original_comment, feedback.original_contact)


def recovery_list(ward: Ward, *, closed: bool = False, limit: int = 200) -> list[PatientFeedback]:
    stmt = select(PatientFeedback).where(PatientFeedback.ward_id == ward.id,
                                         PatientFeedback.status == FeedbackStatus.RECOVERY)
    stmt = stmt.where(PatientFeedback.recovery_closed_at.is_not(None) if closed
                      else PatientFeedback.recovery_closed_at.is_(None))
    return list(db.session.scalars(stmt.order_by(PatientFeedback.received_on.desc(), PatientFeedback.id.desc())
                                   .limit(limit)))


def close_recovery(actor: User, feedback: PatientFeedback, note: str) -> None:
    if feedback.status != FeedbackStatus.RECOVERY:
        raise RecognitionError("Only service-recovery items can be closed.")
    if feedback.recovery_closed_at is not None:
        raise RecognitionError("This item is already closed.")
    note = (note or "").strip()
    if not note:
        raise RecognitionError("Say briefly what was done, for the record.")
    feedback.recovery_note = note[:2000]
    feedback.recovery_closed_at = utcnow()
    db.session.flush()
    record_audit(actor, "feedback.recovery_closed", feedback)


def ward_by_code(code: str) -> Ward | None:
    return db.session.scalar(select(Ward).where(func.lower(Ward.code) == code.lower(), Ward.is_active))


# --- survey import --------------------------------------------------------------------------

def survey_sources(org: Organisation) -> list[SurveySource]:
    return list(db.session.scalars(select(SurveySource).where(SurveySource.organisation_id == org.id)
                                   .order_by(SurveySource.name)))


def upload_path(folder: Path, token: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"survey-{token}.csv"


def start_import(actor: User, source_name: str, filename: str, data: bytes, encoding: str,
                 folder: Path) -> tuple[SurveyImport, list[str]]:
    """Keep the upload, check its header and remember the source; the mapping step comes next."""
    org = organisation()
    source_name = " ".join((source_name or "").split())
    if not source_name:
        raise RecognitionError("Name the survey source (for example the vendor).")
    try:
        header = read_header(data, encoding)
    except SurveyFileError as exc:
        raise RecognitionError(f"This file cannot be read: {exc}.") from None
    source = db.session.scalar(select(SurveySource).where(SurveySource.organisation_id == org.id,
                                                          func.lower(SurveySource.name) == source_name.lower()))
    if source is None:
        source = SurveySource(organisation_id=org.id, name=source_name[:80])
        db.session.add(source)
        db.session.flush()
    token = secrets.token_hex(16)
    upload_path(folder, token).write_bytes(data)
    run = SurveyImport(source_id=source.id, filename=(filename or "")[:255], upload_token=token,
                       created_by_id=actor.id, status="uploaded", errors=[], encoding=encoding)
    db.session.add(run)
    db.session.flush()
    record_audit(actor, "survey.uploaded", run, source=source.name, filename=run.filename)
    return run, header


def mapping_suggestion(run: SurveyImport, header: Sequence[str]) -> dict[str, str | None]:
    """The source's remembered mapping when its columns are all present, else a guess from the header."""
    saved = run.source.mapping or {}
    present = {h.strip().casefold() for h in header}
    fields = ("date", "ward", "experience", "recommend", "comment", "response_id")
    if saved and all((saved.get(f) or "").strip().casefold() in present for f in fields if saved.get(f)):
        return {f: saved.get(f) for f in fields} | {"experience_codes": saved.get("experience_codes", "fft")}
    return suggest_mapping(header) | {"experience_codes": "fft"}


def queue_import(actor: User, run: SurveyImport, columns: dict[str, str | None]) -> ColumnMapping:
    """Remember the mapping for the source and mark the run queued for the worker."""
    if run.status not in ("uploaded", "failed"):
        raise RecognitionError("This file has already been imported or is being imported.")
    values = {k: (v or None) for k, v in columns.items()}
    values["encoding"] = run.encoding
    try:
        mapping = ColumnMapping(**values)
    except (TypeError, ValueError) as exc:
        raise RecognitionError(f"That column mapping will not work: {exc}.") from None
    run.source.mapping = mapping.to_dict()
    run.status = "queued"
    db.session.flush()
    record_audit(actor, "survey.queued", run, mapping={k: v for k, v in columns.items() if v})
    return mapping


def _ward_lookup(org: Organisation):
    lookup: dict[str, int] = {}
    for ward in db.session.scalars(select(Ward).where(Ward.organisation_id == org.id)):
        lookup[ward.code.casefold()] = ward.id
        lookup[ward.name.casefold()] = ward.id
        # "Ward 7" style names before a dash ("Ward 7 – Acute Medicine")
        short = ward.name.split("–")[0].split(" - ")[0].strip().casefold()
        lookup.setdefault(short, ward.id)
    return lambda value: lookup.get(" ".join(value.split()).casefold())


@dataclass
class ImportOutcome:
    added: int = 0
    already_imported: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and not self.message


def import_survey_rows(org: Organisation, data: bytes, mapping: ColumnMapping, *, source: str,
                       import_id: int | None = None, today: date | None = None) -> ImportOutcome:
    """Parse, match, redact and insert a survey file: every row or none.

    Rows whose fingerprint is already stored are skipped, so importing the same file twice
    adds nothing. Returns the outcome; nothing is written when it is not ``ok``.
    """
    today = today or local_today()
    try:
        parsed = parse_survey(data, mapping, source=source, ward_lookup=_ward_lookup(org), today=today)
    except SurveyFileError as exc:
        return ImportOutcome(message=f"This file cannot be imported: {exc}.")
    if not parsed.ok:
        return ImportOutcome(errors=[{"line": e.line_number, "column": e.column or "", "message": e.message}
                                     for e in parsed.errors[:500]],
                             message="")
    fingerprints = [row.fingerprint for row in parsed.rows]
    existing: set[str] = set()
    for start in range(0, len(fingerprints), 500):
        chunk = fingerprints[start:start + 500]
        existing.update(db.session.scalars(select(PatientFeedback.fingerprint)
                                           .where(PatientFeedback.fingerprint.in_(chunk))))
    matcher = build_matcher(org, today)
    # Who was rostered per (ward, day) of the file, read once rather than per row.
    rostered = (rostered_staff_by_day({row.ward_id for row in parsed.rows},
                                      min(row.response_date for row in parsed.rows),
                                      max(row.response_date for row in parsed.rows))
                if parsed.rows else {})
    nobody: frozenset[int] = frozenset()
    now = utcnow()
    # Core executemany: the ORM's bulk path costs more than the insert itself at this size.
    table = PatientFeedback.__table__
    batch: list[dict[str, Any]] = []
    added = 0
    for row in parsed.rows:
        if row.fingerprint in existing:
            continue
        existing.add(row.fingerprint)
        outcome = run_pipeline(matcher, row.ward_id, rostered.get((row.ward_id, row.response_date), nobody),
                               thanks="", comment=row.comment,
                               experience=row.experience, recommend=row.recommend)
        batch.append({
            "organisation_id": org.id, "ward_id": row.ward_id, "source": source[:80],
            "fingerprint": row.fingerprint, "import_id": import_id, "received_on": row.response_date,
            "created_at": now, "experience": int(row.experience) if row.experience is not None else None,
            "recommend": row.recommend, "original_thanks": "", "original_comment": row.comment,
            "redacted_thanks": "", "redacted_comment": outcome.redacted_comment, "wants_contact": False,
            "original_contact": "", "wants_nomination": False, "status": outcome.status,
            "flags": outcome.flags, "is_negative": outcome.is_negative,
            "named_staff_ids": outcome.named_staff_ids, "ambiguous": outcome.ambiguous,
            "moderation_note": "", "recovery_note": "",
        })
        if len(batch) >= 5000:
            db.session.execute(table.insert(), batch)
            added += len(batch)
            batch = []
    if batch:
        db.session.execute(table.insert(), batch)
        added += len(batch)
    db.session.flush()
    return ImportOutcome(added=added, already_imported=len(parsed.rows) - added)


def process_import(run: SurveyImport, folder: Path) -> ImportOutcome:
    """Run a queued import (called by the worker job); all rows or none, the run records which.

    Parse and row errors are found before anything is inserted, so a failed import writes
    only its own status. An unexpected error is left to the caller, which rolls back.
    """
    path = upload_path(folder, run.upload_token)
    if not path.exists():
        outcome = ImportOutcome(message="The uploaded file is no longer on the server. Upload it again.")
    else:
        mapping = ColumnMapping.from_dict(run.source.mapping or {})
        org = db.session.get(Organisation, run.source.organisation_id)
        outcome = import_survey_rows(org, path.read_bytes(), mapping, source=run.source.name, import_id=run.id)
    run.status = "done" if outcome.ok else "failed"
    run.rows_added, run.rows_already_imported = outcome.added, outcome.already_imported
    run.errors = outcome.errors
    run.message = outcome.message
    run.finished_at = utcnow()
    db.session.flush()
    if outcome.ok:
        path.unlink(missing_ok=True)
    record_audit(None, "survey.imported" if outcome.ok else "survey.failed", run, added=outcome.added,
                 already=outcome.already_imported, errors=len(outcome.errors))
    return outcome


def mark_import_failed(import_id: int, message: str) -> None:
    run = db.session.get(SurveyImport, import_id)
    if run is not None:
        run.status, run.message, run.finished_at = "failed", message, utcnow()
        db.session.flush()


# --- KPIs ---------------------------------------------------------------------------------

def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


@dataclass
class MonthKpi:
    month: date
    responses: int
    experience_responses: int
    recommend_responses: int
    experience_score: float | None  # None: fewer than 5 responses (suppressed)
    nps: float | None
    recognitions_sent: int
    recognitions_received: int


@dataclass
class EquityKpi:
    quarter: date
    staff: int
    recognised: int
    share: float | None  # None: fewer than 5 staff (suppressed)


def ward_kpis(ward: Ward, months: int = 6, today: date | None = None) -> list[MonthKpi]:
    """Per month, oldest first: responses, experience score, NPS, recognitions sent and received."""
    today = today or local_today()
    first = add_months(month_start(today), -(months - 1))
    pairs: dict[date, list[tuple[Experience | None, int | None]]] = defaultdict(list)
    for received_on, experience, recommend in db.session.execute(
        select(PatientFeedback.received_on, PatientFeedback.experience, PatientFeedback.recommend)
        .where(PatientFeedback.ward_id == ward.id, PatientFeedback.received_on >= first)
    ):
        pairs[month_start(received_on)].append(
            (Experience(experience) if experience is not None else None, recommend))
    zone = hospital_zone()
    sent: Counter[date] = Counter()
    for (created,) in db.session.execute(select(Recognition.created_at).where(
            Recognition.sender_ward_id == ward.id, Recognition.created_at >= _start_of_day(first))):
        sent[month_start(created.astimezone(zone).date())] += 1
    received: Counter[date] = Counter()
    for (created,) in db.session.execute(
        select(Recognition.created_at).join(RecognitionRecipient)
        .where(RecognitionRecipient.ward_id == ward.id, Recognition.created_at >= _start_of_day(first))
    ):
        received[month_start(created.astimezone(zone).date())] += 1
    rows = []
    for i in range(months):
        month = add_months(first, i)
        summary = summarise(pairs.get(month, []))
        rows.append(MonthKpi(month, summary.responses, summary.experience_responses, summary.recommend_responses,
                             summary.experience_score, summary.nps, sent[month], received[month]))
    return rows


def recognition_equity(ward: Ward, quarter: date) -> EquityKpi:
    """Share of the ward's staff recognised at least once in the quarter."""
    end = add_months(quarter, 3)
    staff = ward_staff(ward, min(end - timedelta(days=1), local_today()))
    ids = {s.id for s in staff}
    recognised = set(db.session.scalars(
        select(RecognitionRecipient.staff_id).join(Recognition)
        .where(RecognitionRecipient.ward_id == ward.id, Recognition.created_at >= _start_of_day(quarter),
               Recognition.created_at < _start_of_day(end))
    )) & ids
    share = 100.0 * len(recognised) / len(ids) if len(ids) >= SUPPRESSION_THRESHOLD else None
    return EquityKpi(quarter, len(ids), len(recognised), share)


# --- award nominations ---------------------------------------------------------------------

def is_committee_member(user: User) -> bool:
    return db.session.scalar(select(CommitteeMember.id).where(CommitteeMember.user_id == user.id).limit(1)) is not None


def committee_members(org: Organisation) -> list[CommitteeMember]:
    return list(db.session.scalars(select(CommitteeMember).where(CommitteeMember.organisation_id == org.id)
                                   .options(selectinload(CommitteeMember.user).selectinload(User.staff))
                                   .order_by(CommitteeMember.added_at)))


def add_committee_member(actor: User, email: str) -> CommitteeMember:
    org = organisation()
    user = db.session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    if user is None:
        raise RecognitionError("Nobody has an account with that e-mail address.")
    if is_committee_member(user):
        raise RecognitionError(f"{user.display_name} is already on the committee.")
    member = CommitteeMember(organisation_id=org.id, user_id=user.id)
    db.session.add(member)
    db.session.flush()
    record_audit(actor, "awards.committee_added", member, user=user.id)
    return member


def remove_committee_member(actor: User, member: CommitteeMember) -> None:
    record_audit(actor, "awards.committee_removed", member, user=member.user_id)
    db.session.delete(member)
    db.session.flush()


def cycles(org: Organisation) -> list[NominationCycle]:
    return list(db.session.scalars(select(NominationCycle).where(NominationCycle.organisation_id == org.id)
                                   .order_by(NominationCycle.opens_on.desc(), NominationCycle.id.desc())))


def open_cycle_on(org: Organisation, day: date) -> NominationCycle | None:
    return db.session.scalar(select(NominationCycle).where(
        NominationCycle.organisation_id == org.id, NominationCycle.status == CycleStatus.OPEN,
        NominationCycle.opens_on <= day, NominationCycle.closes_on >= day).order_by(NominationCycle.closes_on).limit(1))


def create_cycle(actor: User, title: str, criteria: Sequence[str], opens_on: date, closes_on: date) -> NominationCycle:
    org = organisation()
    criteria = [c.strip() for c in criteria if c and c.strip()]
    if not criteria:
        raise RecognitionError("State at least one criterion the committee will score against.")
    if len(criteria) > 8:
        raise RecognitionError("Keep to eight criteria or fewer.")
    if closes_on < opens_on:
        raise RecognitionError("Nominations cannot close before they open.")
    cycle = NominationCycle(organisation_id=org.id, title=title.strip(), criteria=criteria, opens_on=opens_on,
                            closes_on=closes_on, status=CycleStatus.OPEN)
    db.session.add(cycle)
    db.session.flush()
    record_audit(actor, "awards.cycle_created", cycle, title=cycle.title)
    return cycle


def nominate(actor: User, cycle: NominationCycle, staff_id: int, reason: str) -> Nomination:
    if not cycle.is_open_on(local_today()):
        raise RecognitionError("Nominations for this award are closed.")
    org = db.session.get(Organisation, cycle.organisation_id)
    nominee = _active_staff([staff_id], org)[0]
    if actor.staff is not None and nominee.id == actor.staff.id:
        raise RecognitionError("Nominate a colleague rather than yourself.")
    reason = (reason or "").strip()
    if len(reason) < 20:
        raise RecognitionError("Tell the committee, in a sentence or two, why they deserve it.")
    if len(reason) > MESSAGE_MAX:
        raise RecognitionError(f"Keep the reason under {MESSAGE_MAX} characters.")
    nomination = Nomination(cycle_id=cycle.id, nominee_id=nominee.id, nominator_id=actor.id, reason=reason)
    db.session.add(nomination)
    db.session.flush()
    record_audit(actor, "awards.nominated", nomination, cycle=cycle.id, nominee=nominee.id)
    return nomination


def close_nominations(actor: User, cycle: NominationCycle) -> None:
    if cycle.status != CycleStatus.OPEN:
        raise RecognitionError("Nominations for this award are already closed.")
    cycle.status = CycleStatus.SCORING
    db.session.flush()
    record_audit(actor, "awards.scoring_started", cycle)


def score_nomination(scorer: User, nomination: Nomination, scores: Sequence[int]) -> NominationScore:
    cycle = nomination.cycle
    if cycle.status != CycleStatus.SCORING:
        raise RecognitionError("Scoring opens when nominations close, and ends when the winner is announced.")
    if nomination.nominator_id == scorer.id:
        raise RecognitionError("You nominated this person, so someone else on the committee scores it.")
    if scorer.staff is not None and nomination.nominee_id == scorer.staff.id:
        raise RecognitionError("You cannot score your own nomination.")
    if len(scores) != len(cycle.criteria) or any(not 1 <= int(s) <= 5 for s in scores):
        raise RecognitionError("Give every criterion a score from 1 to 5.")
    row = db.session.scalar(select(NominationScore).where(NominationScore.nomination_id == nomination.id,
                                                          NominationScore.scorer_id == scorer.id))
    if row is None:
        row = NominationScore(nomination_id=nomination.id, scorer_id=scorer.id)
        db.session.add(row)
    row.scores = [int(s) for s in scores]
    row.total = sum(row.scores)
    db.session.flush()
    record_audit(scorer, "awards.scored", nomination, total=row.total)
    return row


def ranked_nominations(cycle: NominationCycle) -> list[tuple[Nomination, float | None, int]]:
    """(nomination, average total, number of scores), best first."""
    rows = [(n, n.average_total, len(n.scores)) for n in cycle.nominations]
    return sorted(rows, key=lambda r: (r[1] is None, -(r[1] or 0), r[0].id))


def announce_winner(actor: User, cycle: NominationCycle, nomination: Nomination) -> Recognition:
    if cycle.status != CycleStatus.SCORING:
        raise RecognitionError("Close nominations and let the committee score before announcing a winner.")
    if nomination.cycle_id != cycle.id:
        raise RecognitionError("Choose a nomination from this award.")
    org = db.session.get(Organisation, cycle.organisation_id)
    cycle.winner_id = nomination.id
    cycle.status = CycleStatus.ANNOUNCED
    message = f"Winner of {cycle.title}.\n\n{nomination.reason}"
    recognition = _create_recognition(org, RecognitionKind.AWARD, actor, message, [nomination.nominee])
    if nomination.nominee.user is not None:
        notify(nomination.nominee.user, "recognition", f"You have won {cycle.title}. Congratulations!",
               link="/recognition/mine")
    db.session.flush()
    record_audit(actor, "awards.winner_announced", cycle, nomination=nomination.id, recognition=recognition.id)
    return recognition


def recent_for(staff: StaffMember, limit: int = 3) -> list[Recognition]:
    return list(db.session.scalars(
        select(Recognition).join(RecognitionRecipient)
        .where(RecognitionRecipient.staff_id == staff.id)
        .options(selectinload(Recognition.sender).selectinload(User.staff))
        .order_by(Recognition.created_at.desc(), Recognition.id.desc()).limit(limit)
    ))


def sender_label(recognition: Recognition) -> str:
    if recognition.kind == RecognitionKind.PATIENT:
        return "A patient"
    if recognition.sender is None:
        return "Someone"
    return recognition.sender.display_name
