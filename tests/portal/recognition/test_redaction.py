"""Tests for portal.recognition.redaction: one group per identifier type."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.recognition.matching import NameMatcher, StaffName
from portal.recognition.redaction import (
    ABUSIVE,
    OTHER_SERVICE,
    classify,
    nhs_number_is_valid,
    redact,
)

STAFF = NameMatcher(
    [
        StaffName(1, "Sarah Jones", ward_ids=frozenset({1})),
        StaffName(2, "Amy O'Neill", ward_ids=frozenset({1})),
        StaffName(3, "Katherine Smith", ward_ids=frozenset({1})),
        StaffName(4, "Raj Patel", ward_ids=frozenset({1})),
    ]
)


def kinds(text: str, **kw) -> set[str]:
    return redact(text, STAFF, ward_id=1, **kw).kinds


# Each case: text, the substring that must disappear.
CASES = {
    "email": [
        ("Email me at jo.bloggs@example.com please", "jo.bloggs@example.com"),
        ("contact: a_b+feedback@nhs.net.", "a_b+feedback@nhs.net"),
        ("MY EMAIL IS JANE.DOE@MAIL.CO.UK", "JANE.DOE@MAIL.CO.UK"),
    ],
    "phone": [
        ("Call me on 07700 900123 any time", "07700 900123"),
        ("mobile 07700900123", "07700900123"),
        ("ring +44 7700 900123", "+44 7700 900123"),
        ("landline (020) 7946 0958", "(020) 7946 0958"),
        ("0161 496 0000 is the home number", "0161 496 0000"),
        ("call 0044 20 7946 0958.", "0044 20 7946 0958"),
        ("tel 01632-960-000", "01632-960-000"),
    ],
    "nhs_number": [
        ("my NHS number is 943 476 5919", "943 476 5919"),
        ("NHS no. 9434765919", "9434765919"),
        ("ref 401-023-2137 on the letter", "401-023-2137"),
        ("number 1234567890 on my wristband", "1234567890"),  # invalid check digit: still redacted
    ],
    "hospital_number": [
        ("My hospital number is 1234567", "1234567"),
        ("hospital no: RX123456", "RX123456"),
        ("MRN K1234567 on the wristband", "K1234567"),
        ("his unit number 0045678 was wrong", "0045678"),
        ("band said AB12345678", "AB12345678"),
    ],
    "date_of_birth": [
        ("DOB 12/03/1948", "12/03/1948"),
        ("date of birth: 3rd March 1950", "3rd March 1950"),
        ("she was born on 5.6.52 in Leeds", "5.6.52"),
        ("My dad (14 February 1939) was treated well", "14 February 1939"),
        ("born in 1947, never been in hospital before", "1947"),
        ("d.o.b. 1961-07-04", "1961-07-04"),
        ("March 3, 1944 is his birthday", "March 3, 1944"),
    ],
    "address": [
        ("I live at 14 Acacia Avenue and", "14 Acacia Avenue"),
        ("send it to 221B Baker Street.", "221B Baker Street"),
        ("Flat 3, 27 Mill Lane please", "Flat 3, 27 Mill Lane"),
        ("12 High St, Leeds LS1 4AB", "12 High St, Leeds LS1 4AB"),
    ],
    "postcode": [
        ("we live in LS1 4AB", "LS1 4AB"),
        ("postcode SW1A 1AA.", "SW1A 1AA"),
        ("M1 1AE area", "M1 1AE"),
    ],
    "name": [
        ("My husband John was looked after", "John"),
        ("my mum jean loved the food", "jean"),
        ("Mrs Okafor in the next bed", "Okafor"),
        ("Mr Hargreaves-Smythe was loud", "Hargreaves-Smythe"),
        ("I'm Priya and I was a patient", "Priya"),
        ("my name is Dave Thomas", "Dave Thomas"),
        ("the patient Joan next to me", "Joan"),
        ("a man called Bartholomew Quigley", "Bartholomew Quigley"),
        ("thanks to Deborah from the tea trolley", "Deborah"),
    ],
}


@pytest.mark.parametrize(
    "kind, text, secret",
    [(kind, text, secret) for kind, cases in CASES.items() for text, secret in cases],
)
def test_each_identifier_type_is_redacted(kind, text, secret):
    result = redact(text, STAFF, ward_id=1)
    assert secret not in result.text, result.text
    assert kind in result.kinds, result.found
    for found_kind, (start, end) in result.found:
        assert 0 <= start < end <= len(text)


@pytest.mark.parametrize(
    "text",
    [
        "Seen on ward 7 at 7.30 and home by 10",
        "10 out of 10 for the nurses",
        "I'd give them 9/10",
        "admitted on 12/03/2024 and discharged 14.03.2024",
        "bed 12, bay 3, room 101",
        "waited 3 hours for 2 tablets",
        "Sarah Jones and Amy were brilliant",
        "Thanks to Kate and Raj",
        "Everyone on Rose Ward was lovely",
        "I was there from 2019 to 2021",
        "The B2 bus was late",
        "about 100 patients",
        "Staff were kind, food was good.",
        "The care was first class.",
    ],
)
def test_negatives_are_left_alone(text):
    result = redact(text, STAFF, ward_id=1)
    assert result.text == text, result.found


def test_staff_names_kept_patient_names_removed():
    text = "My wife Sarah was cared for by Sarah Jones and Amy. Mrs Okafor in bed 2 agreed."
    out = redact(text, STAFF, ward_id=1).text
    assert out == "My wife [name] was cared for by Sarah Jones and Amy. Mrs [name] in bed 2 agreed."


def test_courtesy_title_with_ward_staff_surname_is_kept_as_staff():
    # Documented trade-off: "Mr Patel" on a ward with a staff member Patel
    # is taken to be that member of staff (consultant surgeons are "Mr").
    assert redact("Mr Patel explained", STAFF, ward_id=1).text == "Mr Patel explained"


def test_plain_set_of_staff_names():
    out = redact("Amy looked after my mum Joan", {"Amy O'Neill"}).text
    assert out == "Amy looked after my mum [name]"
    out = redact("Amy looked after my daughter Amy", {"Amy O'Neill"}).text
    assert out == "Amy looked after my daughter [name]"


def test_precomputed_matches_are_used():
    text = "Sarah was kind to my husband Tom"
    analysis = STAFF.analyse(text, 1, {1})
    out = redact(text, STAFF, matches=analysis)
    assert out.text == "Sarah was kind to my husband [name]"


def test_found_spans_point_into_original():
    text = "DOB 01/02/1950, phone 07700 900123, email a@b.co"
    result = redact(text, STAFF)
    assert [text[s:e] for _, (s, e) in result.found] == ["01/02/1950", "07700 900123", "a@b.co"]


@pytest.mark.parametrize(
    "text, expected",
    [
        # Regression: the pattern used to take the opening bracket with the number.
        ("Ring me (07700 900321) any time", "Ring me ([phone]) any time"),
        ("call (0161 496 0000).", "call ([phone])."),
        ("mobile (+44 7700 900123)", "mobile ([phone])"),
        ("(+44 (0) 7700 900123) ok", "([phone]) ok"),
        # A bracketed area code is part of the number.
        ("landline (020) 7946 0958 please", "landline [phone] please"),
        ("ring +44 (7700) 900123 ok", "ring [phone] ok"),
        # A stray closing bracket must not let the rest of the number through.
        ("0161) 496 0000 is home", "[phone] is home"),
    ],
)
def test_brackets_around_phone_numbers_stay_balanced(text, expected):
    result = redact(text, STAFF)
    assert result.text == expected
    assert [kind for kind, _ in result.found] == ["phone"]


def test_empty_text():
    assert redact("", STAFF).text == ""
    assert redact("", STAFF).found == []


def test_nhs_check_digit():
    assert nhs_number_is_valid("943 476 5919")
    assert not nhs_number_is_valid("943 476 5918")
    assert not nhs_number_is_valid("12345")


# --- properties ------------------------------------------------------------

def _with_check_digit(nine: str) -> str | None:
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        return None
    return nine + str(check)


_FILLER = st.text(alphabet="abcdefghij KLMNOP.,!?:()-'", max_size=30)
_NINE = st.text(alphabet="0123456789", min_size=9, max_size=9)
_NHS_RE = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")


@settings(max_examples=300, database=None, deadline=None)
@given(_FILLER, _NINE, st.sampled_from(["plain", "spaced", "dashed"]), _FILLER)
def test_redact_never_leaves_a_valid_nhs_number(before, nine, style, after):
    number = _with_check_digit(nine)
    if number is None:
        return
    if style == "spaced":
        number = f"{number[:3]} {number[3:6]} {number[6:]}"
    elif style == "dashed":
        number = f"{number[:3]}-{number[3:6]}-{number[6:]}"
    out = redact(f"{before} {number} {after}", STAFF).text
    for m in _NHS_RE.finditer(out):
        assert not nhs_number_is_valid(m.group()), out


_LOCAL = st.text(alphabet="abcxyz019._+-", min_size=1, max_size=12).filter(
    lambda s: s[0] not in "._+-"
)
_LABEL = st.text(alphabet="abcdefxyz0123", min_size=1, max_size=8)


@settings(max_examples=300, database=None, deadline=None)
@given(_FILLER, _LOCAL, _LABEL, st.sampled_from(["com", "co.uk", "nhs.net", "org"]), _FILLER)
def test_redact_never_leaves_an_email(before, local, domain, tld, after):
    out = redact(f"{before} {local}@{domain}.{tld} {after}", STAFF).text
    assert "@" not in out, out


@settings(max_examples=200, database=None, deadline=None)
@given(st.text(alphabet="abcSJK 0123456789@.+-/()'\n", max_size=80))
def test_redact_is_total_and_idempotent(text):
    once = redact(text, STAFF, ward_id=1)
    for _, (start, end) in once.found:
        assert 0 <= start < end <= len(text)
    twice = redact(once.text, STAFF, ward_id=1)
    assert twice.text == once.text


# --- classify --------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "the nurses are fucking useless",
        "What a load of SHIT",
        "that stupid cow on reception",
        "I'll find you and make you pay",
        "she should be shot",
        "absolute morons the lot of them",
        "f*** this place",
    ],
)
def test_abusive(text):
    assert ABUSIVE in classify(text)


@pytest.mark.parametrize(
    "text",
    [
        "Lovely staff, thank you",
        "Scunthorpe General was fine",  # no substring matches
        "My shitake mushroom soup was cold",
        "The assistant was kind",
        "I was in bed cocooned in blankets",
    ],
)
def test_not_abusive(text):
    assert ABUSIVE not in classify(text)


@pytest.mark.parametrize(
    "text",
    [
        "Parking was a nightmare",
        "the car park charges are a rip off",
        "Waited 9 hours in A&E",
        "waited in A and E for ages",
        "My GP never sent the letter",
        "the pharmacy took 4 hours for my discharge meds",
        "the ambulance was late",
        "ED was packed",
        "the hospital transport never came",
        "the outpatients clinic lost my notes",
    ],
)
def test_other_service(text):
    assert OTHER_SERVICE in classify(text)


@pytest.mark.parametrize(
    "text", ["The nurses on the ward were great", "Ed was lovely", "edited", "Great care"]
)
def test_not_other_service(text):
    assert OTHER_SERVICE not in classify(text)


def test_classify_empty():
    assert classify("") == set()
