"""Tests for portal.recognition.survey_import."""

from __future__ import annotations

from datetime import date

import pytest

from portal.recognition.scoring import Experience
from portal.recognition.survey_import import (
    ColumnMapping,
    SurveyFileError,
    parse_survey,
    read_header,
    row_fingerprint,
    suggest_mapping,
)

WARDS = {"Ward 7": 7, "Rose Ward": 1}.get
HEADER = "Response ID,Date,Ward,Overall experience,Recommend,Comments\n"
MAPPING = ColumnMapping(
    response_id="Response ID", date="Date", ward="Ward", experience="Overall experience",
    recommend="Recommend", comment="Comments",
)
NO_ID = ColumnMapping(
    date="Date", ward="Ward", experience="Overall experience", recommend="Recommend",
    comment="Comments",
)

GOOD = (
    HEADER
    + "R1,01/03/2024,Ward 7,Very good,10,Sarah was lovely\n"
    + 'R2,2024-03-02,Rose Ward,Poor,3,"Waited ages, nobody came"\n'
    + "R3,03/03/2024 14:05,Ward 7,Don't know,,\n"
    + 'R4,04/03/2024,Ward 7,,8,"Two\nlines"\n'
    + "\n"
    + "R5,05/03/2024,rose ward,Good,9,\n"
).encode("utf-8")


def lookup(value: str) -> int | None:
    return {"ward 7": 7, "rose ward": 1}.get(value.lower())


def test_good_file():
    result = parse_survey(GOOD, MAPPING, source="Vendor A", ward_lookup=lookup)
    assert result.ok and result.errors == []
    assert [r.response_id for r in result.rows] == ["R1", "R2", "R3", "R4", "R5"]
    r1, r2, r3, r4, r5 = result.rows
    assert r1.response_date == date(2024, 3, 1) and r1.ward_id == 7
    assert r1.experience is Experience.VERY_GOOD and r1.recommend == 10
    assert r1.comment == "Sarah was lovely" and r1.line_number == 2
    assert r2.comment == "Waited ages, nobody came" and r2.ward_id == 1
    assert r3.experience is Experience.DONT_KNOW and r3.recommend is None and r3.comment == ""
    assert r4.experience is None and r4.comment == "Two\nlines" and r4.line_number == 5
    assert r5.line_number == 8 and r5.ward_value == "rose ward"
    assert len({r.fingerprint for r in result.rows}) == 5


def test_utf8_bom_and_non_ascii():
    data = ("\ufeff" + HEADER + "R1,01/03/2024,Ward 7,Very good,10,Zoë was très kind – thanks\n").encode()
    result = parse_survey(data, MAPPING, source="A", ward_lookup=lookup)
    assert result.ok
    assert result.rows[0].comment == "Zoë was très kind – thanks"
    assert read_header(data)[0] == "Response ID"


def test_cp1252_refused_with_clear_message():
    data = (HEADER + "R1,01/03/2024,Ward 7,Very good,10,Zoë was kind – thanks\n").encode("cp1252")
    with pytest.raises(SurveyFileError) as info:
        parse_survey(data, MAPPING, source="A", ward_lookup=lookup)
    message = str(info.value)
    assert "not UTF-8" in message
    assert "byte 0xeb" in message and "line 2" in message
    assert "CSV UTF-8" in message


def test_cp1252_accepted_when_chosen():
    data = (HEADER + "R1,01/03/2024,Ward 7,Very good,10,Zoë was kind – thanks\n").encode("cp1252")
    mapping = ColumnMapping.from_dict({**MAPPING.to_dict(), "encoding": "cp1252"})
    result = parse_survey(data, mapping, source="A", ward_lookup=lookup)
    assert result.rows[0].comment == "Zoë was kind – thanks"


@pytest.mark.parametrize(
    "data, fragment",
    [
        (b"", "empty"),
        (b"PK\x03\x04rest-of-zip", "Excel workbook"),
        ("Date,Ward".encode("utf-16"), "UTF-16"),
        (HEADER.encode(), "no responses"),
        (b'Date,Ward\n"unterminated,x\n', "missing column"),
    ],
)
def test_file_level_errors(data, fragment):
    with pytest.raises(SurveyFileError, match=fragment):
        parse_survey(data, MAPPING, source="A")


def test_missing_columns_are_named():
    data = b"Response ID,Date,Location,Score\nR1,01/03/2024,Ward 7,1\n"
    with pytest.raises(SurveyFileError) as info:
        parse_survey(data, MAPPING, source="A")
    message = str(info.value)
    for column in ("'Ward'", "'Overall experience'", "'Recommend'", "'Comments'"):
        assert column in message
    assert "'Location'" in message  # the columns that are there are listed


