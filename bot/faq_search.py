"""Find the FAQ entry a free-text question is about, across every exercise.

People type "pogo how high", "dumbell same side single leg?" or "is it ok for
beginers": keywords in any order, typos, the exercise's name mixed in. Whole-
string fuzzy ratios handle that badly: a short query partially matches almost
any long question, and under ``token_set_ratio`` the single word "how" scores
100 against every question that contains it. So the search scores words:

* Every text is normalized the same way (``normalize``): accents removed,
  casefolded, everything but letters and digits turned into word breaks, and
  a plural "s" dropped (``_stem``), so "hops" and "hop" are one word.
* Each query word is matched to the words of the FAQ with rapidfuzz's OSA
  distance, where a swapped pair of letters is one edit. Similarity is
  ``1 - edits / length`` of the longer word, which allows no edit when that
  word has up to two letters, one up to five letters and two beyond.
  A shared start of four letters or more ("jump", "jumping") scores
  0.8, and so does a listed everyday synonym ("ok" for "safe", ``_SYNONYMS``).
* Words weigh by how rare they are across the FAQ entries (inverse document
  frequency over question, exercise name and answer, to the power 1.5), so
  "pogo", "jump" or "dumbbell" decide the match and "how", "i" or "the"
  barely count. A word the FAQ never uses weighs like the FAQ's word at the
  lower quartile of all weights.
* An entry scores on two coverages. ``query_cover``: the share of the
  query's weight the entry explains, where the question and the exercise's
  name count fully and words found only in the answer count half.
  ``question_cover``: the share of the question's weight the query mentions.
  The score is their harmonic mean weighted 3:1 towards ``query_cover``
  (people type keywords, not whole questions), scaled down when the matched
  words carry less weight than one fairly rare word (so "how" or "what" alone
  match nothing), times 100. A question typed exactly, in any word order,
  scores 100.

``BEST_THRESHOLD`` and ``ALTERNATIVE_THRESHOLD`` come from measurements on
the real content (the lists in tests/test_faq_search.py): realistic queries
score 61.7 or more (typed questions 100), chatter that shares a word with the
FAQ ("what is love", "can you help me", "ok") at most 52.1, and gibberish
("asdfgh qwerty", "pizza recipe") 0. The best hit needs 57, the middle of
that gap. Vague but on-topic queries ("reps for tibialis" 43, "what about
shoes" 53) still deserve a "did you mean", so alternatives need only 40.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.domain import Catalog, Exercise, FaqEntry

__all__ = [
    "ALTERNATIVE_THRESHOLD",
    "BEST_THRESHOLD",
    "EMPTY",
    "MAX_ALTERNATIVES",
    "MAX_QUERY_CHARS",
    "PREFER_MARGIN",
    "FaqHit",
    "FaqIndex",
    "SearchResult",
    "normalize",
]

#: Characters of the raw message, from its first letter or digit, that are read.
MAX_INPUT_CHARS = 2000
#: Characters of the normalized query that are matched (cut at a word break).
MAX_QUERY_CHARS = 300
#: Distinct query words that are matched.
MAX_QUERY_WORDS = 60

#: Minimum score of the best hit; below it the search answers "no match".
BEST_THRESHOLD = 57.0
#: Minimum score of a "did you mean" alternative.
ALTERNATIVE_THRESHOLD = 40.0
#: At most this many alternatives are offered.
MAX_ALTERNATIVES = 3
#: Points by which the preferred exercise's entries may trail and still rank first.
PREFER_MARGIN = 10.0

#: ``SearchResult.problem`` when the query has no letters or digits.
EMPTY = "empty"

_ANSWER_FACTOR = 0.5
_PREFIX_SIMILARITY = 0.8
_SYNONYM_SIMILARITY = 0.8
_MIN_PREFIX = 4
_MIN_IDF = 0.05
_WEIGHT_POWER = 1.5
# A word the FAQ never uses weighs like the word at this quantile of all weights.
_UNKNOWN_QUANTILE = 0.25
# Matched words must weigh as much as a word used by this many entries to count fully.
_INFORMATION_FREQUENCY = 3
# The harmonic mean weighs query_cover this many times as much as question_cover.
_QUERY_COVER_BIAS = 3.0

# Everyday words people use for words the FAQ uses; keys and values stemmed.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "ok": ("safe", "good", "normal", "fine"),
    "okay": ("safe", "good", "normal", "fine"),
    "alright": ("safe", "good", "normal", "fine"),
    "fine": ("safe", "good", "normal"),
    "hurt": ("pain",),
    "hurting": ("pain", "hurt"),
    "painful": ("pain", "hurt"),
    "pain": ("hurt",),
    "jump": ("hop",),
    "jumping": ("hop", "jump"),
    "hop": ("jump",),
    "hopping": ("hop", "jump"),
    "height": ("high",),
    "speed": ("slow", "fast", "quick"),
    "fast": ("slow", "quick"),
    "quick": ("slow", "fast"),
    "barefoot": ("shoe",),
    "sneaker": ("shoe",),
    "wrong": ("mistake",),
    "error": ("mistake",),
    "ground": ("floor", "surface"),
    "difficult": ("harder", "progress"),
    "harder": ("progress",),
    "frequency": ("often",),
}

_APOSTROPHES = re.compile(r"['\u2019\u02bc`]")
_WORD = re.compile(r"[^\W_]+")
_FIRST_WORD_CHAR = re.compile(r"[^\W_]")


@dataclass(frozen=True, slots=True)
class FaqHit:
    """One FAQ entry that matches a query: ``exercise.faq[index] is entry``."""

    exercise: Exercise
    index: int
    entry: FaqEntry
    score: float  # 0..100


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The best match, up to ``MAX_ALTERNATIVES`` other entries, and any problem.

    ``best`` is None when nothing matches well enough. ``alternatives`` are
    "did you mean" hits, best first, each entry at most once and never the
    best. ``problem`` is None or ``EMPTY`` when the query has no letters or
    digits; a long query is not a problem, only its start is matched.
    """

    best: FaqHit | None
    alternatives: tuple[FaqHit, ...]
    problem: str | None


