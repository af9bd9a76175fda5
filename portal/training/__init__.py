"""Training and Schwartz Rounds: sessions, registration, protected time, attendance, certificates.

The blueprint is registered now so that the package layout is fixed; it has no pages yet,
because a page exists only when it works. Its models, services and views arrive with the
training issue.
"""

from flask import Blueprint

bp = Blueprint("training", __name__, url_prefix="/training")
