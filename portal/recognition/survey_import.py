"""Parse and validate survey-vendor CSV exports (pure: no Flask, no database).

The import is all-or-nothing: :func:`parse_survey` either raises
:class:`SurveyFileError` (the file as a whole is unusable: wrong encoding,
not CSV, missing columns, no rows) or returns a :class:`ParseResult`.  The
caller stores the rows only when ``result.ok`` (no row errors); otherwise it
shows ``result.errors`` (line number, column, message) and stores nothing.

Idempotence: every row gets a stable :attr:`ParsedRow.fingerprint`.  With a
response-id column it is ``sha256(source, response id)``; without one it is
the hash of the source and the *normalised* row (ISO date, ward, scores,
comment with collapsed whitespace) plus the occurrence number of that exact
row within the file.  Identical rows in one file are therefore kept as
separate responses (two patients may well both answer "Very good", 10, no
comment, on the same day), and re-importing the same file, or an export
that overlaps it, gives the same fingerprints; the caller skips rows whose
fingerprint it already has.

The column mapping for a source is a :class:`ColumnMapping`; store
``mapping.to_dict()`` per source and rebuild it with
:meth:`ColumnMapping.from_dict`.  :func:`suggest_mapping` guesses a mapping
from the header row of a new source.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from .scoring import Experience, parse_experience, parse_recommend

__all__ = [
    "ColumnMapping",
    "ParsedRow",
    "RowError",
    "ParseResult",
    "SurveyFileError",
    "DEFAULT_DATE_FORMATS",
    "decode_csv",
    "read_header",
    "suggest_mapping",
    "parse_survey",
    "row_fingerprint",
]

DEFAULT_DATE_FORMATS: tuple[str, ...] = (
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d %b %Y",
    "%d %B %Y",
)
ENCODINGS = ("utf-8", "cp1252")
MAX_COMMENT_LENGTH = 10_000
FINGERPRINT_VERSION = "v1"


class SurveyFileError(ValueError):
    """The file as a whole cannot be imported; the message says why."""


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which header names hold which field, for one survey source.

    ``date`` and ``ward`` are required; at least one of ``experience``,
    ``recommend`` and ``comment`` must be given.  Header names are matched
    case-insensitively with surrounding spaces ignored.
    """

    date: str
    ward: str
    experience: str | None = None
    recommend: str | None = None
    comment: str | None = None
    response_id: str | None = None
    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    encoding: str = "utf-8"
    experience_codes: str = "fft"  # or "reversed" (5 = very good)
    delimiter: str | None = None  # None: guess from the header line

    def __post_init__(self) -> None:
        if not (self.date and self.date.strip()):
            raise ValueError("the mapping needs a date column")
        if not (self.ward and self.ward.strip()):
            raise ValueError("the mapping needs a ward column")
        if not (self.experience or self.recommend or self.comment):
            raise ValueError(
                "the mapping needs at least one of: experience, recommend, comment columns"
            )
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}, not {self.encoding!r}")
        if self.experience_codes not in ("fft", "reversed"):
            raise ValueError("experience_codes must be 'fft' or 'reversed'")
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise ValueError("delimiter must be a single character")
        if isinstance(self.date_formats, str) or not self.date_formats:
            raise ValueError("date_formats must be a non-empty list of strptime formats")
        object.__setattr__(self, "date_formats", tuple(self.date_formats))
        columns = [c for c in self.columns().values()]
        normalised = [_norm_header(c) for c in columns]
        if len(set(normalised)) != len(normalised):
            raise ValueError("the same column is mapped to two fields")

    def columns(self) -> dict[str, str]:
        """field name -> header name, for the mapped fields."""
        names = ("date", "ward", "experience", "recommend", "comment", "response_id")
        return {n: getattr(self, n) for n in names if getattr(self, n)}

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["date_formats"] = list(self.date_formats)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ColumnMapping:
        known = {f for f in cls.__dataclass_fields__}  # type: ignore[attr-defined]
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown mapping keys: {', '.join(sorted(unknown))}")
        values = dict(data)
        if "date_formats" in values and values["date_formats"] is not None:
            values["date_formats"] = tuple(values["date_formats"])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ParsedRow:
    line_number: int
    fingerprint: str
    response_date: date
    ward_value: str
    ward_id: int | None
    experience: Experience | None
    recommend: int | None
    comment: str
    response_id: str | None


