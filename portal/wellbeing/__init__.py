"""Wellbeing: fatigue and fairness measured from rosters, anonymous pulse check-ins.

The blueprint is registered now so that the package layout is fixed; it has no pages yet,
because a page exists only when it works. Its models, services and views arrive with the
wellbeing issue.
"""

from flask import Blueprint

bp = Blueprint("wellbeing", __name__, url_prefix="/wellbeing")