def test_duplicate_header_rejected():
    data = b"Date,Ward,Ward,Comments\n01/03/2024,A,B,hi\n"
    mapping = ColumnMapping(date="Date", ward="Ward", comment="Comments")
    with pytest.raises(SurveyFileError, match="more than once"):
        parse_survey(data, mapping, source="A")


def test_bad_rows_reported_with_line_numbers_and_nothing_returned_as_ok():
    data = (
        HEADER
        + "R1,01/03/2024,Ward 7,Very good,10,fine\n"
        + "R2,31/02/2024,Ward 7,Good,9,bad date\n"
        + "R3,02/03/2024,Ward 99,Good,9,unknown ward\n"
        + "R4,02/03/2024,Ward 7,Brilliant,11,bad scores\n"
        + "R5,02/03/2024\n"
        + ",02/03/2024,Ward 7,Good,9,no id\n"
        + "R7,,,Good,9,no date or ward\n"
        + "R8,01/01/2030,Ward 7,Good,9,future\n"
    ).encode()
    result = parse_survey(data, MAPPING, source="A", ward_lookup=lookup, today=date(2024, 6, 1))
    assert not result.ok
    got = [(e.line_number, e.column) for e in result.errors]
    assert got == [
        (3, "Date"),
        (4, "Ward"),
        (5, "Overall experience"),
        (5, "Recommend"),
        (6, None),
        (7, "Response ID"),
        (8, "Date"),
        (8, "Ward"),
        (9, "Date"),
    ]
    messages = [str(e) for e in result.errors]
    assert "line 3, column 'Date': date '31/02/2024' is not in a recognised format" in messages
    assert "line 4, column 'Ward': unknown ward 'Ward 99'" in messages
    assert any("'Brilliant'" in m for m in messages)
    assert any("'11' is out of range" in m for m in messages)
    assert any("in the future" in m for m in messages)


def test_max_errors_truncates():
    rows = "".join(f"R{i},bad,Ward 7,Good,9,x\n" for i in range(20))
    result = parse_survey((HEADER + rows).encode(), MAPPING, source="A", max_errors=5)
    assert len(result.errors) == 5 and result.truncated


def test_duplicate_response_ids_within_file():
    data = (
        HEADER
        + "R1,01/03/2024,Ward 7,Very good,10,same\n"
        + "R1,01/03/2024,Ward 7,Very good,10,same\n"
        + "R2,01/03/2024,Ward 7,Good,9,first\n"
        + "R2,01/03/2024,Ward 7,Poor,2,changed\n"
    ).encode()
    result = parse_survey(data, MAPPING, source="A", ward_lookup=lookup)
    assert result.duplicate_lines == [3]
    assert [(e.line_number, e.column) for e in result.errors] == [(5, "Response ID")]
    assert "already used on line 4" in result.errors[0].message


def test_identical_rows_without_id_are_separate_responses_with_stable_fingerprints():
    body = "01/03/2024,Ward 7,Very good,10,\n" * 3 + "01/03/2024,Ward 7,Good,9,\n"
    data = ("Date,Ward,Overall experience,Recommend,Comments\n" + body).encode()
    first = parse_survey(data, NO_ID, source="A", ward_lookup=lookup)
    second = parse_survey(data, NO_ID, source="A", ward_lookup=lookup)
    assert len(first.rows) == 4
    assert len({r.fingerprint for r in first.rows}) == 4
    assert [r.fingerprint for r in first.rows] == [r.fingerprint for r in second.rows]


def test_fingerprint_stability():
    a = parse_survey(GOOD, MAPPING, source="Vendor A", ward_lookup=lookup)
    # same file again: same fingerprints, so a re-import adds nothing
    b = parse_survey(GOOD, MAPPING, source="Vendor A", ward_lookup=lookup)
    assert [r.fingerprint for r in a.rows] == [r.fingerprint for r in b.rows]
    # source spelling/case does not matter, the source itself does
    c = parse_survey(GOOD, MAPPING, source="  vendor a ", ward_lookup=lookup)
    assert [r.fingerprint for r in c.rows] == [r.fingerprint for r in a.rows]
    d = parse_survey(GOOD, MAPPING, source="Vendor B", ward_lookup=lookup)
    assert not {r.fingerprint for r in d.rows} & {r.fingerprint for r in a.rows}
    # without ids: fingerprint follows the normalised row, not formatting
    one = row_fingerprint("A", response_date=date(2024, 3, 1), ward_value="Ward 7",
                          experience=Experience.GOOD, recommend=9, comment="Nice  staff ")
    two = row_fingerprint("a", response_date=date(2024, 3, 1), ward_value="ward  7",
                          experience=Experience.GOOD, recommend=9, comment="Nice staff")
    assert one == two
    assert one != row_fingerprint("A", response_date=date(2024, 3, 2), ward_value="Ward 7",
                                  experience=Experience.GOOD, recommend=9, comment="Nice staff")
    # a known value, so an accidental change of the recipe is noticed
    assert row_fingerprint("A", response_id="R1") == row_fingerprint("a ", response_id=" R1")
    assert len(row_fingerprint("A", response_id="R1")) == 64


