"""Survey import end to end: upload, column mapping remembered per source, all-or-nothing, idempotent."""

from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import func, select

from portal.recognition import services
from portal.recognition.models import FeedbackStatus, PatientFeedback, SurveyImport, SurveySource
from portal.recognition.survey_import import ColumnMapping
from tests.conftest import csrf_token_from

DAY = (date.today() - timedelta(days=3)).strftime("%d/%m/%Y")
GOOD_CSV = (
    "Response ID,Date,Ward,Overall experience,Recommend,Comments\n"
    f"R1,{DAY},W7,Very good,10,Amara was wonderful\n"
    f"R2,{DAY},Ward 7,Good,9,\n"
    f'R3,{DAY},w7,Very poor,1,"Nobody came, call 07700 900111"\n'
    f"R4,{DAY},W12,Very good,10,Priya made me laugh\n"
).encode()
BAD_CSV = (
    "Response ID,Date,Ward,Overall experience,Recommend,Comments\n"
    f"R1,{DAY},W7,Very good,10,Fine\n"
    f"R2,not a date,W7,Good,9,\n"
    f"R3,{DAY},Ward 99,Good,12,\n"
).encode()
MAPPING = {"date": "Date", "ward": "Ward", "experience": "Overall experience", "recommend": "Recommend",
           "comment": "Comments", "response_id": "Response ID", "experience_codes": "fft"}


def _count(db) -> int:
    return db.session.scalar(select(func.count(PatientFeedback.id)))


def _upload(client, data: bytes, source="Vendor A", encoding="utf-8", filename="export.csv"):
    page = client.get("/recognition/import").get_data(as_text=True)
    return client.post("/recognition/import", data={
        "csrf_token": csrf_token_from(page), "source": source, "encoding": encoding,
        "file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def _map(client, location: str, columns=None):
    page = client.get(location).get_data(as_text=True)
    return client.post(location, data={"csrf_token": csrf_token_from(page), **(columns or MAPPING)})


def test_import_with_mapping_then_again_adds_nothing(team, login_as, client, db, app):
    login_as("admin")
    response = _upload(client, GOOD_CSV)
    assert response.status_code == 302
    mapping_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Overall experience" in mapping_page
    done = _map(client, response.headers["Location"])
    assert done.status_code == 302
    status = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Imported 4 responses" in status
    assert _count(db) == 4
    amara = db.session.scalar(select(PatientFeedback).where(PatientFeedback.original_comment == "Amara was wonderful"))
    assert amara.status == FeedbackStatus.PENDING and amara.named_staff_ids == [team["amara"].id]
    negative = db.session.scalar(select(PatientFeedback).where(PatientFeedback.recommend == 1))
    assert negative.status == FeedbackStatus.RECOVERY and "07700" not in negative.redacted_comment
    # The mapping is remembered for the source: the second upload is pre-filled.
    source = db.session.scalar(select(SurveySource).where(SurveySource.name == "Vendor A"))
    assert source.mapping["comment"] == "Comments"
    again = _upload(client, GOOD_CSV, source="vendor a")
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert 'value="Comments" selected' in page or 'selected value="Comments"' in page
    done = _map(client, again.headers["Location"])
    status = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Imported 0 responses" in status and "4 were already in the portal" in status
    assert _count(db) == 4


def test_a_bad_file_changes_nothing_and_lists_every_row_problem(team, login_as, client, db):
    login_as("admin")
    response = _upload(client, BAD_CSV)
    done = _map(client, response.headers["Location"])
    html = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Nothing was imported" in html
    assert "not a date" in html and "unknown ward" in html and "out of range" in html
    assert _count(db) == 0
    run = db.session.scalar(select(SurveyImport).order_by(SurveyImport.id.desc()))
    assert run.status == "failed" and {e["line"] for e in run.errors} == {3, 4}


def test_wrong_encoding_is_explained_at_upload(team, login_as, client, db):
    login_as("admin")
    latin = "Date,Ward,Comments\n01/01/2025,W7,Café très bien – merci\n".encode("cp1252")
    response = _upload(client, latin)
    assert response.status_code == 200
    assert "not UTF-8" in response.get_data(as_text=True)
    ok = _upload(client, latin, encoding="cp1252")
    assert ok.status_code == 302


def test_not_a_csv_and_empty_files_get_clear_messages(team, login_as, client):
    login_as("admin")
    assert "Excel workbook" in _upload(client, b"PK\x03\x04rest-of-zip").get_data(as_text=True)
    assert "empty" in _upload(client, b"   ").get_data(as_text=True)
    assert "Choose a .csv file" in _upload(client, GOOD_CSV, filename="export.exe").get_data(as_text=True)


def test_missing_columns_change_nothing(team, org, db):
    mapping = ColumnMapping(date="Date", ward="Ward", comment="Free text")
    outcome = services.import_survey_rows(org, GOOD_CSV, mapping, source="Vendor B")
    assert not outcome.ok and "missing column" in outcome.message and "'Free text'" in outcome.message
    assert _count(db) == 0


def test_mapping_needs_a_score_or_comment_column(team, login_as, client, db):
    login_as("admin")
    response = _upload(client, GOOD_CSV)
    result = _map(client, response.headers["Location"], {"date": "Date", "ward": "Ward", "experience_codes": "fft"})
    assert result.status_code == 200
    assert "Choose at least one of the experience, recommend or comment columns" in result.get_data(as_text=True)
    assert _count(db) == 0
