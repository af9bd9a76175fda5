"""Form pieces shared by every blueprint."""

from flask_wtf import FlaskForm


class ConfirmForm(FlaskForm):
    """An empty form: gives POST-only buttons their CSRF token and a validation step."""


def choices(pairs):
    """Turn (value, label) pairs into WTForms select choices."""
    from wtforms.fields.choices import SelectChoice

    return [SelectChoice(value, label) for value, label in pairs]