@dataclass(frozen=True, slots=True)
class RowError:
    line_number: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line_number}"
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.message}"


@dataclass(slots=True)
class ParseResult:
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    skipped_blank: int = 0  # rows with no answer at all (not imported)
    duplicate_lines: list[int] = field(default_factory=list)  # repeated response ids
    truncated: bool = False  # stopped collecting errors at max_errors

    @property
    def ok(self) -> bool:
        return not self.errors


# ---------------------------------------------------------------------------
# Decoding and headers.
# ---------------------------------------------------------------------------


def decode_csv(data: bytes, encoding: str = "utf-8") -> str:
    """Decode CSV bytes: UTF-8 (BOM allowed) or, if chosen, Windows-1252."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("survey data must be bytes")
    if not data.strip():
        raise SurveyFileError("the file is empty")
    if data[:4] == b"PK\x03\x04":
        raise SurveyFileError(
            "this is an Excel workbook (.xlsx), not CSV; save it as 'CSV UTF-8' and upload that"
        )
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise SurveyFileError(
            "the file is UTF-16 text (Excel 'Unicode text'); save it as 'CSV UTF-8' and upload that"
        )
    if encoding not in ENCODINGS:
        raise SurveyFileError(f"unsupported encoding {encoding!r}; use UTF-8 or Windows-1252")
    if b"\x00" in data:
        raise SurveyFileError("the file contains NUL bytes; it is not a CSV text file")
    if encoding == "cp1252":
        if data.startswith(b"\xef\xbb\xbf"):
            raise SurveyFileError(
                "the file starts with a UTF-8 byte-order mark but Windows-1252 was chosen; "
                "choose UTF-8 for this source"
            )
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise SurveyFileError(
                f"the file is not Windows-1252 text (byte 0x{data[exc.start]:02x} at position "
                f"{exc.start}); save it as 'CSV UTF-8'"
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        pos = exc.start + bom
        line = data.count(b"\n", 0, pos) + 1
        raise SurveyFileError(
            f"the file is not UTF-8 text (byte 0x{data[pos]:02x} at position {pos}, line {line}); "
            "save it as 'CSV UTF-8', or choose the Windows-1252 encoding for this source "
            "if the vendor only exports that"
        ) from None


def _guess_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _norm_header(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").split()).casefold()


def _reader(text: str, delimiter: str | None) -> tuple[csv.reader, str]:  # type: ignore[valid-type]
    first_line = text.split("\n", 1)[0]
    delim = delimiter or _guess_delimiter(first_line)
    return csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True), delim


def read_header(data: bytes, encoding: str = "utf-8", delimiter: str | None = None) -> list[str]:
    """The header row of a CSV file (for the column-mapping step)."""
    text = decode_csv(data, encoding)
    reader, _ = _reader(text, delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise SurveyFileError("the file has no header row") from None
    except csv.Error as exc:
        raise SurveyFileError(f"the header row is not valid CSV: {exc}") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise SurveyFileError("the header row is empty")
    return header


# Header names seen in vendor exports, normalised (lower case, single spaces).
_SUGGESTIONS: dict[str, tuple[str, ...]] = {
    "response_id": ("response id", "responseid", "response_id", "respondent id", "id",
                    "unique id", "record id", "survey id", "submission id", "reference"),
    "date": ("date", "response date", "survey date", "date of response", "submitted",
             "submitted at", "submission date", "completed", "date completed",
             "completion date", "timestamp", "created", "date submitted", "visit date"),
    "ward": ("ward", "ward name", "ward/department", "ward / department", "department",
             "location", "unit", "service", "area", "site/ward", "ward code", "team"),
    "experience": ("experience", "overall experience", "fft", "fft score", "fft rating",
                   "fft response", "rating", "overall rating", "q1", "fft question",
                   "how was your experience", "overall, how was your experience of our service?",
                   "score"),
    "recommend": ("recommend", "likelihood to recommend", "nps", "nps score", "recommend score",
                  "how likely are you to recommend", "likely to recommend", "q2", "ltr"),
    "comment": ("comment", "comments", "free text", "freetext", "feedback", "what was good",
                "tell us why", "please tell us why", "why", "reason", "verbatim",
                "additional comments", "what went well", "q3", "text"),
}
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "response_id": ("response id", "respondent id"),
    "date": ("date", "submitted", "completed", "timestamp"),
    "ward": ("ward", "department", "location"),
    "experience": ("experience", "fft"),
    "recommend": ("recommend", "nps"),
    "comment": ("comment", "tell us", "feedback", "free text", "verbatim"),
}


def suggest_mapping(header: Sequence[str]) -> dict[str, str | None]:
    """Guess which header holds which field: field name -> header (or None).

    Exact vendor names win over keyword matches; a header is used once.
    ``ColumnMapping(**{k: v for k, v in guess.items() if v})`` builds a
    mapping once the user has confirmed it.
    """
    normalised = [(_norm_header(h), h) for h in header if h and h.strip()]
    chosen: dict[str, str | None] = {f: None for f in _SUGGESTIONS}
    used: set[str] = set()
    for fld, names in _SUGGESTIONS.items():
        for name in names:
            for norm, original in normalised:
                if norm == name and original not in used:
                    chosen[fld] = original
                    used.add(original)
                    break
            if chosen[fld]:
                break
    for fld, words in _KEYWORDS.items():
        if chosen[fld]:
            continue
        for norm, original in normalised:
            if original not in used and any(w in norm for w in words):
                chosen[fld] = original
                used.add(original)
                break
    return chosen


# ---------------------------------------------------------------------------
# Rows.
# ---------------------------------------------------------------------------

_SPACE = re.compile(r"\s+")


def _clean(value: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFC", value)).strip()


def row_fingerprint(
    source: str,
    *,
    response_id: str | None = None,
    response_date: date | None = None,
    ward_value: str = "",
    experience: Experience | None = None,
    recommend: int | None = None,
    comment: str = "",
    occurrence: int = 0,
) -> str:
    """Stable identity of one survey response (see the module docstring)."""
    src = _clean(source).casefold()
    if response_id:
        payload = "\x1f".join((FINGERPRINT_VERSION, src, "id", _clean(response_id)))
    else:
        payload = "\x1f".join(
            (
                FINGERPRINT_VERSION,
                src,
                "row",
                response_date.isoformat() if response_date else "",
                _clean(ward_value).casefold(),
                experience.name if experience is not None else "",
                "" if recommend is None else str(recommend),
                _clean(comment),
                str(occurrence),
            )
        )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _parse_date(value: str, formats: Sequence[str], cache: dict[str, date | None]) -> date | None:
    if value in cache:
        return cache[value]
    result = None
    for fmt in formats:
        try:
            result = datetime.strptime(value, fmt).date()
            break
        except ValueError:
            continue
    cache[value] = result
    return result


def parse_survey(
    data: bytes,
    mapping: ColumnMapping,
    *,
    source: str,
    ward_lookup: Callable[[str], int | None] | None = None,
    today: date | None = None,
    max_errors: int = 1000,
) -> ParseResult:
    """Parse a survey CSV with ``mapping``; see the module docstring.

    ``source`` names the vendor/feed (part of every fingerprint).
    ``ward_lookup`` maps a ward value from the file to a ward id, or
    ``None`` for an unknown ward, which becomes a row error; it is called
    once per distinct value.  Without it ``ward_id`` is ``None``.
    ``today`` (if given) rejects response dates after it.

    Raises :class:`SurveyFileError` for problems with the whole file.
    """
    if not source or not source.strip():
        raise ValueError("source must name the survey source")
    text = decode_csv(data, mapping.encoding)
    reader, delim = _reader(text, mapping.delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise SurveyFileError("the file has no header row") from None
    except csv.Error as exc:
        raise SurveyFileError(f"the header row is not valid CSV: {exc}") from None

    positions: dict[str, int] = {}
    duplicates_in_header: set[str] = set()
    for idx, name in enumerate(header):
        norm = _norm_header(name)
        if norm in positions:
            duplicates_in_header.add(norm)
        positions.setdefault(norm, idx)
    wanted = mapping.columns()
    missing = [col for col in wanted.values() if _norm_header(col) not in positions]
    if missing:
        available = ", ".join(repr(h.strip()) for h in header if h.strip()) or "none"
        raise SurveyFileError(
            f"missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing)} (columns in the file: {available}"
            + ("" if delim == "," else f"; separator {delim!r}")
            + ")"
        )
    clashing = [c for c in wanted.values() if _norm_header(c) in duplicates_in_header]
    if clashing:
        raise SurveyFileError(
            f"column {clashing[0]!r} appears more than once in the header; rename one of them"
        )
    col = {fld: positions[_norm_header(name)] for fld, name in wanted.items()}
    width = max(col.values()) + 1

    result = ParseResult()
    date_cache: dict[str, date | None] = {}
    ward_cache: dict[str, int | None] = {}
    seen_ids: dict[str, tuple[int, tuple]] = {}
    occurrences: dict[tuple, int] = {}
    errors = result.errors

    def error(line: int, column: str | None, message: str) -> None:
        if len(errors) < max_errors:
            errors.append(RowError(line, column, message))
        else:
            result.truncated = True

    line_after = reader.line_num
    try:
        for record in reader:
            line = line_after + 1
            line_after = reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank line
            if len(record) < width:
                error(line, None, f"row has {len(record)} fields but the header has {len(header)}")
                continue
            row_ok = True

            raw_date = record[col["date"]].strip()
            response_date = None
            if not raw_date:
                error(line, wanted["date"], "date is missing")
                row_ok = False
            else:
                response_date = _parse_date(raw_date, mapping.date_formats, date_cache)
                if response_date is None:
                    error(line, wanted["date"], f"date {raw_date!r} is not in a recognised format")
                    row_ok = False
                elif today is not None and response_date > today:
                    error(line, wanted["date"], f"date {raw_date!r} is in the future")
                    row_ok = False

            ward_value = _clean(record[col["ward"]])
            ward_id = None
            if not ward_value:
                error(line, wanted["ward"], "ward is missing")
                row_ok = False
            elif ward_lookup is not None:
                if ward_value not in ward_cache:
                    ward_cache[ward_value] = ward_lookup(ward_value)
                ward_id = ward_cache[ward_value]
                if ward_id is None:
                    error(line, wanted["ward"], f"unknown ward {ward_value!r}")
                    row_ok = False

            experience = None
            if "experience" in col:
                try:
                    experience = parse_experience(
                        record[col["experience"]], codes=mapping.experience_codes
                    )
                except ValueError as exc:
                    error(line, wanted["experience"], str(exc))
                    row_ok = False

            recommend = None
            if "recommend" in col:
                try:
                    recommend = parse_recommend(record[col["recommend"]])
                except ValueError as exc:
                    error(line, wanted["recommend"], str(exc))
                    row_ok = False

            comment = ""
            if "comment" in col:
                comment = record[col["comment"]].strip()
                if len(comment) > MAX_COMMENT_LENGTH:
                    error(line, wanted["comment"],
                          f"comment is longer than {MAX_COMMENT_LENGTH} characters")
                    row_ok = False

            response_id = None
            if "response_id" in col:
                response_id = _clean(record[col["response_id"]]) or None
                if response_id is None:
                    error(line, wanted["response_id"], "response id is missing")
                    row_ok = False

            if not row_ok:
                continue
            if experience is None and recommend is None and not comment:
                result.skipped_blank += 1
                continue

            assert response_date is not None
            content = (response_date, ward_value.casefold(), experience, recommend,
                       _clean(comment) if comment else "")
            if response_id is not None:
                previous = seen_ids.get(response_id)
                if previous is not None:
                    if previous[1] == content:
                        result.duplicate_lines.append(line)
                    else:
                        error(line, wanted["response_id"],
                              f"response id {response_id!r} already used on line {previous[0]} "
                              "with different answers")
                    continue
                seen_ids[response_id] = (line, content)
                fingerprint = row_fingerprint(source, response_id=response_id)
            else:
                occurrence = occurrences.get(content, 0)
                occurrences[content] = occurrence + 1
                fingerprint = row_fingerprint(
                    source,
                    response_date=response_date,
                    ward_value=ward_value,
                    experience=experience,
                    recommend=recommend,
                    comment=comment,
                    occurrence=occurrence,
                )
            result.rows.append(
                ParsedRow(
                    line_number=line,
                    fingerprint=fingerprint,
                    response_date=response_date,
                    ward_value=ward_value,
                    ward_id=ward_id,
                    experience=experience,
                    recommend=recommend,
                    comment=comment,
                    response_id=response_id,
                )
            )
    except csv.Error as exc:
        raise SurveyFileError(
            f"the file is not valid CSV near line {reader.line_num}: {exc}"
        ) from None
    if not result.rows and not result.errors:
        raise SurveyFileError("the file has a header but no responses")
    return result
