"""Recognition models: peer and patient recognitions, patient feedback, survey sources,
award nominations and the award committee.

Patient text is stored twice: the original (seen only by managers of the ward and
administrators, each view audited) and a redacted copy that is the only version staff see.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models import StaffMember, User, UTCDateTime, Ward, text_enum, utcnow


class RecognitionKind(enum.StrEnum):
    PEER = "peer"
    PATIENT = "patient"
    AWARD = "award"


class Visibility(enum.StrEnum):
    EVERYONE = "everyone"
    PRIVATE = "private"  # the recipients, the sender, their managers and administrators


class FeedbackStatus(enum.StrEnum):
    PENDING = "pending"  # names staff: waits for a manager to approve, reassign or reject
    HELD = "held"  # abusive or about another service: waits for a manager
    APPROVED = "approved"  # became a patient-praise recognition
    REJECTED = "rejected"
    RECOVERY = "recovery"  # negative: on the ward's service-recovery list, never in a feed
    RECORDED = "recorded"  # counted in the KPIs, nothing to moderate


class CycleStatus(enum.StrEnum):
    OPEN = "open"
    SCORING = "scoring"
    ANNOUNCED = "announced"


class ServiceValue(db.Model):
    """A value recognitions are tagged with, configured per organisation.

    Until an administrator changes them, the organisation uses ``DEFAULT_VALUES`` from
    services.py; recognitions keep the value's ``key`` so renaming never breaks history.
    """

    __tablename__ = "recognition_value"
    __table_args__ = (UniqueConstraint("organisation_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class Recognition(db.Model):
    """A thank-you shown in the feeds: from a colleague, from a patient, or an award."""

    __tablename__ = "recognition"
    __table_args__ = (Index("ix_recognition_feed", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[RecognitionKind] = mapped_column(text_enum(RecognitionKind), default=RecognitionKind.PEER)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    # The sender's ward when they sent it (for "recognitions sent" per ward).
    sender_ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"), index=True)
    message: Mapped[str] = mapped_column(Text)
    value_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    visibility: Mapped[Visibility] = mapped_column(text_enum(Visibility), default=Visibility.EVERYONE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("patient_feedback.id"))

    sender: Mapped[User | None] = relationship()
    recipients: Mapped[list[RecognitionRecipient]] = relationship(
        back_populates="recognition", cascade="all, delete-orphan"
    )
    reactions: Mapped[list[Reaction]] = relationship(back_populates="recognition", cascade="all, delete-orphan")

    @property
    def recipient_staff(self) -> list[StaffMember]:
        return [r.staff for r in self.recipients]

    @property
    def ward_ids(self) -> set[int]:
        return {r.ward_id for r in self.recipients if r.ward_id is not None}


class RecognitionRecipient(db.Model):
    """One person recognised; ``ward_id`` is their ward at the time (for ward feeds)."""

    __tablename__ = "recognition_recipient"

    recognition_id: Mapped[int] = mapped_column(ForeignKey("recognition.id"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), primary_key=True, index=True)
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"), index=True)

    recognition: Mapped[Recognition] = relationship(back_populates="recipients")
    staff: Mapped[StaffMember] = relationship()


class ReactionKind(enum.StrEnum):
    THANKS = "thanks"
    CELEBRATE = "celebrate"
    INSPIRING = "inspiring"


class Reaction(db.Model):
    __tablename__ = "recognition_reaction"
    __table_args__ = (UniqueConstraint("recognition_id", "user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recognition_id: Mapped[int] = mapped_column(ForeignKey("recognition.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[ReactionKind] = mapped_column(text_enum(ReactionKind))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recognition: Mapped[Recognition] = relationship(back_populates="reactions")


class SurveySource(db.Model):
    """A survey vendor or feed whose CSV column mapping is remembered."""

    __tablename__ = "survey_source"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SurveyImport(db.Model):
    """One upload of a survey file: queued, then done (rows added) or failed (nothing added)."""

    __tablename__ = "survey_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("survey_source.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    upload_token: Mapped[str] = mapped_column(String(32), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    encoding: Mapped[str] = mapped_column(String(20), default="utf-8")
    status: Mapped[str] = mapped_column(String(20), default="uploaded")  # uploaded, queued, done, failed
    rows_added: Mapped[int] = mapped_column(Integer, default=0)
    rows_already_imported: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    source: Mapped[SurveySource] = relationship()


class PatientFeedback(db.Model):
    """One patient's response: from the public form or an imported survey row."""

    __tablename__ = "patient_feedback"
    __table_args__ = (Index("ix_patient_feedback_ward_status", "ward_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"), index=True)
    source: Mapped[str] = mapped_column(String(80), default="form")
    # sha256 of the response; unique so that importing the same file twice adds nothing.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("survey_import.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    experience: Mapped[int | None] = mapped_column(Integer)  # FFT code: 1 very good … 5 very poor, 6 don't know
    recommend: Mapped[int | None] = mapped_column(Integer)  # 0–10
    original_thanks: Mapped[str] = mapped_column(Text, default="")
    original_comment: Mapped[str] = mapped_column(Text, default="")
    redacted_thanks: Mapped[str] = mapped_column(Text, default="")
    redacted_comment: Mapped[str] = mapped_column(Text, default="")
    wants_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    original_contact: Mapped[str] = mapped_column(String(200), default="")
    wants_nomination: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[FeedbackStatus] = mapped_column(text_enum(FeedbackStatus), default=FeedbackStatus.RECORDED)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_negative: Mapped[bool] = mapped_column(Boolean, default=False)
    # Staff the pipeline found (or a moderator chose), and names it could not pin down.
    named_staff_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    ambiguous: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moderation_note: Mapped[str] = mapped_column(Text, default="")
    recovery_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recovery_note: Mapped[str] = mapped_column(Text, default="")

    ward: Mapped[Ward] = relationship()

    @property
    def has_text(self) -> bool:
        return bool(self.original_thanks or self.original_comment)


