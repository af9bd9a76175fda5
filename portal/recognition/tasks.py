"""Background jobs for recognition: the survey import pipeline (parse, match, redact, insert)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from portal.extensions import db
from portal.jobs import job
from portal.recognition import services
from portal.recognition.models import SurveyImport


@job
def run_survey_import(import_id: int) -> dict[str, int]:
    """Import a queued survey file; the worker commits once (all rows, or none and the errors)."""
    run = db.session.get(SurveyImport, import_id)
    if run is None or run.status != "queued":
        return {"added": 0}
    try:
        outcome = services.process_import(run, Path(current_app.instance_path) / "uploads")
    except Exception:
        # Nothing half-imported: undo every row, then record the failure for the person waiting.
        current_app.logger.exception("Survey import %s failed", import_id)
        db.session.rollback()
        services.mark_import_failed(import_id, "Something went wrong on our side while importing; nothing was "
                                               "added. Try again, and tell an administrator if it happens again.")
        return {"added": 0, "errors": 1}
    return {"added": outcome.added, "already_imported": outcome.already_imported, "errors": len(outcome.errors)}
