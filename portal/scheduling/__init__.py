"""Scheduling: roster periods, requests and leave, the optimiser, drafts, publishing, swaps."""

from flask import Blueprint

bp = Blueprint("scheduling", __name__, url_prefix="/scheduling")

from portal.scheduling import models  # noqa: E402,F401
from portal.scheduling import views  # noqa: E402,F401  (rosters: set-up, optimise, drafts, publish, sick calls)
from portal.scheduling import self_service_views  # noqa: E402,F401  (requests, leave, my roster, swaps, calendar)