class NominationCycle(db.Model):
    """A round of the staff award: nominations open, the committee scores, a winner is announced."""

    __tablename__ = "nomination_cycle"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    criteria: Mapped[list[str]] = mapped_column(JSON, default=list)
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    status: Mapped[CycleStatus] = mapped_column(text_enum(CycleStatus), default=CycleStatus.OPEN)
    winner_id: Mapped[int | None] = mapped_column(ForeignKey("nomination.id", use_alter=True))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    nominations: Mapped[list[Nomination]] = relationship(
        back_populates="cycle", foreign_keys="Nomination.cycle_id", order_by="Nomination.id"
    )
    winner: Mapped[Nomination | None] = relationship(foreign_keys=[winner_id], post_update=True)

    def is_open_on(self, day: date) -> bool:
        return self.status == CycleStatus.OPEN and self.opens_on <= day <= self.closes_on


class Nomination(db.Model):
    __tablename__ = "nomination"
    __table_args__ = (Index("ix_nomination_cycle_nominee", "cycle_id", "nominee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("nomination_cycle.id"))
    nominee_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    # Hidden from the committee while they score; None for patients.
    nominator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    from_patient: Mapped[bool] = mapped_column(Boolean, default=False)
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("patient_feedback.id"))
    reason: Mapped[str] = mapped_column(Text)  # redacted text for patient nominations
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cycle: Mapped[NominationCycle] = relationship(back_populates="nominations", foreign_keys=[cycle_id])
    nominee: Mapped[StaffMember] = relationship()
    scores: Mapped[list[NominationScore]] = relationship(back_populates="nomination", cascade="all, delete-orphan")

    @property
    def average_total(self) -> float | None:
        if not self.scores:
            return None
        return sum(s.total for s in self.scores) / len(self.scores)


class NominationScore(db.Model):
    __tablename__ = "nomination_score"
    __table_args__ = (UniqueConstraint("nomination_id", "scorer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nomination.id"), index=True)
    scorer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    scores: Mapped[list[int]] = mapped_column(JSON, default=list)  # 1–5 per criterion
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    nomination: Mapped[Nomination] = relationship(back_populates="scores")


class CommitteeMember(db.Model):
    """A person on the award committee (appointed by administrators): scores nominations blind."""

    __tablename__ = "recognition_committee_member"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
