"""Benchmark the pure recognition import pipeline.

Generates 100,000 synthetic survey rows and 500 staff on 25 wards, then runs
parse_survey -> NameMatcher.analyse -> redact -> classify -> is_negative over
every row, and prints rows/s and total seconds.  No database.

    .venv/bin/python bench/recognition_import.py            # 100,000 rows
    .venv/bin/python bench/recognition_import.py --rows 20000 --staff 500
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal.recognition.matching import FIRST_NAMES, NameMatcher, StaffName  # noqa: E402
from portal.recognition.redaction import classify, redact  # noqa: E402
from portal.recognition.scoring import is_negative  # noqa: E402
from portal.recognition.survey_import import ColumnMapping, parse_survey  # noqa: E402

SURNAMES = """Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright
Thompson Evans Walker White Roberts Green Hall Thomas Clarke Jackson Wood Harris Edwards
Turner Martin Cooper Hill Ward Hughes Moore Clark King Harrison Lewis Baker Lee Allen Morris
Khan Scott Watson Davis Parker James Bennett Young Phillips Richardson Mitchell Bailey
Carter Cook Singh Shaw Bell Collins Morgan Kelly Begum Miller Cox Marshall Simpson Anderson
Okafor Adeyemi Nowak Kowalski Santos Reyes Murphy Sharma Hussain Ahmed Ali Chen Nguyen""".split()

TEMPLATES = [
    "{staff} was wonderful, thank you.",
    "Huge thanks to {staff_full} for looking after my dad.",
    "Nurse {staff} made me feel safe. My husband {other} agrees.",
    "The food was cold and nobody answered the buzzer for ages.",
    "Excellent care from start to finish.",
    "My mum {other} was on the ward, call me on 07700 900{n3} if you need to.",
    "Parking was a nightmare but {staff} and {staff2} were brilliant.",
    "DOB 12/03/19{n2}, NHS number 943 476 5919, lives at {n2} Acacia Avenue LS1 4AB.",
    "Dr {surname} explained everything clearly.",
    "Waited 6 hours in A&E before coming up to the ward, staff were lovely though.",
    "Very good. The ward was clean and everyone was kind.",
    "{staff}'s kindness got me through a hard week. Email me at fam{n3}@example.com",
    "Rude staff on nights, my wife {other} was ignored.",
    "",
    "",
]


def make_staff(n: int, wards: int, rng: random.Random) -> list[StaffName]:
    firsts = sorted(FIRST_NAMES)
    return [
        StaffName(i, f"{rng.choice(firsts).title()} {rng.choice(SURNAMES)}",
                  ward_ids=frozenset({1 + i % wards}))
        for i in range(1, n + 1)
    ]


def make_csv(rows: int, staff: list[StaffName], wards: int, rng: random.Random) -> bytes:
    by_ward: dict[int, list[StaffName]] = {}
    for s in staff:
        for w in s.ward_ids:
            by_ward.setdefault(w, []).append(s)
    start = date(2024, 1, 1)
    lines = ["Response ID,Date,Ward,Overall experience,Recommend,Comments"]
    labels = ["Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know"]
    others = ["John", "Joan", "Margaret", "Derek", "Mavis", "Tom"]
    for i in range(rows):
        ward = 1 + rng.randrange(wards)
        person = rng.choice(by_ward[ward])
        person2 = rng.choice(by_ward[ward])
        text = rng.choice(TEMPLATES).format(
            staff=person.full_name.split()[0], staff2=person2.full_name.split()[0],
            staff_full=person.full_name, surname=person.full_name.split()[-1],
            other=rng.choice(others), n2=rng.randrange(10, 99), n3=rng.randrange(100, 999),
        )
        day = start + timedelta(days=rng.randrange(300))
        comment = '"' + text.replace('"', '""') + '"'
        lines.append(
            f"V{i},{day:%d/%m/%Y},Ward {ward},{rng.choice(labels)},{rng.randrange(11)},{comment}"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--staff", type=int, default=500)
    parser.add_argument("--wards", type=int, default=25)
    parser.add_argument("--seed", type=int, default=20240301)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    staff = make_staff(args.staff, args.wards, rng)
    data = make_csv(args.rows, staff, args.wards, rng)
    # a roster: 8 staff of the ward on each (ward, date); built once, like the DB query would
    by_ward: dict[int, list[int]] = {}
    for s in staff:
        for w in s.ward_ids:
            by_ward.setdefault(w, []).append(s.staff_id)
    roster_cache: dict[tuple[int, date], frozenset[int]] = {}

    def rostered(ward_id: int, day: date) -> frozenset[int]:
        key = (ward_id, day)
        if key not in roster_cache:
            r = random.Random(f"{ward_id}/{day.isoformat()}")
            roster_cache[key] = frozenset(r.sample(by_ward[ward_id], 8))
        return roster_cache[key]

    t0 = time.perf_counter()
    matcher = NameMatcher(staff)
    t1 = time.perf_counter()
    mapping = ColumnMapping(response_id="Response ID", date="Date", ward="Ward",
                            experience="Overall experience", recommend="Recommend",
                            comment="Comments")
    result = parse_survey(data, mapping, source="bench",
                          ward_lookup=lambda v: int(v.split()[-1]))
    t2 = time.perf_counter()
    assert result.ok, result.errors[:5]
    matched = redacted = held = negative = 0
    for row in result.rows:
        if row.comment:
            analysis = matcher.analyse(row.comment, row.ward_id,
                                       rostered(row.ward_id, row.response_date))
            red = redact(row.comment, matcher, matches=analysis)
            flags = classify(row.comment)
            matched += bool(analysis.matches)
            redacted += bool(red.found)
            held += bool(flags)
        negative += is_negative(row.experience, row.recommend, row.comment)
    t3 = time.perf_counter()

    total = t3 - t0
    print(f"rows: {len(result.rows):,}  staff: {len(staff)}  wards: {args.wards}  "
          f"csv: {len(data) / 1e6:.1f} MB")
    print(f"build matcher   {t1 - t0:7.2f} s")
    print(f"parse CSV       {t2 - t1:7.2f} s")
    print(f"match+redact+classify {t3 - t2:7.2f} s")
    print(f"total           {total:7.2f} s  ({len(result.rows) / total:,.0f} rows/s)")
    print(f"comments with a staff match: {matched:,}; with redactions: {redacted:,}; "
          f"held for moderation: {held:,}; negative: {negative:,}")


if __name__ == "__main__":
    main()
