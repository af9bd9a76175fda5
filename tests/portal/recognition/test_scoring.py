"""Tests for portal.recognition.scoring."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.recognition.scoring import (
    SUPPRESSION_THRESHOLD,
    Experience,
    experience_score,
    is_negative,
    nps,
    parse_experience,
    parse_recommend,
    summarise,
    suppress,
)

E = Experience


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Very good", E.VERY_GOOD),
        ("VERY GOOD", E.VERY_GOOD),
        ("  very  good ", E.VERY_GOOD),
        ("Good", E.GOOD),
        ("Neither good nor poor", E.NEITHER),
        ("neither good or poor", E.NEITHER),
        ("Poor", E.POOR),
        ("Very Poor", E.VERY_POOR),
        ("Don't know", E.DONT_KNOW),
        ("Don\u2019t Know", E.DONT_KNOW),
        ("dont know", E.DONT_KNOW),
        ("1 - Very good", E.VERY_GOOD),
        ("Very poor (5)", E.VERY_POOR),
        ("Extremely likely", E.VERY_GOOD),
        ("1", E.VERY_GOOD),
        ("5", E.VERY_POOR),
        ("6", E.DONT_KNOW),
        (2, E.GOOD),
        (4.0, E.POOR),
        ("3.0", E.NEITHER),
        (E.GOOD, E.GOOD),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_parse_experience(value, expected):
    assert parse_experience(value) is expected


def test_reversed_codes():
    assert parse_experience("5", codes="reversed") is E.VERY_GOOD
    assert parse_experience(1, codes="reversed") is E.VERY_POOR
    assert parse_experience("6", codes="reversed") is E.DONT_KNOW
    # labels are not affected by the coding
    assert parse_experience("Very good", codes="reversed") is E.VERY_GOOD


@pytest.mark.parametrize("value", ["0", "7", -1, "excellent-ish", "meh", True, 2.5, [1]])
def test_parse_experience_rejects(value):
    with pytest.raises(ValueError, match="experience"):
        parse_experience(value)


def test_parse_experience_bad_coding():
    with pytest.raises(ValueError, match="coding"):
        parse_experience("1", codes="backwards")


@pytest.mark.parametrize(
    "value, expected",
    [("0", 0), ("10", 10), (" 9 ", 9), ("9.0", 9), ("9/10", 9), ("7 out of 10", 7),
     ("10 - Extremely likely", 10), (8, 8), (6.0, 6), ("", None), (None, None)],
)
def test_parse_recommend(value, expected):
    assert parse_recommend(value) == expected


@pytest.mark.parametrize("value", ["11", "-1", "nine", "9.5", 9.5, True, "10/11", 12, object()])
def test_parse_recommend_rejects(value):
    with pytest.raises(ValueError, match="recommend"):
        parse_recommend(value)


def test_nps_examples():
    assert nps([10, 9, 9, 8, 0]) == pytest.approx(40.0)
    assert nps([10] * 5) == 100.0
    assert nps([6] * 5) == -100.0
    assert nps([7, 8, 7, 8, 7]) == 0.0
    assert nps([10, 10, 10, 10, None, None]) is None  # only 4 valid
    assert nps([]) is None


def test_nps_rejects_out_of_range():
    with pytest.raises(ValueError):
        nps([10, 11, 9, 9, 9])


def test_experience_score_examples():
    ratings = [E.VERY_GOOD, E.GOOD, E.NEITHER, E.POOR, E.VERY_GOOD, E.DONT_KNOW, None]
    assert experience_score(ratings) == pytest.approx(60.0)  # 3 of 5 valid
    assert experience_score([E.GOOD] * 4 + [E.DONT_KNOW]) is None  # 4 valid
    with pytest.raises(ValueError):
        experience_score(["Good"] * 5)


def test_suppression_threshold():
    assert SUPPRESSION_THRESHOLD == 5
    assert suppress(50.0, 4) is None
    assert suppress(50.0, 5) == 50.0
    assert nps([10] * 4) is None and nps([10] * 5) == 100.0


@settings(max_examples=300, database=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 10)), max_size=60))
def test_nps_is_bounded_and_suppressed(scores):
    result = nps(scores)
    valid = [s for s in scores if s is not None]
    if len(valid) < SUPPRESSION_THRESHOLD:
        assert result is None
    else:
        assert -100.0 <= result <= 100.0


@settings(max_examples=300, database=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(list(Experience))), max_size=60))
def test_experience_score_is_a_percentage(ratings):
    result = experience_score(ratings)
    valid = [r for r in ratings if r is not None and r is not E.DONT_KNOW]
    if len(valid) < SUPPRESSION_THRESHOLD:
        assert result is None
    else:
        assert 0.0 <= result <= 100.0


@pytest.mark.parametrize(
    "rating, recommend, text, expected",
    [
        (E.POOR, None, None, True),
        (E.VERY_POOR, 10, "lovely", True),
        (None, 3, None, True),
        (E.GOOD, 2, None, True),
        (E.VERY_GOOD, None, "she was never rude", False),
        (E.GOOD, None, None, False),
        (None, 8, "rude", False),
        (E.NEITHER, 5, "the nurse was rude to my dad", True),
        (E.DONT_KNOW, None, "I want to make a complaint", True),
        (None, None, "Unacceptable wait", True),
        (E.NEITHER, 6, "it was fine", False),
        (None, None, None, False),
    ],
)
def test_is_negative(rating, recommend, text, expected):
    assert is_negative(rating, recommend, text) is expected


def test_summarise():
    pairs = [(E.VERY_GOOD, 10), (E.GOOD, 9), (E.POOR, 3), (E.GOOD, None), (E.DONT_KNOW, 7), (None, 8)]
    s = summarise(pairs)
    assert s.responses == 6
    assert s.experience_responses == 4
    assert s.experience_score is None  # 4 < 5: suppressed
    assert s.recommend_responses == 5
    assert s.nps == pytest.approx(20.0)
    assert not s.suppressed
    assert summarise([]).suppressed