def test_reordered_and_reformatted_export_gives_same_fingerprints():
    other = (
        "Comments;Recommend;Overall experience;Ward;Date\n"
        "Nice;10;1;Ward 7;2024-03-01\n"
    ).encode()
    same = "Date,Ward,Overall experience,Recommend,Comments\n01/03/2024,Ward 7,Very good,10,Nice\n".encode()
    a = parse_survey(other, NO_ID, source="A", ward_lookup=lookup)
    b = parse_survey(same, NO_ID, source="A", ward_lookup=lookup)
    assert a.rows[0].fingerprint == b.rows[0].fingerprint


def test_blank_answers_are_skipped_not_errors():
    data = (HEADER + "R1,01/03/2024,Ward 7,,,\nR2,01/03/2024,Ward 7,Good,,\n").encode()
    result = parse_survey(data, MAPPING, source="A", ward_lookup=lookup)
    assert result.ok and result.skipped_blank == 1 and len(result.rows) == 1


def test_without_ward_lookup_ward_id_is_none():
    result = parse_survey(GOOD, MAPPING, source="A")
    assert {r.ward_id for r in result.rows} == {None}


def test_custom_date_format_and_reversed_codes():
    data = b"Date,Ward,Score\n03-01-2024,Ward 7,5\n"
    mapping = ColumnMapping(date="Date", ward="Ward", experience="Score",
                            date_formats=("%m-%d-%Y",), experience_codes="reversed")
    [row] = parse_survey(data, mapping, source="A").rows
    assert row.response_date == date(2024, 3, 1) and row.experience is Experience.VERY_GOOD


def test_mapping_validation_and_round_trip():
    assert ColumnMapping.from_dict(MAPPING.to_dict()) == MAPPING
    with pytest.raises(ValueError, match="at least one"):
        ColumnMapping(date="Date", ward="Ward")
    with pytest.raises(ValueError, match="two fields"):
        ColumnMapping(date="Date", ward="date", comment="x")
    with pytest.raises(ValueError, match="encoding"):
        ColumnMapping(date="Date", ward="Ward", comment="C", encoding="latin-9")
    with pytest.raises(ValueError, match="unknown mapping keys"):
        ColumnMapping.from_dict({"date": "D", "ward": "W", "comment": "C", "colour": "red"})


@pytest.mark.parametrize(
    "header, expected",
    [
        (
            ["Response ID", "Date", "Ward", "Overall experience", "Recommend", "Comments"],
            {"response_id": "Response ID", "date": "Date", "ward": "Ward",
             "experience": "Overall experience", "recommend": "Recommend", "comment": "Comments"},
        ),
        (
            ["Submitted At", "Department", "FFT Score", "NPS", "Please tell us why"],
            {"response_id": None, "date": "Submitted At", "ward": "Department",
             "experience": "FFT Score", "recommend": "NPS", "comment": "Please tell us why"},
        ),
        (
            ["respondent id", "Date Completed", "Ward name", "Q1 overall experience",
             "Q2 likelihood to recommend", "Q3 free text comments"],
            {"response_id": "respondent id", "date": "Date Completed", "ward": "Ward name",
             "experience": "Q1 overall experience", "recommend": "Q2 likelihood to recommend",
             "comment": "Q3 free text comments"},
        ),
        (["colour", "size"], {f: None for f in
                              ("response_id", "date", "ward", "experience", "recommend", "comment")}),
    ],
)
def test_suggest_mapping(header, expected):
    assert suggest_mapping(header) == expected


def test_semicolon_delimiter_header():
    assert read_header(b"Date;Ward;Comments\n01/03/2024;Ward 7;hi\n") == ["Date", "Ward", "Comments"]


def test_source_required():
    with pytest.raises(ValueError, match="source"):
        parse_survey(GOOD, MAPPING, source=" ")
