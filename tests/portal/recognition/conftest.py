"""Fixtures for recognition tests: a ward with a few named staff, and patient feedback helpers."""

from __future__ import annotations

from datetime import date

import pytest

from portal.recognition import services
from portal.recognition.scoring import Experience
from tests import factories


@pytest.fixture
def team(org, ward, other_ward, users):
    """Named staff on Ward 7 (besides Nina Nurse and Mo Manager) and one on Ward 12."""
    return {
        "amara": factories.create_staff(org, ward, "Amara Okafor"),
        "tomasz": factories.create_staff(org, ward, "Tomasz Nowak"),
        "priya": factories.create_staff(org, other_ward, "Priya Sharma"),
    }


@pytest.fixture
def submit_feedback(ward):
    """Record public-form feedback on Ward 7 through the service."""

    def _submit(comment: str = "", *, thanks: str = "", experience: Experience | None = Experience.VERY_GOOD,
                recommend: int | None = 10, contact: str = "", on_ward=None):
        return services.submit_public_feedback(
            on_ward or ward, experience=experience, recommend=recommend, thanks=thanks, comment=comment,
            wants_contact=bool(contact), contact=contact, wants_nomination=False, day=date.today())

    return _submit
