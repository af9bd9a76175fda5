"""Tests for portal.recognition.matching (pure, no app needed)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.recognition.matching import (
    NICKNAMES,
    Match,
    NameMatcher,
    StaffName,
    tokenize,
)

DATA = Path(__file__).parent / "data"
PRECISION_FLOOR = 0.95
RECALL_FLOOR = 0.90  # measured 0.978 on 155 comments; see docs/recognition-pipeline.md


def load_staff() -> list[StaffName]:
    rows = json.loads((DATA / "staff.json").read_text(encoding="utf-8"))
    return [
        StaffName(r["staff_id"], r["full_name"], r["known_as"], frozenset(r["ward_ids"]))
        for r in rows
    ]


def load_comments() -> list[dict]:
    lines = (DATA / "labelled_comments.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def matcher() -> NameMatcher:
    return NameMatcher(load_staff())


def evaluate(matcher: NameMatcher, comments: list[dict]) -> tuple[int, int, int, list]:
    tp = fp = fn = 0
    wrong = []
    for c in comments:
        predicted = {m.staff_id for m in matcher.match(c["text"], c["ward_id"], frozenset(c["rostered"]))}
        expected = set(c["expected"])
        tp += len(predicted & expected)
        fp += len(predicted - expected)
        fn += len(expected - predicted)
        if predicted != expected:
            wrong.append((c["id"], c["text"], sorted(predicted), sorted(expected)))
    return tp, fp, fn, wrong


def test_labelled_set_is_big_and_well_formed():
    comments = load_comments()
    staff_ids = {s.staff_id for s in load_staff()}
    assert len(comments) >= 120
    assert len({c["id"] for c in comments}) == len(comments)
    for c in comments:
        assert set(c["expected"]) <= staff_ids, c
        assert set(c["rostered"]) <= staff_ids, c
    # the set covers names that must NOT match, and comments with no names
    assert sum(1 for c in comments if not c["expected"]) >= 30


def test_precision_and_recall_on_labelled_set(matcher):
    tp, fp, fn, wrong = evaluate(matcher, load_comments())
    precision = tp / (tp + fp)
    recall = tp / (tp + fn)
    detail = "\n".join(map(str, wrong))
    assert precision >= PRECISION_FLOOR, f"precision {precision:.3f}\n{detail}"
    assert recall >= RECALL_FLOOR, f"recall {recall:.3f}\n{detail}"


def test_nickname_table_has_enough_entries():
    assert len(NICKNAMES) >= 40
    formal = {g[0] for g in NICKNAMES}
    for name in ("katherine", "william", "elizabeth", "margaret", "robert", "jonathan"):
        assert name in formal


def test_full_name_match(matcher):
    [m] = matcher.match("Sarah Jones was wonderful", ward_id=1)
    assert m == Match(1, "Sarah Jones", (0, 11), m.confidence, m.reason)
    assert m.confidence >= 0.95
    assert "full name" in m.reason


def test_ambiguous_first_name_is_not_matched_but_reported(matcher):
    result = matcher.analyse("Sarah was kind", ward_id=1)
    assert result.matches == []
    [amb] = result.ambiguous
    assert amb.candidate_ids == (1, 2)
    assert amb.span == (0, 5)


def test_rostered_staff_is_preferred(matcher):
    [m] = matcher.match("Sarah was kind", ward_id=1, rostered_ids={2})
    assert m.staff_id == 2 and "rostered" in m.reason


def test_ward_staff_preferred_over_other_wards(matcher):
    # Emma Davies is on ward 1, Emma Johnson on ward 3
    assert [m.staff_id for m in matcher.match("Emma was lovely", ward_id=1)] == [27]
    assert [m.staff_id for m in matcher.match("Emma was lovely", ward_id=3)] == [26]


def test_bare_first_name_of_other_ward_only_is_not_matched(matcher):
    result = matcher.analyse("Rebecca was lovely", ward_id=1)
    assert result.matches == []
    assert result.ambiguous and result.ambiguous[0].candidate_ids == (28,)


def test_without_ward_unique_first_name_matches_with_lower_confidence(matcher):
    [m] = matcher.match("Rebecca was lovely")
    assert m.staff_id == 28 and m.confidence < 0.8


@pytest.mark.parametrize(
    "text",
    [
        "My husband John was treated well",
        "my wife Sarah was looked after",
        "Our son Daniel was born here",
        "I'm Priya and I was a patient",
        "my name is Amy",
        "The patient Amy next to me",
    ],
)
def test_relatives_and_patients_never_match(matcher, text):
    assert matcher.match(text, ward_id=1, rostered_ids={1, 6, 12, 25}) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Nurse Kate was great", 3),
        ("Dr. Sharma was thorough", 12),
        ("Sister Hughes runs a tight ship", 18),
        ("staff nurse amy was lovely", 6),
        ("Thanks to Sarha Jones", 1),
        ("Thanks to Pryia for the tea", 12),
        ("Bill was a star", 4),
        ("Kate's kindness", 3),
        ("Mo made me laugh", 7),
    ],
)
def test_titles_short_forms_misspellings(matcher, text, expected):
    assert expected in {m.staff_id for m in matcher.match(text, ward_id=1)}


@pytest.mark.parametrize(
    "text",
    [
        "Will they fix the heating?",
        "I would mark the food down",
        "Everyone on Rose Ward was lovely",
        "May I say thank you",
        "Faith and hope kept me going",
    ],
)
def test_common_words_are_not_names(matcher, text):
    assert matcher.match(text, ward_id=1) == []


def test_span_and_matched_text_agree(matcher):
    text = "Thanks to  Katherine Smith and Mo!"
    for m in matcher.match(text, ward_id=1):
        assert text[m.span[0] : m.span[1]] == m.matched_text


def test_staff_validation():
    with pytest.raises(ValueError, match="no usable name"):
        StaffName(1, "  ")
    with pytest.raises(ValueError, match="appears twice"):
        NameMatcher([StaffName(1, "A Smith"), StaffName(1, "B Smith")])


def test_tokenize_handles_possessive_and_hyphen():
    toks = tokenize("Mary-Jane's shift. Dr. Patel")
    assert [t.text for t in toks] == ["Mary-Jane", "shift", "Dr", "Patel"]
    assert toks[0].end == 9
    assert toks[2].sentence_start and not toks[3].sentence_start and toks[3].joined_prev


def test_matching_is_fast_enough(matcher):
    texts = [c["text"] for c in load_comments()] * 20
    start = time.perf_counter()
    for t in texts:
        matcher.match(t, ward_id=1, rostered_ids={1})
    per_comment = (time.perf_counter() - start) / len(texts)
    assert per_comment < 0.001  # 1 ms: 100k comments well under a minute


_WORDS = st.sampled_from(
    ["Sarah", "sarah", "Jones", "Kate", "Will", "will", "my", "husband", "Nurse", "Dr",
     "was", "lovely", "Mrs", "Rose", "Ward", "the", ".", ",", "'s", "Pryia", "Zoë", "  ",
     "\n", "Smith", "Daniel", "I'm", "called", "Sister"]
)


@settings(max_examples=200, database=None, deadline=None)
@given(st.lists(_WORDS, max_size=20), st.sampled_from([None, 1, 2, 3]),
       st.frozensets(st.integers(1, 44), max_size=5))
def test_match_never_fails_and_spans_are_valid(words, ward_id, rostered):
    matcher = _SHARED
    text = " ".join(words)
    result = matcher.analyse(text, ward_id, rostered)
    for m in result.matches:
        assert text[m.span[0] : m.span[1]] == m.matched_text
        assert 0 < m.confidence < 1
    for a in result.ambiguous:
        assert len(a.candidate_ids) >= 1


_SHARED = NameMatcher(load_staff())