def normalize(text: str) -> str:
    """Return the words of ``text``: no accents, casefolded, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    folded = _APOSTROPHES.sub("", stripped.casefold())
    return " ".join(_WORD.findall(folded))


def _stem(word: str) -> str:
    """Return ``word`` without a plural "s"."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _distinct(words: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(words))


def _query_words(query: str) -> tuple[str, ...]:
    """Return the distinct words of the query's first ``MAX_QUERY_CHARS`` characters."""
    start = _FIRST_WORD_CHAR.search(query)
    if start is None:
        return ()
    text = normalize(query[start.start() : start.start() + MAX_INPUT_CHARS])
    if len(text) > MAX_QUERY_CHARS:
        cut = text[: MAX_QUERY_CHARS + 1]
        text = cut.rsplit(" ", 1)[0] if " " in cut else cut[:MAX_QUERY_CHARS]
    return _distinct(text.split())[:MAX_QUERY_WORDS]


def _max_edits(length: int) -> int:
    """Return how many edits away a word of this length may be typed."""
    if length <= 2:
        return 0
    if length <= 5:
        return 1
    return 2


def _combine(query_cover: float, question_cover: float) -> float:
    """Return the weighted harmonic mean of the two coverages (0..1)."""
    if query_cover <= 0.0 or question_cover <= 0.0:
        return 0.0
    return (1.0 + _QUERY_COVER_BIAS) / (_QUERY_COVER_BIAS / query_cover + 1.0 / question_cover)


