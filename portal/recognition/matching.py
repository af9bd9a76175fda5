"""Find the staff that a patient-feedback comment names.

Pure Python (plus rapidfuzz): no Flask, no database.  Build one
:class:`NameMatcher` from the staff list and reuse it for every comment.

Precision comes first: a wrong name is worse than a missed one.  The rules,
in the order they are tried at each position of the comment:

1. **Full name** ("Sarah Jones", "sarah jones", "Kate Jones" for Katherine
   Jones): first name or short form followed by the surname of the same
   staff member.  One of the two may be a misspelling (fuzzy match).
2. **Title + name** ("Nurse Sarah", "Dr Patel", "Sister Jones", "staff nurse
   Amy", "Mr Okafor"): clinical titles allow a first name or a surname;
   courtesy titles (Mr, Mrs, Ms, Miss, Mx) only a surname of a ward member.
3. **Bare first name** ("Sarah was lovely", "thanks to kate"): resolved by
   preferring staff rostered that day, then staff of the ward.  Several
   candidates at the same level make the mention *ambiguous*: it is not
   matched but reported in :attr:`MatchResult.ambiguous` for the moderator.

A name after a relative or patient cue ("my husband John", "my mum Sarah",
"I'm Sarah", "the patient Joan") is never matched to staff.  Names that are
ordinary English words (Will, Mark, Rose, Grace, ...) need a capital letter
and must not start a sentence unless followed by e.g. "was"/"is"/"and".

Fuzzy matching (rapidfuzz, optimal string alignment distance 1, 2 for long
names) only runs for capitalised tokens of four letters or more that are not
known first names, not common English words and that start with the same
letter as the staff name; results are cached per token so the cost does not
grow with the number of comments.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import OSA

__all__ = [
    "StaffName",
    "Match",
    "AmbiguousMention",
    "MatchResult",
    "NameMatcher",
    "Token",
    "tokenize",
    "name_key",
    "NICKNAMES",
    "FIRST_NAMES",
    "COMMON_WORDS",
    "TITLES",
    "RELATION_WORDS",
    "PLACE_WORDS",
]

# ---------------------------------------------------------------------------
# Name data (our own lists).
# ---------------------------------------------------------------------------

# Each group: a formal name followed by its common short forms.  A name in a
# group is linked to the other names of that group only (no transitive
# closure), so "Chris" reaches Christopher and Christine, but Christopher is
# never linked to Christine.
NICKNAMES: tuple[tuple[str, ...], ...] = (
    ("katherine", "kate", "katie", "kath", "kathy", "kat", "kitty"),
    ("catherine", "cath", "cathy", "kate", "katie", "cat"),
    ("kathryn", "kate", "katie", "kath", "kathy"),
    ("elizabeth", "liz", "lizzie", "beth", "betty", "libby", "eliza", "bess"),
    ("william", "will", "bill", "billy", "liam", "willie"),
    ("margaret", "maggie", "meg", "peggy", "mags", "maggy"),
    ("robert", "rob", "bob", "bobby", "robbie", "bert"),
    ("roberta", "bobbie", "robbie"),
    ("jonathan", "jon", "jonny", "jonno"),
    ("john", "johnny", "jack"),
    ("michael", "mike", "mick", "micky", "mikey"),
    ("christopher", "chris", "kit"),
    ("christine", "chris", "chrissie", "tina"),
    ("christina", "chris", "chrissy", "tina"),
    ("alexander", "alex", "alec", "sandy", "xander"),
    ("alexandra", "alex", "lexi", "sasha"),
    ("andrew", "andy", "drew"),
    ("anthony", "tony", "ant"),
    ("benjamin", "ben", "benji", "benny"),
    ("daniel", "dan", "danny"),
    ("danielle", "dani"),
    ("david", "dave", "davy"),
    ("edward", "ed", "eddie", "ted", "ned"),
    ("frederick", "fred", "freddie"),
    ("james", "jim", "jimmy", "jamie"),
    ("joseph", "joe", "joey"),
    ("joshua", "josh"),
    ("matthew", "matt", "matty"),
    ("nicholas", "nick", "nicky"),
    ("nicola", "nicky", "nikki"),
    ("patrick", "pat", "paddy"),
    ("peter", "pete"),
    ("richard", "rich", "rick", "ricky", "richie"),
    ("samuel", "sam", "sammy"),
    ("samantha", "sam", "sammy"),
    ("stephen", "steve", "stevie"),
    ("steven", "steve", "stevie"),
    ("thomas", "tom", "tommy"),
    ("timothy", "tim", "timmy"),
    ("victoria", "vicky", "vic", "tori"),
    ("jennifer", "jen", "jenny"),
    ("jessica", "jess", "jessie"),
    ("rebecca", "becky", "becca", "bex"),
    ("susan", "sue", "susie", "suzy"),
    ("deborah", "debbie", "deb", "debs"),
    ("patricia", "pat", "patty", "trish", "tricia"),
    ("abigail", "abi", "abby"),
    ("charlotte", "charlie", "lottie"),
    ("eleanor", "ellie", "nell", "elle"),
    ("joanne", "jo"),
    ("joanna", "jo"),
    ("josephine", "jo", "josie"),
    ("kimberley", "kim"),
    ("natalie", "nat"),
    ("natasha", "tash", "tasha"),
    ("philip", "phil", "pip"),
    ("phillip", "phil"),
    ("rosemary", "rosie", "ros"),
    ("theresa", "tess", "terri"),
    ("teresa", "tess", "terri"),
    ("zachary", "zach", "zac"),
    ("mohammed", "mo"),
    ("muhammad", "mo"),
    ("mohammad", "mo"),
    ("mohamed", "mo"),
    ("oluwaseun", "seun"),
    ("oluwatobi", "tobi"),
    ("gregory", "greg"),
    ("raymond", "ray"),
    ("ronald", "ron", "ronnie"),
    ("kenneth", "ken", "kenny"),
    ("lawrence", "laurie", "larry"),
    ("leonard", "len", "lenny"),
    ("nathaniel", "nat", "nate"),
    ("oliver", "ollie"),
    ("henry", "harry", "hal"),
    ("geoffrey", "geoff"),
    ("gerald", "gerry"),
    ("terence", "terry"),
    ("jacqueline", "jackie", "jacqui"),
    ("barbara", "barb", "babs"),
    ("dorothy", "dot", "dotty"),
    ("frances", "fran", "frankie"),
    ("francesca", "fran", "frankie", "chesca"),
    ("francis", "frank", "frankie"),
    ("louise", "lou"),
    ("louisa", "lou"),
    ("amanda", "mandy"),
    ("georgina", "georgie", "gina"),
    ("angela", "angie"),
    ("isabel", "izzy", "issy", "bella"),
    ("isabella", "izzy", "bella"),
    ("isobel", "izzy", "issy"),
    ("olivia", "liv", "livvy"),
    ("sophia", "sophie"),
    ("valerie", "val"),
    ("gwendolyn", "gwen"),
    ("vanessa", "ness"),
    ("alfred", "alf", "alfie"),
    ("archibald", "archie"),
    ("stuart", "stu"),
    ("gareth", "gaz"),
    ("bartholomew", "bart"),
    ("cameron", "cam"),
    ("suzanne", "suzie", "sue"),
)

# A few hundred common first names seen in UK hospitals (staff, patients and
# relatives).  Used by redaction (names that are not staff) and to stop the
# fuzzy matcher from "correcting" a real name into a staff name.
FIRST_NAMES: frozenset[str] = frozenset(
    """
    aaron abdul abdullah abigail abu ada adam adebayo adeola adrian agnes ahmed
    aidan aisha aishwarya alan albert alex alexander alexandra alfie ali alice
    alison amanda amara amber amelia amina amir amy ana andrea andrew angela
    angus anita ann anna anne annie anthony antonio anu archie arjun arthur
    ashley asif audrey ava ayesha barbara barry beatrice ben benjamin bernard
    beth betty bill billy brenda brian bridget bronwen callum carl carlos carol
    caroline catherine cerys charles charlie charlotte chidi chinedu chloe chris
    christine christopher ciaran claire clare colin connor craig cynthia daisy
    dale daniel danielle darren david dawn dean debbie deborah declan deepa
    denise dennis derek diana diane dominic donna doris dorothy douglas duncan
    dylan edith edward eileen elaine eleanor elena elizabeth ella ellie elsie
    emeka emily emma eric erin ethan eve evelyn fatima fiona florence frances
    francesca frank fred freddie freya gail gareth gary gemma george georgia
    gerald gillian gladys glenys gordon grace graham gwen hamza hannah harold
    harriet harry harvey hassan hayley heather helen henry hilda holly hugh
    hussain ian ibrahim imran irene isaac isabel isla ivan jack jacob jake james
    jamie jan jane janet janice jasmine jason jean jeff jennifer jenny jeremy
    jessica jill jim joan joanne jodie joe john jonathan jordan joseph josh
    joshua joyce judith julia julie june justin kamal karen karim kate katherine
    kathleen katie kayleigh keith kelly kenneth kerry kevin khalid kieran kim
    kirsty kwame laura lauren leah lee leo leon lesley lewis liam lily linda
    lisa logan lois lorraine louis louise lucas lucy luke lynn lynne madison
    maisie malcolm mandy manuel margaret maria marie marion mark martha martin
    mary mason matthew maureen maya megan melanie michael michelle mildred
    mohammed molly monica muhammad nadia nancy naomi natalie natasha neil nicola
    nigel noah norma norman oliver olivia omar oscar owen paige pamela patricia
    patrick paul pauline pearl peggy penny peter philip phoebe piotr poppy priya
    rachel rahul rajesh ravi raymond rebecca reece rhys richard rita robert
    robin roger ronald rosa rose rosemary ross ruby russell ruth ryan sally sam
    samantha samuel sandra sara sarah scott sean shabnam shanice sharon sheila
    shirley siobhan simon sophie stacey stanley stella stephanie stephen steven
    stuart susan suzanne sylvia tanya teresa terry thomas tim timothy tina toby
    tom tommy tony tracey tracy trevor una valerie vanessa vera victoria vincent
    violet wendy william yasmin yusuf zainab zara zoe
    abdi adaeze agnieszka aleksandra anja bogdan cristina dorota ewa fernando
    funmilayo grzegorz jorge katarzyna kofi krzysztof lakshmi magdalena marcin
    marek mariana maricel mercy marisol nkechi ngozi obinna olga oluwaseun
    pawel precious rosalie sanjay sunita tomasz wojciech yetunde zofia joy
    rowan ewan ffion dafydd gethin mairead niamh aoife orla roisin sinead
    cormac eamon fergus hamish iain morag mhairi catriona alisha
    """.split()
) | frozenset(name for group in NICKNAMES for name in group)

# Ordinary English words that are also first names or surnames, plus words
# that are often capitalised in feedback.  They never start a fuzzy match, and
# as names they need extra evidence (capital letter, not sentence-initial).
COMMON_WORDS: frozenset[str] = frozenset(
    """
    a about above after again all also always am amazing an and any april are
    as ash at august autumn be bed bell best better bill bird black bless
    bloom blue bob born bright brilliant brook brown but by can care caring cat
    chance charity cheers christmas clay cook could crystal dale dawn day dean
    december did do doctor don dot drew duke each earl early east easter ever
    every everyone excellent faith february ford fox frank friday from gay gene
    glen gold good grace great green guy hall happy has have he heather her
    here hero hill his holly hope hospital how i ivy jack jade january jay
    jewel joy july june just king kit lance lane lee lily little long love
    lovely major march mark marsh matron may me mercy miles mike mill misty
    monday moon my nat new nick nurse of on or our page park pat patience
    pearl penny pip poppy pretty price rain ray reed rich rob robin rock rose
    ruby rush sage saturday september she sky snow so spring star sterling
    stone storm sue summer sunday sunny sweet tate that the their them then
    there they this thursday to tuesday ward was we wednesday well west
    what when where which white who will winter wood woods would wren young
    you your staff team thanks thank thankyou please sorry nurses doctors
    everything nothing overall however although because really very food
    service services night morning evening afternoon weekend week today
    yesterday tomorrow sister sisters porter porters physio kind kindness
    angel angels superb fantastic wonderful outstanding shout special
    absolutely nobody someone anyone everybody eve jan ant barb cam ness
    sandy ted val hal bess
    """.split()
)

# Titles that introduce a member of staff.  Multi-word titles are matched on
# their last word ("staff nurse" -> "nurse"), so only the last words are
# listed; the preceding words are just ordinary tokens.
CLINICAL_TITLES: frozenset[str] = frozenset(
    {"nurse", "sister", "matron", "dr", "doctor", "midwife", "physio", "hca",
     "prof", "professor", "consultant", "surgeon", "registrar", "therapist",
     "porter", "student", "sr", "rn", "ot", "nursing", "assistant"}
)
COURTESY_TITLES: frozenset[str] = frozenset({"mr", "mrs", "ms", "miss", "mx"})
TITLES: frozenset[str] = CLINICAL_TITLES | COURTESY_TITLES

# A name right after one of these, preceded by a possessive, is a relative or
# patient ("my husband John", "our nan Joan"), never staff.
RELATION_WORDS: frozenset[str] = frozenset(
    """
    mum mam mom mummy mother dad daddy father husband wife partner son
    daughter brother sister nan nana nanny gran granny grandma grandmother
    grandad grandpa grandfather grandson granddaughter aunt auntie aunty uncle
    cousin niece nephew friend neighbour baby boyfriend girlfriend fiance
    fiancee stepdad stepmum stepson stepdaughter carer child kids boy girl
    """.split()
)
_POSSESSIVES = frozenset({"my", "our", "his", "her", "their", "your"})
_SELF_CUES = frozenset({"i'm", "im"})
_PATIENT_WORDS = frozenset({"patient", "patients", "relative", "resident"})
# Words that typically follow a name used as the subject of a sentence.
_PREDICATE_WORDS = frozenset(
    """
    was is and who has had made helped went always really did does came took
    gave looked kept stayed were are on from in the at explained listened
    sorted cared treated showed got never so deserves
    """.split()
)
# Words after a name that make it a place, not a person ("Rose Ward").
PLACE_WORDS: frozenset[str] = frozenset(
    {"ward", "unit", "wing", "suite", "centre", "center", "house", "building",
     "hospital", "theatre", "theatres", "clinic", "block", "lodge", "department"}
)

# ---------------------------------------------------------------------------
# Tokenising.
# ---------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")
_ABBREV_GAP = re.compile(r"\.[ \t]*")
_ABBREVIATIONS = frozenset({"dr", "mr", "mrs", "ms", "mx", "sr", "prof", "st"})


@functools.lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """Normalise a name for lookup: case-folded, accents removed, ’ -> '."""
    if name.isascii():
        return name.lower()
    text = unicodedata.normalize("NFKD", name.replace("\u2019", "'"))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


