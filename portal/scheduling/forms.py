"""Forms of the roster side: ward rules, cover, periods, optimiser, draft edits, publishing, sick calls."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from portal.forms import choices
from portal.scheduling.models import DayType, RequirementKind

DAY_TYPE_LABELS = {DayType.WEEKDAY: "Weekdays", DayType.WEEKEND: "Weekends", DayType.BANK_HOLIDAY: "Bank holidays"}
KIND_LABELS = {RequirementKind.TOTAL: "Everyone on the shift", RequirementKind.GRADE: "A grade or senior",
               RequirementKind.SKILL: "Staff with a skill"}


def _number(label: str, low: int, high: int, description: str = "") -> IntegerField:
    return IntegerField(label, validators=[InputRequired(message="Enter a number."), NumberRange(min=low, max=high)],
                        description=description)


class RulesForm(FlaskForm):
    min_rest_hours = _number("Minimum rest between shifts (hours)", 0, 24,
                             "Computed from real shift times: Late 13:30–21:30 then Early 07:00 is 9.5 hours.")
    max_consecutive_days = _number("Most working days in a row", 1, 14)
    min_consecutive_days = _number("Fewest working days in a row", 1, 7, "1 allows single working days.")
    max_consecutive_nights = _number("Most nights in a row", 1, 7)
    min_days_off_after_nights = _number("Days off after a run of nights", 0, 4)
    min_consecutive_days_off = _number("Fewest days off in a row", 1, 4)
    max_weekends_per_period = _number("Most weekends worked per period", 0, 6)
    complete_weekends = BooleanField("Prefer complete weekends (both days worked or both off)")
    forbidden_sequences = StringField(
        "Forbidden sequences", validators=[Optional(), Length(max=300)],
        description="Shift codes on consecutive days, separated by commas, e.g. “N E, N L”. Pairs that break "
                    "the minimum rest are forbidden anyway.")
    contract_tolerance_minutes = _number("Contract tolerance (minutes per period)", 0, 2400,
                                         "How far worked hours may fall short of, or exceed, the contract.")
    high_priority_quota = _number("High-priority requests per nurse per period", 0, 20)
    swaps_need_approval = BooleanField("Swaps need a manager's approval")
    optimiser_time_limit_s = _number("Optimiser time limit (seconds)", 5, 1800)
    version = HiddenField()
    submit = SubmitField("Save rules")


class WeightsForm(FlaskForm):
    """Weights of the soft rules; built with one field per weight by ``weights_form``."""


def weights_form(defaults: dict[str, int], labels: dict[str, str], data: dict[str, int] | None = None,
                 formdata=None) -> FlaskForm:
    class _Form(WeightsForm):
        pass

    for name, value in defaults.items():
        setattr(_Form, f"w_{name}", IntegerField(labels.get(name, name), default=value,
                                                 validators=[InputRequired(), NumberRange(min=0, max=100000)]))
    return _Form(formdata=formdata, data={f"w_{k}": v for k, v in (data or {}).items()}, prefix="weights")


class CoverForm(FlaskForm):
    shift_type_id = SelectField("Shift", coerce=int, validators=[DataRequired()])
    day_type = SelectField("Days", validators=[DataRequired()])
    kind = SelectField("Counts", validators=[DataRequired()])
    grade_id = SelectField("Grade", coerce=int, validators=[Optional()],
                           description="For “a grade or senior”: a charge nurse counts as an RN; an HCA never does.")
    skill_id = SelectField("Skill", coerce=int, validators=[Optional()])
    minimum = _number("Minimum", 0, 50, "Never fewer (a hard rule).")
    ideal = _number("Ideal", 0, 50, "Aim for this many.")
    submit = SubmitField("Save cover row")

    def fill(self, shift_types, grades, skills) -> None:
        self.shift_type_id.choices = choices([(s.id, f"{s.name} ({s.code})") for s in shift_types])
        self.day_type.choices = choices([(d.value, label) for d, label in DAY_TYPE_LABELS.items()])
        self.kind.choices = choices([(k.value, label) for k, label in KIND_LABELS.items()])
        self.grade_id.choices = choices([(0, "—")] + [(g.id, g.name) for g in grades])
        self.skill_id.choices = choices([(0, "—")] + [(s.id, s.name) for s in skills])

    def validate_ideal(self, field: IntegerField) -> None:
        if self.minimum.data is not None and field.data is not None and field.data < self.minimum.data:
            raise ValidationError("The ideal cannot be below the minimum.")

    def validate_grade_id(self, field: SelectField) -> None:
        if self.kind.data == RequirementKind.GRADE.value and not field.data:
            raise ValidationError("Choose the grade this row counts.")

    def validate_skill_id(self, field: SelectField) -> None:
        if self.kind.data == RequirementKind.SKILL.value and not field.data:
            raise ValidationError("Choose the skill this row counts.")


class CopyCoverForm(FlaskForm):
    source = SelectField("Copy from", validators=[DataRequired()])
    target = SelectField("onto", validators=[DataRequired()])
    submit = SubmitField("Copy cover")

    def fill(self) -> None:
        pairs = [(d.value, label) for d, label in DAY_TYPE_LABELS.items()]
        self.source.choices = choices(pairs)
        self.target.choices = choices(pairs)


class PeriodForm(FlaskForm):
    start_date = DateField("First day", validators=[DataRequired()])
    days = _number("Length in days", 7, 84, "Usually 28 (four weeks).")
    requests_open_on = DateField("Requests open on", validators=[DataRequired()])
    requests_close_on = DateField("Requests close on", validators=[DataRequired()],
                                  description="On or before the first day.")
    submit = SubmitField("Add period")


class RequestWindowForm(FlaskForm):
    requests_open_on = DateField("Requests open on", validators=[DataRequired()])
    requests_close_on = DateField("Requests close on", validators=[DataRequired()])
    version = HiddenField()
    submit = SubmitField("Save request window")


class OptimiseForm(FlaskForm):
    time_limit_s = IntegerField("Time limit (seconds)", validators=[InputRequired(message="Enter a time limit."),
                                                                    NumberRange(min=1, max=1800)],
                                description="The optimiser always stops by then and keeps the best roster found.")
    submit = SubmitField("Optimise")


class CellForm(FlaskForm):
    shift_type_id = SelectField("Shift", coerce=int, validators=[Optional()])
    is_locked = BooleanField("Lock this shift (re-optimising keeps it)")
    version = HiddenField()
    check = SubmitField("Check against the rules")
    submit = SubmitField("Save")


class PublishForm(FlaskForm):
    note = StringField("Note for the version history", validators=[Optional(), Length(max=300)])
    version = HiddenField(validators=[DataRequired(message="Reload the page and publish again.")])
    submit = SubmitField("Publish")


class SickCallForm(FlaskForm):
    staff_id = SelectField("Who is absent", coerce=int, validators=[DataRequired(message="Choose a person.")])
    start_date = DateField("First day of absence", validators=[DataRequired()])
    end_date = DateField("Last day of absence", validators=[DataRequired()])
    note = TextAreaField("Note (not shown to colleagues)", validators=[Optional(), Length(max=300)])
    time_limit_s = IntegerField("Repair time limit (seconds)", default=20,
                                validators=[InputRequired(), NumberRange(min=1, max=600)])
    base_roster_id = HiddenField()
    submit = SubmitField("Record absence and repair the roster")

    def validate_end_date(self, field: DateField) -> None:
        if self.start_date.data and field.data and field.data < self.start_date.data:
            raise ValidationError("The last day cannot be before the first.")
