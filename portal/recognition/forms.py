"""Recognition forms. Select choices are filled in by the views with portal.forms.choices."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import choices
from portal.recognition.scoring import Experience


class CheckboxListField(SelectMultipleField):
    """Several choices shown as labelled checkboxes (easier than a multi-select on a phone)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RecognitionForm(FlaskForm):
    staff_ids = CheckboxListField("Who are you recognising?", coerce=int, validators=[DataRequired(message="Choose at least one colleague.")],
                                  description="Tick one or more colleagues. They are listed by ward: open a ward to see its staff.")
    message = TextAreaField("What did they do?", validators=[DataRequired(message="Write a few words about what they did."), Length(max=2000)],
                            description="Say what happened and what difference it made. Up to 2,000 characters.")
    values = CheckboxListField("Which of our values did it show?", validators=[DataRequired(message="Choose at least one value.")])
    visibility = RadioField("Who can see it?", default="everyone", choices=choices([
        ("everyone", "Everyone in the hospital feed"),
        ("private", "Only them and their manager"),
    ]))
    submit = SubmitField("Send recognition")


EXPERIENCE_CHOICES = [(str(int(e)), e.label) for e in (
    Experience.VERY_GOOD, Experience.GOOD, Experience.NEITHER, Experience.POOR, Experience.VERY_POOR,
    Experience.DONT_KNOW)]
RECOMMEND_CHOICES = [(str(n), str(n)) for n in range(11)]


class PublicFeedbackForm(FlaskForm):
    """The patient's form: no sign-in, short and clear on a phone."""

    experience = RadioField("Overall, how was your experience of our ward?", choices=choices(EXPERIENCE_CHOICES),
                            validators=[Optional()])
    recommend = RadioField("How likely are you to recommend this ward to friends and family?",
                           choices=choices(RECOMMEND_CHOICES), validators=[Optional()],
                           description="0 means not at all likely, 10 means extremely likely.")
    thanks = StringField("Is there anyone you would like to thank?", validators=[Optional(), Length(max=200)],
                         description="Their name if you know it, or something about them, for example “Sam on the night shift”.")
    comment = TextAreaField("Tell us about your care", validators=[Optional(), Length(max=2000)],
                            description="What went well, and what could we do better? Please do not include "
                                        "your own or anyone else's personal details.")
    nominate = BooleanField("Nominate the person you thanked for our staff award")
    wants_contact = BooleanField("I am happy to be contacted about my feedback")
    contact = StringField("Phone number or e-mail address", validators=[Optional(), Length(max=200)],
                          description="Only if you ticked the box above. Only the ward manager will see it.")
    # Honeypot: hidden from people by CSS and from screen readers; bots fill it in.
    website = StringField("Leave this box empty", validators=[Optional(), Length(max=200)])
    submit = SubmitField("Send feedback")

    def validate_wants_contact(self, field: BooleanField) -> None:
        # Checked here: the contact box's Optional() validator would stop its own inline check.
        if field.data and not (self.contact.data or "").strip():
            raise ValidationError("Give a phone number or e-mail address below, or untick this box.")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.experience.data or self.recommend.data or (self.thanks.data or "").strip()
                or (self.comment.data or "").strip()):
            self.comment.errors = [*self.comment.errors, "Answer at least one question before sending."]
            return False
        return valid


class ModerationForm(FlaskForm):
    staff_ids = CheckboxListField("Who is the patient thanking?", coerce=int, validators=[Optional()],
                                  description="The names the portal found are ticked. Change them if it picked the wrong person; staff are listed by ward.")
    note = TextAreaField("Note (if rejecting)", validators=[Optional(), Length(max=1000)],
                         description="Why it was rejected; seen by managers only.")
    approve = SubmitField("Approve as patient praise")
    reassign = SubmitField("Save the names only")
    recovery = SubmitField("Move to service recovery")
    reject = SubmitField("Reject")


class RecoveryCloseForm(FlaskForm):
    note = TextAreaField("What was done?", validators=[DataRequired(message="Say briefly what was done."), Length(max=2000)])
    submit = SubmitField("Close this item")


ENCODING_CHOICES = [("utf-8", "UTF-8 (most exports)"), ("cp1252", "Windows-1252 (older Excel exports)")]