class Token(NamedTuple):
    """A word of the comment.  ``end`` excludes a possessive "'s"."""

    text: str
    start: int
    end: int
    key: str
    capitalised: bool
    sentence_start: bool
    joined_prev: bool  # only spaces since the previous word (same name)


_BREAK_CHARS = frozenset(".!?\n;:")


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into word tokens with spans (apostrophes/hyphens inside)."""
    return list(_tokenize(text))


@functools.lru_cache(maxsize=8)
def _tokenize(text: str) -> tuple[Token, ...]:
    # Cached: redaction tokenises the same comment the matcher just did.
    tokens: list[Token] = []
    prev_end = 0
    prev_key = ""
    prev_whole = True  # previous word had no possessive "'s" cut off
    for m in _TOKEN_RE.finditer(text):
        word = m.group()
        start, end = m.span()
        if word[-1] in "sS" and len(word) > 2 and word[-2] in "'\u2019":
            end -= 2
            word = word[:-2]
        if not tokens:
            sentence_start, joined = True, False
        else:
            gap = text[prev_end:start]
            if prev_key in _ABBREVIATIONS and _ABBREV_GAP.fullmatch(gap):
                sentence_start, joined = False, True  # "Dr. Patel"
            else:
                sentence_start = not _BREAK_CHARS.isdisjoint(gap)
                joined = prev_whole and not gap.strip(" \t")
        key = name_key(word)
        tokens.append(Token(word, start, end, key, word[0].isupper(), sentence_start, joined))
        prev_end = m.end()
        prev_key = key
        prev_whole = end == prev_end
    return tuple(tokens)


# ---------------------------------------------------------------------------
# Public data types.
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaffName:
    """A member of staff as the matcher needs them."""

    staff_id: int
    full_name: str
    known_as: str | None = None
    ward_ids: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if not self.full_name or not _TOKEN_RE.search(self.full_name):
            raise ValueError(f"staff {self.staff_id!r} has no usable name")
        object.__setattr__(self, "ward_ids", frozenset(self.ward_ids))


@dataclass(frozen=True, slots=True)
class Match:
    """A mention of one member of staff."""

    staff_id: int
    matched_text: str
    span: tuple[int, int]
    confidence: float
    reason: str


@dataclass(frozen=True, slots=True)
class AmbiguousMention:
    """A staff name that could not be pinned to one person (for moderators)."""

    matched_text: str
    span: tuple[int, int]
    candidate_ids: tuple[int, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class MatchResult:
    matches: list[Match] = field(default_factory=list)
    ambiguous: list[AmbiguousMention] = field(default_factory=list)

    @property
    def staff_ids(self) -> set[int]:
        return {m.staff_id for m in self.matches}

    @property
    def spans(self) -> list[tuple[int, int]]:
        """Spans of all staff-name mentions (matched or ambiguous)."""
        return [m.span for m in self.matches] + [a.span for a in self.ambiguous]


# ---------------------------------------------------------------------------
# The matcher.
# ---------------------------------------------------------------------------

_EXACT = "first name"
_KNOWN_AS = "known as"
_SHORT = "short form"

_LEVEL_CONFIDENCE = {"rostered": 0.9, "ward": 0.8, "only staff": 0.7, "other ward": 0.6}


@dataclass(slots=True)
class _Lookup:
    """What one token may be: first-name and surname candidates."""

    key: str  # the vocabulary key (differs from the token's key when fuzzy)
    fuzzy: bool
    first: dict[int, str]  # staff_id -> kind (_EXACT / _KNOWN_AS / _SHORT)
    surname: frozenset[int]


_NO_LOOKUP = _Lookup("", False, {}, frozenset())
_SURNAME_PARTICLES = frozenset(
    {"van", "von", "de", "der", "den", "da", "di", "du", "le", "la", "al", "el", "bin", "ben", "dos"}
)


def _nickname_links() -> dict[str, set[str]]:
    links: dict[str, set[str]] = {}
    for group in NICKNAMES:
        for name in group:
            links.setdefault(name, set()).update(n for n in group if n != name)
    return links


_LINKS = _nickname_links()


class NameMatcher:
    """Index of staff names; build once, call :meth:`match` per comment."""

    def __init__(self, staff: Iterable[StaffName], *, fuzzy: bool = True) -> None:
        self.staff: dict[int, StaffName] = {}
        self._first: dict[str, dict[int, str]] = {}
        self._surname: dict[str, set[int]] = {}
        # multi-token surnames ("van der berg") as token tuples
        self._long_surname: dict[tuple[str, ...], set[int]] = {}
        self._fuzzy_enabled = fuzzy
        self._fuzzy_cache: dict[str, str | None] = {}
        for person in staff:
            if person.staff_id in self.staff:
                raise ValueError(f"staff id {person.staff_id!r} appears twice")
            self.staff[person.staff_id] = person
            self._index(person)
        self._first_frozen = {k: dict(v) for k, v in self._first.items()}
        self._surname_frozen = {k: frozenset(v) for k, v in self._surname.items()}
        by_letter: dict[str, list[str]] = {}
        for key in set(self._first) | set(self._surname):
            if len(key) >= 3 and key not in _LINKS_SHORT_ONLY:
                by_letter.setdefault(key[0], []).append(key)
        self._vocab_by_letter = {k: sorted(v) for k, v in by_letter.items()}
        self.vocabulary: frozenset[str] = frozenset(self._first) | frozenset(self._surname)

    # -- building ---------------------------------------------------------

    def _add_first(self, key: str, staff_id: int, kind: str) -> None:
        kinds = self._first.setdefault(key, {})
        current = kinds.get(staff_id)
        order = (_KNOWN_AS, _EXACT, _SHORT)
        if current is None or order.index(kind) < order.index(current):
            kinds[staff_id] = kind

    def _index(self, person: StaffName) -> None:
        words = [name_key(w) for w in _TOKEN_RE.findall(person.full_name)]
        words = [w for w in words if w not in TITLES]
        if not words:
            raise ValueError(f"staff {person.staff_id!r} has no usable name")
        first = words[0]
        firsts = {first: _EXACT}
        if person.known_as:
            known = [name_key(w) for w in _TOKEN_RE.findall(person.known_as)]
            if known:
                firsts[known[0]] = _KNOWN_AS
                if len(known) > 1:
                    self._add_surname((known[-1],), person.staff_id)
        for name, kind in list(firsts.items()):
            self._add_first(name, person.staff_id, kind)
            for short in _LINKS.get(name, ()):
                self._add_first(short, person.staff_id, _SHORT)
        if len(words) > 1:
            # surname = last word plus any lower-case particles before it
            i = len(words) - 1
            while i > 1 and words[i - 1] in _SURNAME_PARTICLES:
                i -= 1
            surname = tuple(words[i:])
            self._add_surname(surname, person.staff_id)

    def _add_surname(self, surname: tuple[str, ...], staff_id: int) -> None:
        if len(surname) == 1:
            self._surname.setdefault(surname[0], set()).add(staff_id)
            if "-" in surname[0]:  # double-barrelled: each part too
                for part in surname[0].split("-"):
                    if len(part) >= 2:
                        self._surname.setdefault(part, set()).add(staff_id)
        else:
            self._long_surname.setdefault(surname, set()).add(staff_id)
            self._surname.setdefault(surname[-1], set()).add(staff_id)

    # -- token lookup -----------------------------------------------------

    def _fuzzy_key(self, key: str) -> str | None:
        cached = self._fuzzy_cache.get(key, "")
        if cached != "":
            return cached
        result = None
        choices = self._vocab_by_letter.get(key[0])
        if choices:
            max_edits = 2 if len(key) >= 8 else 1
            found = process.extract(
                key, choices, scorer=OSA.distance, score_cutoff=max_edits, limit=3
            )
            if found:
                best = min(score for _, score, _ in found)
                winners = [choice for choice, score, _ in found if score == best]
                if len(winners) == 1:
                    winner = winners[0]
                    # four-letter words: only a swap of two letters counts
                    if len(key) >= 5 or sorted(winner) == sorted(key):
                        result = winner
        if len(self._fuzzy_cache) > 200_000:
            self._fuzzy_cache.clear()
        self._fuzzy_cache[key] = result
        return result

    def _lookup(self, tok: Token) -> _Lookup:
        key = tok.key
        first = self._first_frozen.get(key)
        surname = self._surname_frozen.get(key)
        if first is not None or surname is not None:
            return _Lookup(key, False, first or {}, surname or frozenset())
        if (
            self._fuzzy_enabled
            and tok.capitalised
            and len(key) >= 4
            and key not in COMMON_WORDS
            and key not in FIRST_NAMES
            and key not in TITLES
            and key.isalpha()
        ):
            fixed = self._fuzzy_key(key)
            if fixed is not None:
                return _Lookup(
                    fixed,
                    True,
                    self._first_frozen.get(fixed, {}),
                    self._surname_frozen.get(fixed, frozenset()),
                )
        return _NO_LOOKUP

    # -- resolving candidates ----------------------------------------------

    def _resolve(
        self,
        candidates: dict[int, str],
        ward_id: int | None,
        rostered: frozenset[int],
        allow_global: bool,
    ) -> tuple[int | None, str, tuple[int, ...]]:
        """Pick one staff member: rostered first, then ward, then anyone.

        Returns ``(staff_id, level, ())`` on success, ``(None, reason,
        candidate_ids)`` when ambiguous and ``(None, "", ())`` when nobody
        fits.  Within a level, people whose own first name / known-as name
        was used beat people reached through a short form.
        """
        ids = set(candidates)
        exact = {i for i, kind in candidates.items() if kind != _SHORT}
        levels: list[tuple[str, set[int]]] = [("rostered", ids & rostered)]
        if ward_id is not None:
            levels.append(("ward", {i for i in ids if ward_id in self.staff[i].ward_ids}))
            if allow_global:
                levels.append(("other ward", ids))
        elif allow_global:
            levels.append(("only staff", ids))
        for level, pool in levels:
            if not pool:
                continue
            for tier in (pool & exact, pool):
                if len(tier) == 1:
                    return next(iter(tier)), level, ()
                if len(tier) > 1:
                    return None, f"{len(tier)} {level} staff share this name", tuple(sorted(tier))
        if ids:
            where = "on this ward" if ward_id is not None else "unique"
            return None, f"staff name, but nobody {where}", tuple(sorted(ids))
        return None, "", ()

    # -- context ------------------------------------------------------------

    @staticmethod
    def _relative_cue(tokens: list[Token], i: int) -> bool:
        """True when token ``i`` follows "my husband", "our mum", "I'm", ..."""
        for back in (1, 2, 3):
            j = i - back
            if j < 0:
                break
            key = tokens[j].key
            if key in _SELF_CUES or (key == "am" and j > 0 and tokens[j - 1].key == "i"):
                return back == 1
            if key in _PATIENT_WORDS and back <= 2:
                return True
            if key == "is" and j > 1 and tokens[j - 1].key == "name":
                return back == 1
            if key in RELATION_WORDS:
                for k in (j - 1, j - 2):
                    if k >= 0 and tokens[k].key in _POSSESSIVES:
                        return True
                # "Sister" capitalised with no possessive is a title.
        return False

    @staticmethod
    def _title_before(tokens: list[Token], i: int) -> str | None:
        if i == 0:
            return None
        prev = tokens[i - 1]
        if prev.key in TITLES and not _gap_breaks(prev, tokens[i]):
            if prev.key == "sister" and i >= 2 and tokens[i - 2].key in _POSSESSIVES:
                return None
            return prev.key
        return None

    # -- matching -----------------------------------------------------------

    def match(
        self, text: str, ward_id: int | None = None, rostered_ids: Iterable[int] = frozenset()
    ) -> list[Match]:
        """Confident staff mentions in ``text`` (see :meth:`analyse`)."""
        return self.analyse(text, ward_id, rostered_ids).matches

    def analyse(
        self, text: str, ward_id: int | None = None, rostered_ids: Iterable[int] = frozenset()
    ) -> MatchResult:
        """Staff mentions in ``text``, plus ambiguous ones for the moderator.

        ``ward_id`` is the ward the feedback is about; ``rostered_ids`` the
        staff rostered on that ward that day.
        """
        result = MatchResult()
        if not text:
            return result
        rostered = rostered_ids if isinstance(rostered_ids, frozenset) else frozenset(rostered_ids)
        tokens = _tokenize(text)
        n = len(tokens)
        lookups = [self._lookup(t) for t in tokens]
        i = 0
        while i < n:
            look = lookups[i]
            if not look.first and not look.surname:
                i += 1
                continue
            tok = tokens[i]
            if self._relative_cue(tokens, i):
                i += 1
                continue
            title = self._title_before(tokens, i)
            # 1. full name
            consumed = self._try_full_name(text, tokens, lookups, i, ward_id, rostered, title, result)
            if consumed:
                i += consumed
                continue
            # 2./3. title + name, bare first name
            self._try_single(text, tokens, lookups, i, ward_id, rostered, title, result)
            i += 1
        if result.ambiguous and result.matches:
            self._settle_ambiguous(result)
        return result

    @staticmethod
    def _settle_ambiguous(result: MatchResult) -> None:
        """"Sarah ... Sarah Jones": an ambiguous mention whose candidates
        include exactly one person named unambiguously in the same comment is
        that person."""
        named = result.staff_ids
        still: list[AmbiguousMention] = []
        for amb in result.ambiguous:
            hits = named.intersection(amb.candidate_ids)
            if len(hits) == 1:
                result.matches.append(
                    Match(next(iter(hits)), amb.matched_text, amb.span, 0.85,
                          "name also given in full in this comment")
                )
            else:
                still.append(amb)
        result.ambiguous[:] = still
        result.matches.sort(key=lambda m: m.span)

    def _try_full_name(self, text, tokens, lookups, i, ward_id, rostered, title, result) -> int:
        look = lookups[i]
        if not look.first or i + 1 >= len(tokens):
            return 0
        tok = tokens[i]
        nxt = tokens[i + 1]
        if _gap_breaks(tok, nxt):
            return 0
        # multi-word surnames first ("van der Berg")
        for length in (3, 2):
            if i + length < len(tokens) + 1 and i + 1 + length <= len(tokens):
                words = tuple(t.key for t in tokens[i + 1 : i + 1 + length])
                ids = self._long_surname.get(words)
                if ids:
                    both = {s: k for s, k in look.first.items() if s in ids}
                    if both:
                        return self._emit_full(text, tokens, i, i + length, both, look.fuzzy,
                                               False, ward_id, rostered, title, result)
        sur = lookups[i + 1]
        if not sur.surname:
            return 0
        both = {s: k for s, k in look.first.items() if s in sur.surname}
        if not both or (look.fuzzy and sur.fuzzy):
            return 0
        if not (tok.capitalised and nxt.capitalised):
            # lower-case full names: exact spelling only, and not two ordinary words
            if look.fuzzy or sur.fuzzy or (tok.key in COMMON_WORDS and nxt.key in COMMON_WORDS):
                return 0
        return self._emit_full(text, tokens, i, i + 1, both, look.fuzzy or sur.fuzzy,
                               True, ward_id, rostered, title, result)

    def _emit_full(self, text, tokens, i, j, both, fuzzy, _single, ward_id, rostered, title, result) -> int:
        start, end = tokens[i].start, tokens[j].end
        if len(both) == 1:
            staff_id = next(iter(both))
            level = "unique"
        else:
            staff_id, level, cands = self._resolve(both, ward_id, rostered, allow_global=False)
            if staff_id is None:
                if cands:
                    result.ambiguous.append(
                        AmbiguousMention(text[start:end], (start, end), cands, f"full name: {level}")
                    )
                return j - i + 1
        confidence = 0.98 if not fuzzy else 0.88
        if ward_id is not None and ward_id not in self.staff[staff_id].ward_ids and staff_id not in rostered:
            confidence -= 0.08
        kind = both[staff_id]
        reason = "full name" + (" (short form)" if kind == _SHORT else "") + (" (misspelt)" if fuzzy else "")
        if level != "unique":
            reason += f"; {level}"
        result.matches.append(Match(staff_id, text[start:end], (start, end), round(confidence, 2), reason))
        return j - i + 1

    def _try_single(self, text, tokens, lookups, i, ward_id, rostered, title, result) -> None:
        tok = tokens[i]
        look = lookups[i]
        span = (tok.start, tok.end)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt is not None and nxt.key in PLACE_WORDS and nxt.joined_prev:
            return  # "Rose Ward", "Florence Unit": a place
        if title is not None:
            if title in COURTESY_TITLES:
                if not look.surname:
                    return
                cands = {s: _EXACT for s in look.surname}
                staff_id, level, amb = self._resolve(cands, ward_id, rostered, allow_global=False)
                what = f"{title} + surname"
            else:
                cands = {s: k for s, k in look.first.items()}
                what = f"{title} + first name"
                if not cands or (look.surname and tok.capitalised and look.key not in self._first_frozen):
                    cands = {s: _EXACT for s in look.surname}
                    what = f"{title} + surname"
                elif look.surname and not (nxt and lookups[i + 1].surname):
                    # a word that is both a first name and a surname: use both
                    for s in look.surname:
                        cands.setdefault(s, _EXACT)
                    what = f"{title} + name"
                staff_id, level, amb = self._resolve(
                    cands, ward_id, rostered, allow_global=not look.fuzzy
                )
            if staff_id is None:
                if amb:
                    result.ambiguous.append(AmbiguousMention(tok.text, span, amb, f"{what}: {level}"))
                return
            base = _LEVEL_CONFIDENCE[level] + 0.07
            self._emit_single(text, tok, look, staff_id, level, base, what, result)
            return
        # bare first name
        if not look.first:
            return
        if not tok.capitalised and (look.fuzzy or tok.key in COMMON_WORDS or len(tok.key) < 3):
            return
        if tok.capitalised and (tok.key in COMMON_WORDS or look.fuzzy):
            if tok.sentence_start and not (nxt and nxt.key in _PREDICATE_WORDS and not _gap_breaks(tok, nxt)):
                return
        if tok.text.isupper() and len(tok.text) > 1 and tok.key in COMMON_WORDS:
            return
        if nxt is not None and nxt.capitalised and not _gap_breaks(tok, nxt):
            # "Sarah Smith" when no staff member is called that: someone else
            if nxt.key not in COMMON_WORDS and nxt.key not in TITLES and lookups[i + 1] is _NO_LOOKUP:
                return
            if lookups[i + 1].surname and not lookups[i + 1].first:
                return  # first name + another staff surname: not this person
        # A bare first name only reaches staff of other wards when no ward is known.
        staff_id, level, amb = self._resolve(
            look.first, ward_id, rostered, allow_global=ward_id is None and not look.fuzzy
        )
        if staff_id is None:
            if amb:
                result.ambiguous.append(AmbiguousMention(tok.text, span, amb, f"first name: {level}"))
            return
        if look.fuzzy and level not in ("rostered", "ward"):
            return
        self._emit_single(text, tok, look, staff_id, level, _LEVEL_CONFIDENCE[level], "first name", result)

    def _emit_single(self, text, tok, look, staff_id, level, base, what, result) -> None:
        kind = look.first.get(staff_id, _EXACT)
        confidence = base
        reason = what
        if kind == _SHORT:
            confidence -= 0.05
            reason += " (short form)"
        elif kind == _KNOWN_AS:
            reason += " (known as)"
        if look.fuzzy:
            confidence -= 0.1
            reason += f" (misspelt {tok.text!r} ~ {look.key!r})"
        reason += f"; {level}"
        result.matches.append(
            Match(staff_id, text[tok.start : tok.end], (tok.start, tok.end),
                  round(min(confidence, 0.99), 2), reason)
        )


def _gap_breaks(a: Token, b: Token) -> bool:
    """Whether ``b`` does not directly follow ``a`` within one name."""
    return not b.joined_prev


# short forms that are too short/generic to be fuzzy targets
_LINKS_SHORT_ONLY: frozenset[str] = frozenset(
    n for group in NICKNAMES for n in group[1:] if len(n) <= 3
)