@dataclass(frozen=True, slots=True)
class _Doc:
    """One FAQ entry with its stemmed words."""

    exercise: Exercise
    exercise_order: int
    index: int
    entry: FaqEntry
    question: tuple[str, ...]  # the question's words
    strong: tuple[str, ...]  # the question's and the exercise name's words
    answer: tuple[str, ...]  # the answer's words


class FaqIndex:
    """All FAQ entries of a catalog, prepared once for fast searching."""

    def __init__(self, catalog: Catalog) -> None:
        docs: list[_Doc] = []
        surfaces: dict[str, str] = {}
        for exercise_order, exercise in enumerate(catalog.exercises):
            name_text = f"{exercise.name} {exercise.id}"
            for index, entry in enumerate(exercise.faq):
                question_raw = normalize(entry.question).split()
                name_raw = normalize(name_text).split()
                answer_raw = normalize(entry.answer).split()
                for word in (*question_raw, *name_raw, *answer_raw):
                    surfaces.setdefault(word, _stem(word))
                question = _distinct([_stem(word) for word in question_raw])
                docs.append(
                    _Doc(
                        exercise=exercise,
                        exercise_order=exercise_order,
                        index=index,
                        entry=entry,
                        question=question,
                        strong=_distinct([*question, *(_stem(word) for word in name_raw)]),
                        answer=_distinct([_stem(word) for word in answer_raw]),
                    )
                )
        self._docs = tuple(docs)

        frequency: dict[str, int] = {}
        for doc in docs:
            for word in _distinct([*doc.strong, *doc.answer]):
                frequency[word] = frequency.get(word, 0) + 1
        self._weights = {word: self._weight_for(count) for word, count in frequency.items()}
        ordered = sorted(self._weights.values())
        self._unknown_weight = ordered[int(len(ordered) * _UNKNOWN_QUANTILE)] if ordered else 1.0
        self._information = self._weight_for(_INFORMATION_FREQUENCY)
        self._question_weights = tuple(sum(self._weights[word] for word in doc.question) for doc in docs)

        # Each word's entries: full credit in the question or the exercise's
        # name, reduced credit when only the answer has it.
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for position, doc in enumerate(docs):
            for word in doc.strong:
                self._postings.setdefault(word, []).append((position, 1.0))
            strong = set(doc.strong)
            for word in doc.answer:
                if word not in strong:
                    self._postings.setdefault(word, []).append((position, _ANSWER_FACTOR))

        self._stems = sorted(self._weights)
        # Plurals as written, for typos that break the plural ("rps" ~ "reps").
        self._plurals = sorted(word for word, stem in surfaces.items() if word != stem)
        self._plural_stems = [surfaces[word] for word in self._plurals]

    def _weight_for(self, frequency: int) -> float:
        """Return the weight of a word used by ``frequency`` entries."""
        idf = math.log((len(self._docs) + 1) / (frequency + 0.5))
        return float(max(_MIN_IDF, idf) ** _WEIGHT_POWER)

    def search(self, query: str, *, prefer_exercise: str | None = None) -> SearchResult:
        """Return the FAQ entry ``query`` asks about, with alternatives.

        ``prefer_exercise`` (today's exercise id) wins ties and near-ties: its
        entries rank as if they scored ``PREFER_MARGIN`` points more. Hits
        keep their real score, and the thresholds apply to it. Remaining ties
        go to the entry that comes first in the catalog.
        """
        words = _query_words(query)
        if not words:
            return SearchResult(best=None, alternatives=(), problem=EMPTY)
        scores = self._scores(words)
        docs = self._docs

        def rank(position: int) -> tuple[float, int, int]:
            doc = docs[position]
            bonus = PREFER_MARGIN if doc.exercise.id == prefer_exercise else 0.0
            return (-(scores[position] + bonus), doc.exercise_order, doc.index)

        ranked = sorted((position for position in range(len(docs)) if scores[position] > 0.0), key=rank)
        best = next((position for position in ranked if scores[position] >= BEST_THRESHOLD), None)
        alternatives = [
            position for position in ranked if position != best and scores[position] >= ALTERNATIVE_THRESHOLD
        ]
        return SearchResult(
            best=None if best is None else self._hit(best, scores[best]),
            alternatives=tuple(self._hit(position, scores[position]) for position in alternatives[:MAX_ALTERNATIVES]),
            problem=None,
        )

    def _hit(self, position: int, score: float) -> FaqHit:
        doc = self._docs[position]
        return FaqHit(exercise=doc.exercise, index=doc.index, entry=doc.entry, score=score)

    def _scores(self, words: Sequence[str]) -> list[float]:
        """Return every entry's score (0..100) for the query's words."""
        covered: dict[int, float] = {}  # entry position -> query weight it explains
        mentioned: dict[str, float] = {}  # FAQ word -> how closely the query has it
        total = 0.0
        for word in words:
            similar = self._similar(word)
            weight = self._query_weight(similar)
            total += weight
            best: dict[int, float] = {}
            for candidate, similarity in similar.items():
                mentioned[candidate] = max(mentioned.get(candidate, 0.0), similarity)
                for position, factor in self._postings.get(candidate, ()):
                    best[position] = max(best.get(position, 0.0), similarity * factor)
            for position, value in best.items():
                covered[position] = covered.get(position, 0.0) + weight * value
        scores = [0.0] * len(self._docs)
        for position, explained in covered.items():
            question = self._docs[position].question
            question_weight = self._question_weights[position]
            if explained <= 0.0 or question_weight <= 0.0:
                continue
            question_cover = sum(self._weights[word] * mentioned.get(word, 0.0) for word in question)
            score = _combine(explained / total, question_cover / question_weight)
            confidence = min(1.0, explained / self._information)
            scores[position] = round(100.0 * confidence * score, 2)
        return scores

    def _query_weight(self, similar: Mapping[str, float]) -> float:
        """Return a query word's weight: that of the FAQ word it is closest to."""
        if not similar:
            return self._unknown_weight
        closest = max(similar.items(), key=lambda item: (item[1], self._weights[item[0]]))
        return self._weights[closest[0]]

    def _similar(self, word: str) -> dict[str, float]:
        """Return the FAQ's (stemmed) words close to a query word, with their similarity."""
        found: dict[str, float] = {}

        def note(stem: str, similarity: float) -> None:
            if similarity > found.get(stem, 0.0):
                found[stem] = similarity

        stem = _stem(word)
        if stem in self._weights:
            note(stem, 1.0)
        # Typos, compared both stemmed ("beginers" ~ "beginner") and as typed
        # ("rps" ~ "reps"); the longer word decides how many edits are allowed.
        for typed, choices, keys in ((stem, self._stems, self._stems), (word, self._plurals, self._plural_stems)):
            cutoff = _max_edits(len(typed) + 2)
            if cutoff == 0:
                continue
            for candidate, distance, choice in process.extract(
                typed, choices, scorer=OSA.distance, score_cutoff=cutoff, limit=None
            ):
                longer = max(len(typed), len(candidate))
                if 0 < distance <= _max_edits(longer):
                    note(keys[choice], 1.0 - distance / longer)
        if len(stem) >= _MIN_PREFIX:
            # Longer words that start with this one ("jump" -> "jumping").
            start = bisect.bisect_left(self._stems, stem)
            for candidate in self._stems[start:]:
                if not candidate.startswith(stem):
                    break
                note(candidate, _PREFIX_SIMILARITY)
            # Shorter words this one starts with ("jumping" -> "jump").
            for end in range(_MIN_PREFIX, len(stem)):
                if stem[:end] in self._weights:
                    note(stem[:end], _PREFIX_SIMILARITY)
        for synonym in _SYNONYMS.get(stem, ()):
            if synonym in self._weights:
                note(synonym, _SYNONYM_SIMILARITY)
        return found
