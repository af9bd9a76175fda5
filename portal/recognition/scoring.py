"""Scores for patient feedback, following the NHS Friends and Family Test (FFT).

Pure functions only: no Flask, no database.

* Overall experience is a five-point scale plus "don't know".  Vendor exports
  spell the labels in many ways and sometimes export numeric codes; the FFT
  coding is 1 = very good ... 5 = very poor, 6 = don't know.  Some vendors
  export the reverse (5 = very good); pass ``codes="reversed"`` for those.
* Likelihood to recommend is an integer 0-10 (promoters 9-10, detractors 0-6).
* KPIs for any group with fewer than ``SUPPRESSION_THRESHOLD`` valid responses
  are suppressed (returned as ``None``) so small groups cannot be identified.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "SUPPRESSION_THRESHOLD",
    "Experience",
    "POSITIVE",
    "NEGATIVE",
    "parse_experience",
    "parse_recommend",
    "nps",
    "experience_score",
    "suppress",
    "is_negative",
    "Summary",
    "summarise",
]

SUPPRESSION_THRESHOLD = 5


class Experience(enum.IntEnum):
    """Overall experience, valued with the FFT numeric codes."""

    VERY_GOOD = 1
    GOOD = 2
    NEITHER = 3
    POOR = 4
    VERY_POOR = 5
    DONT_KNOW = 6

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Experience.VERY_GOOD: "Very good",
    Experience.GOOD: "Good",
    Experience.NEITHER: "Neither good nor poor",
    Experience.POOR: "Poor",
    Experience.VERY_POOR: "Very poor",
    Experience.DONT_KNOW: "Don't know",
}

POSITIVE = frozenset({Experience.VERY_GOOD, Experience.GOOD})
NEGATIVE = frozenset({Experience.POOR, Experience.VERY_POOR})

# Normalised label -> value.  Labels are lower-cased, apostrophes removed and
# runs of non-letters collapsed to one space before the lookup.  The older FFT
# question ("how likely are you to recommend ...", before April 2020) used a
# likelihood scale; vendors still export it for some services, so it is
# mapped to the matching point of the current scale.
_EXPERIENCE_LABELS: dict[str, Experience] = {
    "very good": Experience.VERY_GOOD,
    "v good": Experience.VERY_GOOD,
    "excellent": Experience.VERY_GOOD,
    "extremely likely": Experience.VERY_GOOD,
    "good": Experience.GOOD,
    "likely": Experience.GOOD,
    "neither good nor poor": Experience.NEITHER,
    "neither good or poor": Experience.NEITHER,
    "neither poor nor good": Experience.NEITHER,
    "neither": Experience.NEITHER,
    "neutral": Experience.NEITHER,
    "average": Experience.NEITHER,
    "ok": Experience.NEITHER,
    "neither likely nor unlikely": Experience.NEITHER,
    "poor": Experience.POOR,
    "unlikely": Experience.POOR,
    "very poor": Experience.VERY_POOR,
    "v poor": Experience.VERY_POOR,
    "extremely unlikely": Experience.VERY_POOR,
    "dont know": Experience.DONT_KNOW,
    "do not know": Experience.DONT_KNOW,
    "don t know": Experience.DONT_KNOW,
    "not sure": Experience.DONT_KNOW,
    "unsure": Experience.DONT_KNOW,
    "dk": Experience.DONT_KNOW,
}

_NON_LETTERS = re.compile(r"[^a-z0-9]+")
_NUMBER = re.compile(r"[+-]?\d+(?:\.0+)?")
_RECOMMEND = re.compile(r"(\d+)(?:\.0+)?(?:\s*(?:/|out of)\s*10)?(?:\s*[-:(].*)?")


def _normalise_label(value: str) -> str:
    text = value.strip().lower().replace("'", "").replace("\u2019", "")
    return _NON_LETTERS.sub(" ", text).strip()


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_experience(value: object, *, codes: str = "fft") -> Experience | None:
    """Parse an overall-experience answer.

    Accepts an :class:`Experience`, a vendor label (case-insensitive, e.g.
    ``"Very Good"``, ``"Neither good nor poor"``, ``"Don't know"``) or a
    numeric code.  With ``codes="fft"`` (default) 1 = very good ... 5 = very
    poor and 6 = don't know; with ``codes="reversed"`` 5 = very good ... 1 =
    very poor (6 is still don't know).  Blank values give ``None`` (no answer).

    Raises ``ValueError`` with a message naming the value otherwise.
    """
    if codes not in ("fft", "reversed"):
        raise ValueError(f"unknown experience coding {codes!r}; use 'fft' or 'reversed'")
    if isinstance(value, Experience):
        return value
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError(f"experience answer {value!r} is not a label or code 1-6")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return _from_code(value, codes, value)
    if not isinstance(value, str):
        raise ValueError(f"experience answer {value!r} is not a label or code 1-6")
    text = value.strip()
    if _NUMBER.fullmatch(text):
        return _from_code(int(float(text)), codes, value)
    # Labels such as "1 - Very good" or "Very good (1)": trust the words.
    label = _normalise_label(text)
    label_words = re.sub(r"\b\d+\b", " ", label).split()
    found = _EXPERIENCE_LABELS.get(" ".join(label_words))
    if found is None:
        raise ValueError(
            f"experience answer {value!r} is not one of: very good, good, "
            "neither good nor poor, poor, very poor, don't know (or a code 1-6)"
        )
    return found


def _from_code(code: int, codes: str, original: object) -> Experience:
    if not 1 <= code <= 6:
        raise ValueError(f"experience code {original!r} is out of range; expected 1-6")
    if code == 6:
        return Experience.DONT_KNOW
    return Experience(code if codes == "fft" else 6 - code)


def parse_recommend(value: object) -> int | None:
    """Parse a likelihood-to-recommend answer (integer 0-10).

    Accepts ints, integral floats and strings such as ``"9"``, ``"9.0"``,
    ``"9/10"``, ``"9 out of 10"`` or ``"10 - extremely likely"``.  Blank values
    give ``None``.  Raises ``ValueError`` for anything else.
    """
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError(f"recommend score {value!r} is not a whole number 0-10")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"recommend score {value!r} is not a whole number 0-10")
        value = int(value)
    if isinstance(value, int):
        score = value
    elif isinstance(value, str):
        match = _RECOMMEND.fullmatch(value.strip().lower())
        if match is None:
            raise ValueError(f"recommend score {value!r} is not a whole number 0-10")
        score = int(match.group(1))
    else:
        raise ValueError(f"recommend score {value!r} is not a whole number 0-10")
    if not 0 <= score <= 10:
        raise ValueError(f"recommend score {value!r} is out of range; expected 0-10")
    return score


def suppress(value: float, count: int, threshold: int = SUPPRESSION_THRESHOLD) -> float | None:
    """Return ``value``, or ``None`` when ``count`` is below ``threshold``."""
    return value if count >= threshold else None


def nps(scores: Iterable[int | None], *, threshold: int = SUPPRESSION_THRESHOLD) -> float | None:
    """Net promoter score: % promoters (9-10) minus % detractors (0-6).

    ``None`` entries (no answer) are ignored.  Returns ``None`` when fewer than
    ``threshold`` valid scores remain.  The result lies in [-100, 100].
    """
    total = promoters = detractors = 0
    for score in scores:
        if score is None:
            continue
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
            raise ValueError(f"recommend score {score!r} is not a whole number 0-10")
        total += 1
        if score >= 9:
            promoters += 1
        elif score <= 6:
            detractors += 1
    if total == 0 or total < threshold:
        return None
    return 100.0 * (promoters - detractors) / total


def experience_score(
    ratings: Iterable[Experience | None], *, threshold: int = SUPPRESSION_THRESHOLD
) -> float | None:
    """Percentage of valid responses that are "very good" or "good".

    Valid responses are those on the five-point scale: blanks (``None``) and
    "don't know" are left out of both numerator and denominator.  Returns
    ``None`` when fewer than ``threshold`` valid responses remain.
    """
    total = positive = 0
    for rating in ratings:
        if rating is None:
            continue
        if not isinstance(rating, Experience):
            raise ValueError(f"experience rating {rating!r} is not an Experience value")
        if rating is Experience.DONT_KNOW:
            continue
        total += 1
        if rating in POSITIVE:
            positive += 1
    if total == 0 or total < threshold:
        return None
    return 100.0 * positive / total


# Words that mark a comment as a complaint when the scores do not settle it.
_COMPLAINT_WORDS = re.compile(
    r"\b(?:complain\w*|rude|rudely|ignored|unacceptable|disgust\w*|appall\w*|"
    r"neglect\w*|dreadful|terrible|horrible|awful|shocking|disgrace\w*|"
    r"never again|not happy|unhappy|upset|worst|left alone|no one came|"
    r"nobody came|not listened|didn'?t listen|did not listen|lost (?:my|his|her|our))\b",
    re.IGNORECASE,
)


def is_negative(
    rating: Experience | None, recommend: int | None = None, text: str | None = None
) -> bool:
    """Whether a response belongs on the service-recovery list (never a feed).

    Rules, in order:

    1. "poor" or "very poor" experience -> negative.
    2. recommend 0-4 -> negative.
    3. "very good"/"good" experience or recommend 7-10 -> not negative.
    4. Otherwise (neither / don't know / blank, recommend 5-6 or blank) the
       comment decides: complaint words such as "rude", "ignored",
       "unacceptable", "complaint" make it negative.
    """
    if rating in NEGATIVE:
        return True
    if recommend is not None and recommend <= 4:
        return True
    if rating in POSITIVE or (recommend is not None and recommend >= 7):
        return False
    return bool(text) and _COMPLAINT_WORDS.search(text) is not None


@dataclass(frozen=True, slots=True)
class Summary:
    """KPIs for one group; suppressed values are ``None``."""

    responses: int
    experience_responses: int
    recommend_responses: int
    experience_score: float | None
    nps: float | None

    @property
    def suppressed(self) -> bool:
        return self.experience_score is None and self.nps is None


def summarise(
    pairs: Iterable[tuple[Experience | None, int | None]],
    *,
    threshold: int = SUPPRESSION_THRESHOLD,
) -> Summary:
    """KPIs for a group given ``(experience, recommend)`` pairs."""
    ratings: list[Experience | None] = []
    scores: list[int | None] = []
    for rating, score in pairs:
        ratings.append(rating)
        scores.append(score)
    n_exp = sum(1 for r in ratings if r is not None and r is not Experience.DONT_KNOW)
    n_rec = sum(1 for s in scores if s is not None)
    return Summary(
        responses=len(ratings),
        experience_responses=n_exp,
        recommend_responses=n_rec,
        experience_score=experience_score(ratings, threshold=threshold),
        nps=nps(scores, threshold=threshold),
    )
