"""Remove patient identifiers from feedback text before staff see it.

Pure Python: no Flask, no database.

:func:`redact` replaces, UK-flavoured:

=================  =====================  =========================================
kind               replacement            what
=================  =====================  =========================================
``email``          ``[email]``            anything@domain.tld
``nhs_number``     ``[NHS number]``       any run of 10 digits, optionally 3-3-4
                                          spaced (mod-11 check digit only decides
                                          the label, every 10-digit run goes)
``phone``          ``[phone]``            07..., 01/02/03/08..., +44 / 0044, spaced,
                                          hyphenated or in brackets
``hospital_number````[hospital number]``  letters+digits MRNs ("RX123456"), numbers
                                          after "hospital number", "MRN", "unit
                                          no" ..., any other run of 7+ digits
``date_of_birth``  ``[date of birth]``    dates after "born", "DOB", "date of
                                          birth", and any full date with a year
                                          from 1900 to 2009
``address``        ``[address]``          house number + capitalised street name +
                                          street word (Road, Street, Lane, ...);
                                          a following town + postcode is included
``postcode``       ``[postcode]``         UK postcodes in capitals ("LS1 4AB")
``name``           ``[name]``             names that are not staff (see below)
=================  =====================  =========================================

Names: staff mentions found by the :class:`~portal.recognition.matching.
NameMatcher` (matched or ambiguous) are kept.  Other names are redacted when
they follow a cue ("my mum", "my husband", "Mrs", "Mr", "patient", "called",
"named", "I'm", "my name is") or are in our first-names list; a capitalised
surname right after a redacted name goes with it.  Ward names ("Rose Ward",
"Florence Unit") are kept.

:func:`classify` flags comments to hold for moderation: ``abusive`` (our own
short word list, whole words, case-insensitive) and ``other_service``
(parking, A&E, GP, pharmacy, ambulance, outpatients, transport, catering
outlets, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .matching import (
    COMMON_WORDS,
    COURTESY_TITLES,
    FIRST_NAMES,
    PLACE_WORDS,
    RELATION_WORDS,
    TITLES,
    MatchResult,
    NameMatcher,
    Token,
    name_key,
    tokenize,
)

__all__ = [
    "Redacted",
    "redact",
    "classify",
    "nhs_number_is_valid",
    "ABUSIVE",
    "OTHER_SERVICE",
    "REPLACEMENTS",
]

REPLACEMENTS: dict[str, str] = {
    "email": "[email]",
    "nhs_number": "[NHS number]",
    "phone": "[phone]",
    "hospital_number": "[hospital number]",
    "date_of_birth": "[date of birth]",
    "address": "[address]",
    "postcode": "[postcode]",
    "name": "[name]",
}
# Lower number wins when two findings start at the same place and are as long.
_PRIORITY = {kind: n for n, kind in enumerate(REPLACEMENTS)}


@dataclass(frozen=True, slots=True)
class Redacted:
    """Redacted text; ``found`` lists (kind, span in the *original* text)."""

    text: str
    found: list[tuple[str, tuple[int, int]]] = field(default_factory=list)

    @property
    def kinds(self) -> set[str]:
        return {kind for kind, _ in self.found}


# ---------------------------------------------------------------------------
# Patterns.
# ---------------------------------------------------------------------------

_DIGIT = re.compile(r"\d")
_EMAIL = re.compile(r"[\w.+'%-]+@[\w-]+(?:\.[\w-]+)+")

_TEN_DIGITS = re.compile(r"(?<![\d+])\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")
_NHS_CUE = re.compile(r"\b(?:nhs|chi|h&c)\b[^.\n]{0,20}$", re.IGNORECASE)

# A ")" may follow any digit (a typo must not leak a number); it is never the last character,
# so a bracket around the whole number keeps its closing partner in the text.
_SEP = r"(?:[ \-]|\)[ ]?)?"
# An opening bracket belongs to the number only when it is closed within the first five digits,
# around an area code: "(020) 7946 0958". One around the whole number, "(07700 900321)", stays
# in the text with its partner, giving "([phone])".
_AREA_OPEN = r"(?:\((?=\d{1,5}\)))?"
_PHONE = re.compile(
    rf"(?<![\w+])(?:(?:\+|00)[ ]?44[ ]?(?:\(0\)[ ]?)?{_AREA_OPEN}\d(?:{_SEP}\d){{8,9}}"
    rf"|{_AREA_OPEN}0(?:{_SEP}\d){{9,10}})(?!\d)"
)

_HOSPITAL_CUED = re.compile(
    r"\b(?:(?:hospital|hosp|patient|unit|case|record|medical record|k)[ ]?"
    r"(?:number|no\b\.?|num\b|#)|mrn|rtx)[ ]?[:#.]?[ ]?"
    r"(?P<num>[A-Za-z]{0,3}[ ]?\d{5,10}[A-Za-z]?)\b",
    re.IGNORECASE,
)
_HOSPITAL_CODE = re.compile(r"\b[A-Z]{1,3}\d{6,9}[A-Z]?\b")
_LONG_DIGITS = re.compile(r"(?<![\d.,])\d{7,}(?![\d]|[.,]\d)")

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|"
    r"aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE = re.compile(
    r"\b(?:"
    r"(?P<d1>\d{1,2})[/.\-](?P<m1>\d{1,2})[/.\-](?P<y1>\d{4}|\d{2})"
    r"|(?P<y2>\d{4})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2})"
    rf"|(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?[ ]+(?:of[ ]+)?(?P<m3>{_MONTH}),?[ ]+(?P<y3>\d{{4}}|'?\d{{2}})"
    rf"|(?P<m4>{_MONTH})[ ]+(?P<d4>\d{{1,2}})(?:st|nd|rd|th)?,?[ ]+(?P<y4>\d{{4}})"
    r")(?!\d)",
    re.IGNORECASE,
)
_DOB_CUE = re.compile(
    r"(?:\bborn\b|\bdob\b|\bd\.o\.b\.?|date of birth|\bbirthday\b|\bb\.)[^.\n]{0,15}$",
    re.IGNORECASE,
)
_BORN_YEAR = re.compile(r"\bborn[ ]+(?:in[ ]+)?(?P<y>(?:19|20)\d\d)\b", re.IGNORECASE)

_STREET = (
    r"(?:Road|Rd|Street|St|Lane|Ln|Avenue|Ave|Close|Drive|Way|Court|Ct|Crescent|Cres|"
    r"Place|Pl|Gardens|Gdns|Grove|Terrace|Tce|Park|Hill|View|Walk|Mews|Square|Sq|Row|"
    r"Rise|Green|Parade|Vale|Croft|Meadows?|Fields|Boulevard|Gate|Wharf)"
)
_ADDRESS = re.compile(
    r"\b(?:(?:Flat|Apartment|Apt|Unit)[ ]+\d+[A-Za-z]?,?[ ]+)?"
    r"\d{1,4}[A-Za-z]?,?[ ]+(?:[A-Z][a-z'\u2019]+(?:-[A-Z][a-z]+)?[ ]+){1,3}"
    + _STREET
    + r"\b\.?"
)
_POSTCODE = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b"
)
_TOWN_GAP = re.compile(r",?[ ]*(?:[A-Z][a-z]+(?:[ \-][A-Z][a-z]+)*,?[ ]*)?")

_NAME_CUE_WORDS = frozenset({"called", "named", "patient", "patients"})
_POSSESSIVES = frozenset({"my", "our", "his", "her", "their", "your"})


def nhs_number_is_valid(number: str) -> bool:
    """Whether a 10-digit NHS number has a valid modulus-11 check digit."""
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) != 10:
        return False
    total = sum(d * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == digits[9]


# ---------------------------------------------------------------------------
# Finders.  Each yields (kind, start, end).
# ---------------------------------------------------------------------------


def _find_numbers(text: str):
    if "@" in text:
        for m in _EMAIL.finditer(text):
            yield "email", m.start(), m.end()
    if not _DIGIT.search(text):
        return
    for m in _TEN_DIGITS.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        cued = _NHS_CUE.search(text, max(0, m.start() - 25), m.start()) is not None
        if cued or digits[0] != "0" or nhs_number_is_valid(digits):
            yield "nhs_number", m.start(), m.end()
        else:
            yield "phone", m.start(), m.end()
    for m in _PHONE.finditer(text):
        yield "phone", m.start(), m.end()
    for m in _HOSPITAL_CUED.finditer(text):
        yield "hospital_number", m.start("num"), m.end("num")
    for m in _HOSPITAL_CODE.finditer(text):
        yield "hospital_number", m.start(), m.end()
    for m in _LONG_DIGITS.finditer(text):
        yield "hospital_number", m.start(), m.end()


def _find_dates(text: str):
    for m in _DATE.finditer(text):
        year_text = m.group("y1") or m.group("y2") or m.group("y3") or m.group("y4")
        year_text = year_text.lstrip("'")
        cued = _DOB_CUE.search(text, max(0, m.start() - 30), m.start()) is not None
        if cued:
            yield "date_of_birth", m.start(), m.end()
        elif len(year_text) == 4 and 1900 <= int(year_text) < 2010:
            yield "date_of_birth", m.start(), m.end()
    for m in _BORN_YEAR.finditer(text):
        yield "date_of_birth", m.start("y"), m.end("y")


def _find_addresses(text: str):
    postcodes = [(m.start(), m.end()) for m in _POSTCODE.finditer(text)]
    used: set[tuple[int, int]] = set()
    for m in _ADDRESS.finditer(text):
        start, end = m.span()
        for pc in postcodes:
            if pc[0] >= end and _TOWN_GAP.fullmatch(text, end, pc[0]):
                end = pc[1]
                used.add(pc)
                break
        yield "address", start, end
    for pc in postcodes:
        if pc not in used:
            yield "postcode", pc[0], pc[1]


def _cue_before(tokens: list[Token], i: int) -> str | None:
    """The kind of name cue right before token ``i``, if any."""
    if i == 0:
        return None
    prev = tokens[i - 1]
    if prev.key in COURTESY_TITLES:
        return "title"
    if prev.key in _NAME_CUE_WORDS:
        return "called"
    if prev.key in ("i'm", "im") or (prev.key == "am" and i >= 2 and tokens[i - 2].key == "i"):
        return "self"
    if prev.key == "is" and i >= 2 and tokens[i - 2].key == "name":
        return "called"
    for back in (1, 2):
        j = i - back
        if j >= 1 and tokens[j].key in RELATION_WORDS:
            if tokens[j - 1].key in _POSSESSIVES or (j >= 2 and tokens[j - 2].key in _POSSESSIVES):
                return "relative"
    return None


def _looks_like_name(tok: Token) -> bool:
    return (
        tok.capitalised
        and tok.key not in COMMON_WORDS
        and tok.key not in TITLES
        and tok.key not in RELATION_WORDS
        and tok.key.replace("-", "").replace("'", "").isalpha()
        and not (tok.text.isupper() and len(tok.text) > 1)
    )


def _find_names(text: str, tokens: list[Token], protected: set[int], staff_keys: frozenset[str]):
    n = len(tokens)
    i = 0
    while i < n:
        tok = tokens[i]
        if i in protected:
            i += 1
            continue
        cue = _cue_before(tokens, i)
        key = tok.key
        known = key in FIRST_NAMES and len(key) > 2
        if staff_keys and key in staff_keys and cue is None:
            i += 1
            continue
        nxt = tokens[i + 1] if i + 1 < n else None
        if nxt is not None and nxt.key in PLACE_WORDS and nxt.joined_prev:
            i += 1
            continue
        if cue == "self":
            hit = known
        elif cue is not None:
            hit = _looks_like_name(tok) or (known and key not in COMMON_WORDS)
        elif not known:
            hit = False
        elif key in COMMON_WORDS:
            hit = tok.capitalised and not tok.sentence_start and not tok.text.isupper()
            if hit and tok.sentence_start is False and i > 0 and tokens[i - 1].key in ("the", "a"):
                hit = False
        else:
            hit = True
        if not hit:
            i += 1
            continue
        end = tok.end
        j = i + 1
        # a surname (or two) directly after the name goes with it
        while (
            j < n
            and j - i <= 2
            and tokens[j].joined_prev
            and j not in protected
            and _looks_like_name(tokens[j])
            and not (j + 1 < n and tokens[j + 1].key in PLACE_WORDS and tokens[j + 1].joined_prev)
        ):
            end = tokens[j].end
            j += 1
        yield "name", tok.start, end
        i = j


# ---------------------------------------------------------------------------
# Public functions.
# ---------------------------------------------------------------------------


def redact(
    text: str,
    staff_names: NameMatcher | Iterable[str] | None = None,
    *,
    ward_id: int | None = None,
    rostered_ids: Iterable[int] = frozenset(),
    matches: MatchResult | None = None,
) -> Redacted:
    """Replace patient identifiers in ``text`` (see the module docstring).

    ``staff_names`` is either the :class:`NameMatcher` (best: only names it
    finds as staff, for ``ward_id``/``rostered_ids``, are kept) or a plain
    collection of staff names whose words are kept unless they follow a
    relative/patient cue.  Pass ``matches`` when the caller already ran
    :meth:`NameMatcher.analyse` on the same text, to avoid doing it twice.
    """
    if not text:
        return Redacted(text or "", [])
    tokens = tokenize(text)
    protected: set[int] = set()
    staff_keys: frozenset[str] = frozenset()
    if isinstance(staff_names, NameMatcher) or matches is not None:
        if matches is None:
            matches = staff_names.analyse(text, ward_id, rostered_ids)  # type: ignore[union-attr]
        spans = matches.spans
        if spans:
            for idx, tok in enumerate(tokens):
                for start, end in spans:
                    if tok.start < end and start < tok.end:
                        protected.add(idx)
                        break
    elif staff_names is not None:
        staff_keys = frozenset(
            name_key(word) for name in staff_names for word in re.findall(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*", name)
        )

    found: list[tuple[str, int, int]] = []
    found.extend(_find_numbers(text))
    if _DIGIT.search(text):  # dates, addresses and postcodes all hold digits
        found.extend(_find_dates(text))
        found.extend(_find_addresses(text))
    found.extend(_find_names(text, tokens, protected, staff_keys))

    # keep non-overlapping findings: earliest first, then longest, then priority
    found.sort(key=lambda f: (f[1], -(f[2] - f[1]), _PRIORITY[f[0]]))
    kept: list[tuple[str, int, int]] = []
    last_end = -1
    for kind, start, end in found:
        if start >= last_end:
            kept.append((kind, start, end))
            last_end = end
        elif end > last_end and kept and kept[-1][0] == kind:
            prev_kind, prev_start, _ = kept[-1]
            kept[-1] = (prev_kind, prev_start, end)
            last_end = end
    if not kept:
        return Redacted(text, [])
    parts: list[str] = []
    pos = 0
    for kind, start, end in kept:
        parts.append(text[pos:start])
        parts.append(REPLACEMENTS[kind])
        pos = end
    parts.append(text[pos:])
    return Redacted("".join(parts), [(kind, (start, end)) for kind, start, end in kept])


# ---------------------------------------------------------------------------
# Classification for moderation.
# ---------------------------------------------------------------------------

ABUSIVE = "abusive"
OTHER_SERVICE = "other_service"

_ABUSIVE_RE = re.compile(
    r"\b(?:"
    r"f+u+c+k+\w*|f[*#@]+(?:k|ck|in[g']?)?\w*|shit(?:s|e|ty|ter|head|hole|house|show)?|bullshit|sh[*]+t|bitch\w*|bastard\w*|cunt\w*|"
    r"twat\w*|wank\w*|dickhead\w*|arse-?hole\w*|asshole\w*|piss(?:\s+off|\s+take|ed\s+off)|"
    r"moron\w*|idiot\w*|retard(?:s|ed)?|scum\w*|slag\w*|slut\w*|nonce\w*|"
    r"(?:stupid|fat|lazy|useless|silly|miserable|ugly|old)\s+(?:cow|bitch|cows|witch|pig)|"
    r"(?:i'?ll|i\s+will|going\s+to|gonna)\s+(?:kill|find|get|hurt|batter|smash)\s+(?:you|her|him|them)|"
    r"(?:should|deserve\w*\s+to|ought\s+to)\s+be\s+(?:shot|hanged|hung|killed|beaten)"
    r")(?!\w)",
    re.IGNORECASE,
)

_OTHER_SERVICE_RE = re.compile(
    r"\b(?:car\s?parks?|carpark\w*|parking|a\s?&\s?e|a\s+and\s+e|emergency\s+department|"
    r"casualty|gps?|gp'?s|doctors?'?\s+surgery|pharmacy|pharmacist|chemist|ambulances?|"
    r"paramedics?|nhs\s+111|111|out-?patients?|switchboard|appointments?\s+(?:line|centre|team)|"
    r"(?:hospital|patient)\s+transport|canteen|caf[eé]|restaurant|costa|social\s+services|"
    r"district\s+nurses?|care\s+home|dentist|walk-in\s+centre|urgent\s+treatment\s+centre)"
    r"(?!\w)",
    re.IGNORECASE,
)
_ED = re.compile(r"\bED\b")  # the emergency department, in capitals only


def classify(text: str) -> set[str]:
    """Flags that hold a comment for moderation: ``abusive``, ``other_service``."""
    flags: set[str] = set()
    if not text:
        return flags
    if _ABUSIVE_RE.search(text):
        flags.add(ABUSIVE)
    if _OTHER_SERVICE_RE.search(text) or _ED.search(text):
        flags.add(OTHER_SERVICE)
    return flags
