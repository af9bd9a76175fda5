"""Self-service forms: requests, availability, personal rules, leave, swaps, open shifts."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from portal.forms import choices
from portal.scheduling.models import AvailabilityKind, Priority, RequestKind
from portal.scheduling.self_service import LEAVE_LABELS, NURSE_LEAVE_KINDS, REASON_LABELS, WEEKDAYS


def _optional_int(value: object) -> int | None:
    return int(value) if value not in (None, "", "None") else None  # type: ignore[arg-type]


class RequestForm(FlaskForm):
    day = DateField("Day", validators=[InputRequired(message="Choose the day.")])
    kind = RadioField("What would you like?", choices=choices([
        (RequestKind.DAY_OFF.value, "A day off"),
        (RequestKind.WORK_SHIFT.value, "To work a shift"),
        (RequestKind.SHIFT_OFF.value, "Not to work a shift"),
    ]), default=RequestKind.DAY_OFF.value, validators=[InputRequired()])
    shift_type_id = SelectField("Shift", coerce=_optional_int, validators=[Optional()],
                                description="Needed when you ask to work, or not to work, a shift.")
    priority = RadioField("Priority", choices=choices([
        (Priority.NORMAL.value, "Normal"),
        (Priority.HIGH.value, "High (limited each period)"),
    ]), default=Priority.NORMAL.value, validators=[InputRequired()])
    note = StringField("Note for the manager (optional)", validators=[Optional(), Length(max=300)])
    submit = SubmitField("Add request")

    def validate_shift_type_id(self, field: SelectField) -> None:
        if self.kind.data != RequestKind.DAY_OFF.value and not field.data:
            raise ValidationError("Choose which shift you mean.")


class AvailabilityForm(FlaskForm):
    kind = SelectField("Limit", choices=choices([
        (AvailabilityKind.NO_NIGHTS.value, "No night shifts"),
        (AvailabilityKind.NOT_WEEKDAY.value, "Not on a day of the week"),
        (AvailabilityKind.NOT_SHIFT.value, "Never a particular shift"),
    ]), validators=[DataRequired()])
    weekday = SelectField("Day of the week", coerce=_optional_int, validators=[Optional()],
                          choices=choices([("", "Not needed"), *((str(i), name) for i, name in enumerate(WEEKDAYS))]))
    shift_type_id = SelectField("Shift", coerce=_optional_int, validators=[Optional()])
    reason = SelectField("Reason", choices=choices([(r.value, label) for r, label in REASON_LABELS.items()]),
                         validators=[DataRequired()], description="Only your managers see this.")
    note = StringField("Anything your manager should know (optional)", validators=[Optional(), Length(max=300)])
    valid_from = DateField("From", validators=[InputRequired(message="Choose the first day.")])
    valid_to = DateField("Until (optional)", validators=[Optional()])
    submit = SubmitField("Ask for this limit")


class PersonalRulesForm(FlaskForm):
    max_consecutive_nights = IntegerField("Most nights in a row", validators=[Optional(), NumberRange(min=0, max=14)])
    max_consecutive_days = IntegerField("Most working days in a row", validators=[Optional(), NumberRange(min=0, max=14)])
    max_weekends = IntegerField("Most weekends worked per period", validators=[Optional(), NumberRange(min=0, max=6)])
    submit = SubmitField("Save my limits")


class LeaveForm(FlaskForm):
    kind = SelectField("Type of leave", choices=choices([(k.value, LEAVE_LABELS[k]) for k in NURSE_LEAVE_KINDS]),
                       validators=[DataRequired()])
    start_date = DateField("First day", validators=[InputRequired(message="Choose the first day.")])
    end_date = DateField("Last day", validators=[InputRequired(message="Choose the last day.")])
    note = StringField("Note for the manager (optional)", validators=[Optional(), Length(max=300)])
    submit = SubmitField("Request leave")

    def validate_end_date(self, field: DateField) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError("The last day cannot be before the first day.")


class LeaveDecisionForm(FlaskForm):
    note = StringField("Note to the nurse (optional)", validators=[Optional(), Length(max=300)])
    version = HiddenField()
    approve = SubmitField("Approve leave")
    decline = SubmitField("Decline leave")


class VersionForm(FlaskForm):
    """A POST-only button that carries the version of the record it was shown with."""

    version = HiddenField()


class SwapForm(FlaskForm):
    give = SelectField("Your shift", validators=[DataRequired(message="Choose one of your shifts.")])
    colleague = SelectField("Colleague", coerce=_optional_int,
                            validators=[DataRequired(message="Choose a colleague.")])
    take_day = DateField("Day of their shift you would work instead (optional)", validators=[Optional()],
                         description="Leave empty to give your shift away.")
    message = StringField("Message to your colleague (optional)", validators=[Optional(), Length(max=300)])
    submit = SubmitField("Propose swap")


class SwapRefusalForm(FlaskForm):
    note = StringField("Reason (optional)", validators=[Optional(), Length(max=200)])
    version = HiddenField()


class OpenShiftForm(FlaskForm):
    day = DateField("Day", validators=[InputRequired(message="Choose the day.")])
    shift_type_id = SelectField("Shift", coerce=_optional_int, validators=[DataRequired(message="Choose the shift.")])
    skill_id = SelectField("Skill needed", coerce=_optional_int, validators=[Optional()])
    note = StringField("Note (optional)", validators=[Optional(), Length(max=300)])
    submit = SubmitField("Post open shift")


class ConfirmClaimForm(FlaskForm):
    staff_id = HiddenField(validators=[DataRequired()])
    version = HiddenField()
