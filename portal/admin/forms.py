"""Administration forms."""

from __future__ import annotations

import re


from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from portal.forms import choices
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp, ValidationError


class WardForm(FlaskForm):
    name = StringField("Ward name", validators=[DataRequired(), Length(max=120)])
    code = StringField(
        "Short code",
        validators=[DataRequired(), Length(max=20), Regexp(r"^[A-Za-z0-9-]+$", message="Letters, digits and hyphens only.")],
        description="Used in exports and calendar entries, e.g. W7 or ICU.",
    )
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    is_active = BooleanField("Active", default=True)
    version = HiddenField()
    submit = SubmitField("Save ward")


class SkillForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=30), Regexp(r"^[A-Za-z0-9_-]+$", message="Letters, digits, hyphens and underscores only.")])
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    submit = SubmitField("Add skill")


class ShiftTypeForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=10), Regexp(r"^[A-Za-z0-9]+$", message="Letters and digits only.")], description="One or two letters shown in the roster grid, e.g. E, L, N, LD.")
    name = StringField("Name", validators=[DataRequired(), Length(max=60)])
    start_time = TimeField("Starts", validators=[DataRequired()])
    end_time = TimeField("Ends", validators=[DataRequired()], description="An end earlier than the start means the shift crosses midnight.")
    paid_minutes = IntegerField("Paid minutes", validators=[DataRequired(), NumberRange(min=1, max=1440)], description="Length less unpaid breaks.")
    colour = StringField("Colour", validators=[DataRequired(), Regexp(r"^#[0-9a-fA-F]{6}$", message="A colour like #3b6ea5.")], default="#3b6ea5")
    is_night = BooleanField("Night shift")
    is_active = BooleanField("In use", default=True)
    version = HiddenField()
    submit = SubmitField("Save shift type")

    def validate_paid_minutes(self, field: IntegerField) -> None:
        if self.start_time.data and self.end_time.data and field.data:
            start = self.start_time.data.hour * 60 + self.start_time.data.minute
            end = self.end_time.data.hour * 60 + self.end_time.data.minute
            length = (end - start) % 1440 or 1440
            if field.data > length:
                raise ValidationError(f"Paid minutes cannot exceed the shift's length ({length} minutes).")


class StaffForm(FlaskForm):
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    known_as = StringField("Known as", validators=[Optional(), Length(max=80)], description="The name colleagues use, if different.")
    email = EmailField("Work e-mail", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    employee_number = StringField("Employee number", validators=[DataRequired(), Length(max=30)])
    grade_id = SelectField("Grade", coerce=int, validators=[DataRequired()])
    ward_id = SelectField("Ward", coerce=int, validators=[DataRequired()])
    skill_ids = SelectMultipleField("Skills", coerce=int, validators=[Optional()])
    hours_per_week = DecimalField("Contracted hours per week", places=2, validators=[DataRequired(), NumberRange(min=0, max=80)])
    may_work_nights = BooleanField("May work nights", default=True)
    contract_start = DateField("Contract starts", validators=[DataRequired()])
    contract_end = DateField("Contract ends", validators=[Optional()])
    is_active = BooleanField("Active", default=True)
    version = HiddenField()
    submit = SubmitField("Save")

    def validate_contract_end(self, field: DateField) -> None:
        if field.data and self.contract_start.data and field.data < self.contract_start.data:
            raise ValidationError("The contract cannot end before it starts.")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=choices([("manager", "Manager of a ward"), ("admin", "Administrator")]))
    ward_id = SelectField("Ward (for managers)", coerce=int, validators=[Optional()])
    submit = SubmitField("Grant role")


class ImportForm(FlaskForm):
    file = FileField("Staff CSV file", validators=[FileRequired(), FileAllowed(["csv", "txt"], "Choose a .csv file.")])
    submit = SubmitField("Check file")


class ImportConfirmForm(FlaskForm):
    upload_id = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{32}$")])
    submit = SubmitField("Import these staff")


