"""Knowledge-base co-occurrence against a brute-force oracle written from the documentation.

The oracle below follows the module docs of ``rust/core/src/facts/window.rs`` (what a window is)
and ``rust/core/src/facts/kb.rs`` (entities, surface forms, occurrences, counting) sentence by
sentence; it is meant to be obviously correct, not fast: every window is cut out as a string,
every surface form is tried at every position, every fact is tested against every window.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import monofact as mf

WINDOWS = ["sentence", "line", "paragraph", "document", "tokens:1", "tokens:2", "tokens:4"]

# --- characters, as the core defines them -------------------------------------------------------


def is_alnum(c: str) -> bool:
    """Rust's ``char::is_alphanumeric``; Python's ``isalnum`` agrees on every character the
    strategies below generate."""
    return c.isalnum()


def is_space(c: str) -> bool:
    """Unicode White_Space (Rust's ``char::is_whitespace``). Python's ``isspace`` also says yes to
    the ASCII separators U+001C..U+001F, which are not White_Space: leave them out."""
    return c.isspace() and c not in "\x1c\x1d\x1e\x1f"


def fold(text: str) -> str:
    """Per-character Unicode lowercase, no context rules (Python's ``str.lower`` applies the
    final-sigma rule to whole strings, so lower each character on its own)."""
    return "".join(c.lower() for c in text)


# --- windows (window.rs) --------------------------------------------------------------------------

TERMINATORS = ".!?"
CLOSERS = "\"')]\u2019\u201d"


def lines(text: str) -> list[str]:
    """Line: the text between ``\\n`` characters."""
    return text.split("\n")


def paragraphs(text: str) -> list[str]:
    """Paragraph: separated by every maximal run of whitespace that holds two or more ``\\n``."""
    out: list[str] = []
    start = 0
    i = 0
    while i < len(text):
        if not is_space(text[i]):
            i += 1
            continue
        j = i
        while j < len(text) and is_space(text[j]):
            j += 1
        if text[i:j].count("\n") >= 2:
            out.append(text[start:i])
            start = j
        i = j
    out.append(text[start:])
    return out


def sentences(paragraph: str) -> list[str]:
    """Sentence: split after every run of ``.!?``, optionally followed by closers, that is
    followed by whitespace or by the end of the paragraph."""
    out: list[str] = []
    start = 0
    i = 0
    n = len(paragraph)
    while i < n:
        if paragraph[i] not in TERMINATORS:
            i += 1
            continue
        j = i
        while j < n and paragraph[j] in TERMINATORS:
            j += 1
        while j < n and paragraph[j] in CLOSERS:
            j += 1
        if j == n or is_space(paragraph[j]):
            out.append(paragraph[start:j])
            start = j
        i = j
    if start < n or n == 0:  # no empty sentence after a final sentence end
        out.append(paragraph[start:])
    return out


def windows(kind: str, text: str) -> list[str]:
    if kind == "document":
        return [text]
    if kind == "line":
        return lines(text)
    if kind == "paragraph":
        return paragraphs(text)
    if kind == "sentence":
        return [s for p in paragraphs(text) for s in sentences(p)]
    raise AssertionError(kind)


# --- the knowledge base (kb.rs) -------------------------------------------------------------------


@dataclass
class Row:
    subject: str
    relation: str
    object: str
    subject_aliases: list[str] = field(default_factory=list)
    object_aliases: list[str] = field(default_factory=list)


def surface_forms(rows: list[Row], case_insensitive: bool) -> dict[str, set[str]]:
    """Surface form -> the entities (canonical names) it stands for. An entity is a distinct
    name, subject or object; its forms are the name and every alias given for it in any row."""
    forms: dict[str, set[str]] = defaultdict(set)
    norm = fold if case_insensitive else (lambda s: s)
    for r in rows:
        forms[norm(r.subject)].add(r.subject)
        forms[norm(r.object)].add(r.object)
        for a in r.subject_aliases:
            forms[norm(a)].add(r.subject)
        for a in r.object_aliases:
            forms[norm(a)].add(r.object)
    return forms


def occurrences(window: str, forms: dict[str, set[str]]) -> list[tuple[int, str]]:
    """(start, form) of every occurrence in the window: scanning left to right, at the first
    position where some form occurs with word boundaries (the characters before and after it, inside
    the window, are not alphanumeric), the longest such form is taken and the scan resumes after
    it."""
    out: list[tuple[int, str]] = []
    p = 0
    while p < len(window):
        found = [
            f
            for f in forms
            if window.startswith(f, p)
            and (p == 0 or not is_alnum(window[p - 1]))
            and (p + len(f) == len(window) or not is_alnum(window[p + len(f)]))
        ]
        if found:
            f = max(found, key=len)
            out.append((p, f))
            p += len(f)
        else:
            p += 1
    return out


def token_position(text: str, start: int) -> int:
    """The number of word tokens (maximal alphanumeric runs) that start before ``start``."""
    return sum(
        1 for i in range(start) if is_alnum(text[i]) and (i == 0 or not is_alnum(text[i - 1]))
    )


def mentions_in_document(
    text: str, rows: list[Row], kind: str, case_insensitive: bool
) -> dict[tuple[str, str, str], int]:
    """How many times each fact is mentioned in one document (at most once per window)."""
    facts = {(r.subject, r.relation, r.object) for r in rows}
    forms = surface_forms(rows, case_insensitive)
    if case_insensitive:
        text = fold(text)
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    if kind.startswith("tokens:"):
        k = int(kind.split(":")[1])
        occ = [(token_position(text, start), forms[f]) for start, f in occurrences(text, forms)]
        for t, subjects in occ:
            near: set[str] = set()
            for u, entities in occ:
                if abs(u - t) <= k:
                    near |= entities
            for s, r, o in facts:
                if s in subjects and o in near:
                    counts[(s, r, o)] += 1
        return counts
    for w in windows(kind, text):
        entities: set[str] = set()
        for _, f in occurrences(w, forms):
            entities |= forms[f]
        for s, r, o in facts:
            if s in entities and o in entities:
                counts[(s, r, o)] += 1
    return counts


def oracle_table(
    docs: list[str], rows: list[Row], kind: str, case_insensitive: bool
) -> dict[tuple[str, str, str], tuple[int, int, int | None]]:
    """fact -> (mentions, documents, first_document), unmentioned facts included with zeros."""
    table: dict[tuple[str, str, str], list] = {
        (r.subject, r.relation, r.object): [0, 0, None] for r in rows
    }
    for d, text in enumerate(docs):
        for fact, n in mentions_in_document(text, rows, kind, case_insensitive).items():
            entry = table[fact]
            entry[0] += n
            entry[1] += 1
            if entry[2] is None:
                entry[2] = d
    return {k: (v[0], v[1], v[2]) for k, v in table.items()}


def kb_table(rows: list[Row]) -> pa.Table:
    return pa.table(
        {
            "subject": [r.subject for r in rows],
            "relation": [r.relation for r in rows],
            "object": [r.object for r in rows],
            "subject_aliases": pa.array([r.subject_aliases for r in rows], pa.list_(pa.string())),
            "object_aliases": pa.array([r.object_aliases for r in rows], pa.list_(pa.string())),
        }
    )


def monofact_table(
    docs: list[str], rows: list[Row], kind: str, case_insensitive: bool, count_by: str = "mention"
) -> tuple[dict[tuple[str, str, str], tuple[int, int, int | None]], mf.FactCounts]:
    f = mf.count_facts(
        pa.table({"text": docs}),
        knowledge_base=kb_table(rows),
        window=kind,
        case_insensitive=case_insensitive,
        count_by=count_by,
        threads=1,
        progress="none",
    )
    t = f.table().to_pylist()
    out = {
        (x["subject"], x["relation"], x["object"]): (
            x["mentions"],
            x["documents"],
            x["first_document"],
        )
        for x in t
    }
    assert len(out) == len(t), "a fact listed twice"
    return out, f


# --- hand-made cases straight from the docs -------------------------------------------------------


def test_oracle_windows_match_the_documented_examples():
    text = 'He went. She said "no!" Then?? ok\nstill one.\n\nNew para. 3.5 stays'
    assert windows("sentence", text) == [
        "He went.",
        ' She said "no!"',
        " Then??",
        " ok\nstill one.",
        "New para.",
        " 3.5 stays",
    ]
    text = "a\nb\n \t\nc\n\n\nd"
    assert windows("paragraph", text) == ["a\nb", "c", "d"]
    assert windows("line", text) == ["a", "b", " \t", "c", "", "", "d"]


def test_oracle_occurrences_follow_the_boundary_rule():
    forms = {"New": {"New"}, "New York": {"New York"}}
    # "New York" fails the end boundary in "New Yorker", so "New" is found.
    assert occurrences("New Yorker", forms) == [(0, "New")]
    assert occurrences("New York!", forms) == [(0, "New York")]
    assert occurrences("ANew", forms) == []


CASES = [
    # (documents, rows, window, case_insensitive, expected {fact: mentions})
    (["Paris is in France. France is big."], [Row("Paris", "in", "France")], "sentence", False, 1),
    (
        ["Paris is in France. France has Paris."],
        [Row("Paris", "in", "France")],
        "sentence",
        False,
        2,
    ),
    (["Paris. France"], [Row("Paris", "in", "France")], "sentence", False, 0),
    (["Paris.France"], [Row("Paris", "in", "France")], "sentence", False, 1),
    (["Paris\nFrance"], [Row("Paris", "in", "France")], "sentence", False, 1),
    (["Paris\nFrance"], [Row("Paris", "in", "France")], "line", False, 0),
    (["Paris\n \nFrance"], [Row("Paris", "in", "France")], "paragraph", False, 0),
    (["Paris\n \nFrance"], [Row("Paris", "in", "France")], "document", False, 1),
    (["paris, FRANCE"], [Row("Paris", "in", "France")], "sentence", True, 1),
    (["paris, FRANCE"], [Row("Paris", "in", "France")], "sentence", False, 0),
    (
        ["Lutetia in Gaul"],
        [Row("Paris", "in", "France", ["Lutetia"], ["Gaul"])],
        "sentence",
        False,
        1,
    ),
    (["Paris a b c France"], [Row("Paris", "in", "France")], "tokens:3", False, 0),
    (["Paris a b France"], [Row("Paris", "in", "France")], "tokens:3", False, 1),
    (["Paris France Paris"], [Row("Paris", "in", "France")], "tokens:1", False, 2),
    (["Parisian France"], [Row("Paris", "in", "France")], "document", False, 0),
    (["Narcissus loves Narcissus"], [Row("Narcissus", "loves", "Narcissus")], "sentence", False, 1),
]


@pytest.mark.parametrize("docs,rows,kind,ci,expected", CASES)
def test_hand_made_cases(docs, rows, kind, ci, expected):
    fact = (rows[0].subject, rows[0].relation, rows[0].object)
    want = oracle_table(docs, rows, kind, ci)
    assert want[fact][0] == expected, "the oracle itself disagrees with the hand count"
    got, _ = monofact_table(docs, rows, kind, ci)
    assert got == want


def test_aliases_belong_to_the_name_not_the_row():
    # "Sam" is an alias given in the row where Samuel is a subject; it also names Samuel the object.
    rows = [Row("Samuel", "knows", "Eli", ["Sam"]), Row("Hannah", "mother of", "Samuel")]
    docs = ["Hannah bore Sam.", "Sam served Eli."]
    want = oracle_table(docs, rows, "sentence", False)
    assert want[("Hannah", "mother of", "Samuel")] == (1, 1, 0)
    assert want[("Samuel", "knows", "Eli")] == (1, 1, 1)
    got, _ = monofact_table(docs, rows, "sentence", False)
    assert got == want


def test_shared_surface_form_stands_for_every_entity():
    rows = [
        Row("Georgia", "capital", "Atlanta"),
        Row("Georgia", "capital", "Tbilisi"),
        Row("GA", "x", "Atlanta"),
    ]
    rows[2].subject_aliases = ["Georgia"]
    docs = ["Georgia: Atlanta and Tbilisi. Georgia again."]
    got, _ = monofact_table(docs, rows, "sentence", False)
    assert got == oracle_table(docs, rows, "sentence", False)
    assert got[("GA", "x", "Atlanta")][0] == 1


# --- random corpora and knowledge bases -----------------------------------------------------------

# Name pieces: ASCII words that prefix one another, case variants, non-ASCII letters whose
# lowercase changes the byte length (U+1E9E -> U+00DF, KELVIN SIGN -> k), a digit.
PIECES = [
    "ab",
    "a",
    "abc",
    "Ab",
    "AB",
    "b",
    "ba",
    "\u00e9t\u00e9",
    "\u00c9T\u00c9",
    "\u1e9e",
    "\u00df",
    "\u212a",
    "k",
    "7",
]
NAME_GLUE = [" ", " ", "-", ".", " & ", ". ", "\n"]  # the last two span sentence or line ends
# Text glue: word separators, sentence ends (with closers), line and paragraph breaks, other
# Unicode spaces, and alphanumeric glue that breaks word boundaries.
TEXT_GLUE = [
    " ",
    " ",
    " ",
    ", ",
    ". ",
    "! ",
    "?? ",
    '." ',
    ".) ",
    ".",
    "\n",
    "\n\n",
    "\n \n",
    " \r\n",
    "\t",
    "\u00a0",
    "\u2003",
    "x",
    "1",
    "\u2019",
    "\u201d ",
    "-",
    "...",
    "\r\n\r\n",
    "\n\u00a0\n",
    "\u0085",
    "\n\x0b\n",
    "\x0c",
    "(",
    "]",
]

names = st.lists(st.sampled_from(PIECES), min_size=1, max_size=3).flatmap(
    lambda parts: st.lists(
        st.sampled_from(NAME_GLUE), min_size=len(parts) - 1, max_size=len(parts) - 1
    ).map(lambda glue: "".join(p + g for p, g in zip(parts, glue + [""])))
)

# Aliases may begin or end with punctuation: the boundary test is on the characters around the
# occurrence, whatever the form's own first and last characters are.
aliases = st.one_of(
    names, names.map(lambda n: n + "."), names.map(lambda n: "(" + n), names.map(lambda n: n + "!")
)


@st.composite
def knowledge_bases(draw) -> list[Row]:
    pool = draw(st.lists(names, min_size=2, max_size=6, unique=True))
    n = draw(st.integers(1, 6))
    rows = []
    for _ in range(n):
        rows.append(
            Row(
                subject=draw(st.sampled_from(pool)),
                relation=draw(st.sampled_from(["r", "q"])),
                object=draw(st.sampled_from(pool)),
                subject_aliases=draw(st.lists(aliases, max_size=1)),
                object_aliases=draw(st.lists(aliases, max_size=1)),
            )
        )
    return rows


@st.composite
def corpora(draw, rows: list[Row]) -> list[str]:
    vocabulary = (
        sorted(
            {r.subject for r in rows}
            | {r.object for r in rows}
            | {a for r in rows for a in r.subject_aliases + r.object_aliases}
        )
        + PIECES
    )
    docs = []
    for _ in range(draw(st.integers(1, 4))):
        words = draw(st.lists(st.sampled_from(vocabulary), max_size=10))
        glue = draw(st.lists(st.sampled_from(TEXT_GLUE), min_size=len(words), max_size=len(words)))
        docs.append("".join(g + w for g, w in zip(glue, words)))
    return docs


@st.composite
def cases(draw):
    rows = draw(knowledge_bases())
    docs = draw(corpora(rows))
    return docs, rows


def check(docs: list[str], rows: list[Row], kind: str, ci: bool) -> None:
    want = oracle_table(docs, rows, kind, ci)
    got, f = monofact_table(docs, rows, kind, ci)
    assert got == want, f"docs={docs!r} rows={rows!r} window={kind} case_insensitive={ci}"
    # The summary follows from the table (MATH.md section 2).
    s = f.summary
    mentioned = {k: v for k, v in want.items() if v[0] > 0}
    assert s["samples"] == sum(v[0] for v in mentioned.values())
    assert s["distinct"] == len(mentioned)
    assert s["n1"] == sum(1 for v in mentioned.values() if v[0] == 1)
    per_prompt: dict[tuple[str, str], int] = defaultdict(int)
    for (subj, rel, _), v in mentioned.items():
        per_prompt[(subj, rel)] += v[0]
    singles = sum(1 for n in per_prompt.values() if n == 1)
    assert s["singleton_prompts"] == singles
    if s["samples"]:
        assert s["singleton_rate"] == pytest.approx(singles / s["samples"])
    # Counting by document: the documents column becomes the count.
    by_doc, fd = monofact_table(docs, rows, kind, ci, count_by="document")
    assert by_doc == want
    assert fd.summary["samples"] == sum(v[1] for v in mentioned.values())


FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("kind", WINDOWS)
@FAST
@given(case=cases(), ci=st.booleans())
def test_kb_matches_oracle(case, kind, ci):
    docs, rows = case
    check(docs, rows, kind, ci)