class SurveyUploadForm(FlaskForm):
    source = StringField("Survey source", validators=[DataRequired(), Length(max=80)],
                         description="The vendor or feed, e.g. “Friends and Family (vendor A)”. Its column mapping is remembered.")
    encoding = SelectField("Text encoding", choices=choices(ENCODING_CHOICES), default="utf-8")
    file = FileField("CSV export", validators=[FileRequired(), FileAllowed(["csv", "txt"], "Choose a .csv file.")])
    submit = SubmitField("Next: match the columns")


class SurveyMappingForm(FlaskForm):
    date = SelectField("Date of the response", validators=[DataRequired()])
    ward = SelectField("Ward (code or name)", validators=[DataRequired()])
    experience = SelectField("Overall experience", validators=[Optional()])
    recommend = SelectField("Likelihood to recommend (0–10)", validators=[Optional()])
    comment = SelectField("Comment", validators=[Optional()])
    response_id = SelectField("Response ID", validators=[Optional()],
                              description="A unique reference per response, if the export has one.")
    experience_codes = SelectField("Experience codes", choices=choices([
        ("fft", "1 = very good … 5 = very poor (NHS standard)"),
        ("reversed", "5 = very good … 1 = very poor"),
    ]), default="fft", description="Only matters if the file has numbers rather than words.")
    submit = SubmitField("Import")

    def set_columns(self, header: list[str]) -> None:
        named = [(h, h) for h in header if h]
        self.date.choices = choices(named)
        self.ward.choices = choices(named)
        for name in ("experience", "recommend", "comment", "response_id"):
            self[name].choices = choices([("", "— not in this file —"), *named])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.experience.data or self.recommend.data or self.comment.data):
            # Not an inline validate_comment: Optional() stops the chain when the comment is blank.
            self.comment.errors = [*self.comment.errors,
                                   "Choose at least one of the experience, recommend or comment columns."]
            return False
        return valid


class ServiceValueForm(FlaskForm):
    name = StringField("Value", validators=[DataRequired(), Length(max=80)])
    description = StringField("What it looks like in practice", validators=[Optional(), Length(max=300)])
    submit = SubmitField("Add value")


class CommitteeForm(FlaskForm):
    # Any existing account's address; the service looks it up, so no format check is needed here.
    email = EmailField("E-mail address of their account", validators=[DataRequired(), Length(max=254)])
    submit = SubmitField("Add to the committee")


class CycleForm(FlaskForm):
    title = StringField("Award name", validators=[DataRequired(), Length(max=120)],
                        description="For example “Compassion award, spring 2026”.")
    criteria = TextAreaField("Criteria", validators=[DataRequired(), Length(max=2000)],
                             description="One per line. The committee scores each from 1 to 5.",
                             default="Compassion shown to patients and families\nGoing beyond what the job asks\nA lasting difference to patients or colleagues")
    opens_on = DateField("Nominations open", validators=[DataRequired()])
    closes_on = DateField("Nominations close", validators=[DataRequired()])
    submit = SubmitField("Open nominations")

    def validate_closes_on(self, field: DateField) -> None:
        if field.data and self.opens_on.data and field.data < self.opens_on.data:
            raise ValidationError("Nominations cannot close before they open.")


class NominationForm(FlaskForm):
    staff_id = SelectField("Who are you nominating?", coerce=int, validators=[DataRequired()])
    reason = TextAreaField("Why do they deserve it?", validators=[DataRequired(), Length(min=20, max=2000, message="Write at least 20 characters (and under 2,000): tell the committee what they did.")],
                           description="Tell the committee what they did. The committee will not see your name.")
    submit = SubmitField("Send nomination")


SCORE_CHOICES = [("", "Choose"), ("1", "1 – not shown"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5 – outstanding")]


def score_form(criteria: list[str], prefix: str, formdata=None) -> FlaskForm:
    """A form with one 1–5 select per criterion, named criterion_0, criterion_1, …"""

    class ScoreForm(FlaskForm):
        submit = SubmitField("Save scores")

    for index, criterion in enumerate(criteria):
        setattr(ScoreForm, f"criterion_{index}", SelectField(
            criterion, choices=choices(SCORE_CHOICES),
            validators=[DataRequired(message="Give this criterion a score from 1 to 5.")]))
    return ScoreForm(prefix=prefix) if formdata is None else ScoreForm(formdata=formdata, prefix=prefix)


class AnnounceForm(FlaskForm):
    nomination_id = SelectField("Winner", coerce=int, validators=[DataRequired()])
    submit = SubmitField("Announce the winner")
