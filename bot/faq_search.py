"""Find the FAQ entry a free-text question is about, across every exercise.

People type "pogo how high", "dumbell same side single leg?" or "is it ok for
beginers": keywords in any order, typos, the exercise's name mixed in. Whole-
string fuzzy ratios handle that badly (a short query partially matches almost
any long question, and "how" alone would score 100 under ``token_set_ratio``),
so the search works on words instead:

* Every text is normalized the same way: accents removed, casefolded, and
  everything but letters and digits turned into word breaks.
* Each query word is matched to the words of the content with rapidfuzz: the
  same word scores 1.0, one edit (OSA, so a swapped pair of letters is one
  edit) 0.85, two edits 0.7, a shared beginning of four letters or more 0.8.
  Short words must be closer: words of one or two letters must match
  exactly, words of three to five letters may be one edit off.
* Words are weighted by how rare they are across the FAQ (inverse document
  frequency over question, exercise name and answer), so "pogo", "jump" or
  "dumbbell" decide the match and "how", "i" or "the" barely count.
* An entry scores on two coverages. ``query_cover``: how much of the query's
  weight the entry explains, where words of the question and the exercise's
  name count fully and words found only in the answer count half.
  ``question_cover``: how much of the question's own weight the query
  mentions. The score is their weighted harmonic mean (see ``_combine``),
  scaled to 0..100: a question typed exactly, in any word order, scores 100.

Nonsense ("asdfgh qwerty", "pizza recipe") matches no word, so it scores 0;
the thresholds below were chosen from the measured gap between such queries
and real ones (see the tests and ``BEST_THRESHOLD``).
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.domain import Catalog, Exercise, FaqEntry

#: Characters of the raw message that are looked at; the rest is ignored.
MAX_INPUT_CHARS = 2000
#: Characters of the normalized query that are matched (cut at a word break).
MAX_QUERY_CHARS = 300
#: Distinct query words that are matched; more than this is no question.
MAX_QUERY_WORDS = 50

#: Minimum score for the best hit; below it the search answers "no match".
BEST_THRESHOLD = 55.0
#: Minimum score for a "did you mean" alternative.
ALTERNATIVE_THRESHOLD = 35.0
#: At most this many alternatives are offered.
MAX_ALTERNATIVES = 3
#: Points by which the preferred exercise's entries may trail and still rank first.
PREFER_MARGIN = 6.0

EMPTY = "empty"

_ANSWER_FACTOR = 0.5
_WEIGHT_POWER = 1.0
_UNKNOWN_QUANTILE = 0.5
_ANSWER_ONLY = 0.0
_PREFIX_SIMILARITY = 0.8
_MIN_PREFIX = 4
_MIN_WEIGHT = 0.05
# The harmonic mean weighs query_cover this many times as much as question_cover.
_QUERY_COVER_BIAS = 2.0

_INFORMATION_FREQUENCY = 3
_SYNONYM_SIMILARITY = 0.8
# Everyday words people use for words the FAQ uses (stemmed, see _stem).
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


@dataclass(frozen=True, slots=True)
class FaqHit:
    """One FAQ entry that matches a query, with its score (0..100)."""

    exercise: Exercise
    index: int
    entry: FaqEntry
    score: float


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The best match (or None), up to three alternatives, and any problem.

    ``problem`` is None or ``"empty"`` when the query has no letters or digits
    at all; a long query is not a problem, only its start is matched.
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
    """Return ``word`` without a plural "s", so "hops" and "hop" are one word."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _words(text: str) -> tuple[str, ...]:
    """Return the distinct (stemmed) words of ``text`` in order of first appearance."""
    return tuple(dict.fromkeys(_stem(word) for word in normalize(text).split()))


def _query_words(query: str) -> tuple[str, ...]:
    """Return the distinct words of the query's first ``MAX_QUERY_CHARS`` characters."""
    text = normalize(query[:MAX_INPUT_CHARS])
    if len(text) > MAX_QUERY_CHARS:
        cut = text[: MAX_QUERY_CHARS + 1]
        text = cut.rsplit(" ", 1)[0] if " " in cut else cut[:MAX_QUERY_CHARS]
    return tuple(dict.fromkeys(_stem(word) for word in text.split()))[:MAX_QUERY_WORDS]


def _max_edits(length: int) -> int:
    """Return how many edits a word of this length may be off and still match."""
    if length <= 2:
        return 0
    if length <= 5:
        return 1
    return 2


def _combine(query_cover: float, question_cover: float) -> float:
    """Return the weighted harmonic mean of the two coverages (0..1)."""
    if query_cover <= 0.0 or question_cover <= 0.0:
        return 0.0
    bias = _QUERY_COVER_BIAS
    return (1.0 + bias) / (bias / query_cover + 1.0 / question_cover)


@dataclass(frozen=True, slots=True)
class _Doc:
    """The precomputed words of one FAQ entry."""

    exercise: Exercise
    exercise_order: int
    index: int
    entry: FaqEntry
    question: tuple[str, ...]
    question_weight: float


class FaqIndex:
    """All FAQ entries of a catalog, prepared once for fast searching."""

    def __init__(self, catalog: Catalog) -> None:
        docs: list[_Doc] = []
        texts: list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = []
        for exercise_order, exercise in enumerate(catalog.exercises):
            name = tuple(dict.fromkeys(_words(exercise.name) + _words(exercise.id.replace("-", " "))))
            for index, entry in enumerate(exercise.faq):
                question = _words(entry.question)
                docs.append(
                    _Doc(
                        exercise=exercise,
                        exercise_order=exercise_order,
                        index=index,
                        entry=entry,
                        question=question,
                        question_weight=0.0,
                    )
                )
                texts.append((question, name, _words(entry.answer)))

        document_frequency: dict[str, int] = {}
        for question, name, answer in texts:
            for word in dict.fromkeys(question + name + answer):
                document_frequency[word] = document_frequency.get(word, 0) + 1
        count = len(docs)
        self._weights: dict[str, float] = {
            word: max(_MIN_WEIGHT, math.log((count + 1) / (frequency + 0.5))) ** _WEIGHT_POWER
            for word, frequency in document_frequency.items()
        }
        known = sorted(self._weights.values())
        # A word the FAQ never uses counts like a typical content word.
        self._unknown_weight = known[int(len(known) * _UNKNOWN_QUANTILE)] if known else 1.0

        # For each word: the entries whose question or name has it (full
        # credit) and those whose answer has it (reduced credit).
        self._postings: dict[str, list[tuple[int, float]]] = {}
        for position, (question, name, answer) in enumerate(texts):
            strong = dict.fromkeys(question + name)
            for word in strong:
                self._postings.setdefault(word, []).append((position, 1.0))
            for word in answer:
                if word not in strong:
                    self._postings.setdefault(word, []).append((position, _ANSWER_FACTOR))

        self._docs = tuple(
            _Doc(
                exercise=doc.exercise,
                exercise_order=doc.exercise_order,
                index=doc.index,
                entry=doc.entry,
                question=doc.question,
                question_weight=sum(self._weights[word] for word in doc.question),
            )
            for doc in docs
        )
        self._vocabulary = sorted(self._weights)
        # A match must carry at least the weight of one fairly rare word to
        # count fully; "how" or "what" alone explain any question.
        self._information = max(_MIN_WEIGHT, math.log((count + 1) / (_INFORMATION_FREQUENCY + 0.5))) ** _WEIGHT_POWER

    def _similar(self, word: str) -> dict[str, float]:
        """Return the vocabulary words close to ``word`` with their similarity."""
        found: dict[str, float] = {}
        edits = _max_edits(len(word))
        if edits == 0:
            if word in self._weights:
                found[word] = 1.0
        else:
            for candidate, distance, _ in process.extract(
                word, self._vocabulary, scorer=OSA.distance, score_cutoff=edits, limit=None
            ):
                if distance <= _max_edits(len(candidate)):
                    found[candidate] = 1.0 - distance / max(len(word), len(candidate))
        if len(word) >= _MIN_PREFIX:
            # Longer words that start with this one ("jump" -> "jumping").
            start = bisect.bisect_left(self._vocabulary, word)
            for candidate in self._vocabulary[start:]:
                if not candidate.startswith(word):
                    break
                found[candidate] = max(found.get(candidate, 0.0), _PREFIX_SIMILARITY)
            # Shorter words this one starts with ("jumping" -> "jump").
            for end in range(_MIN_PREFIX, len(word)):
                prefix = word[:end]
                if prefix in self._weights:
                    found[prefix] = max(found.get(prefix, 0.0), _PREFIX_SIMILARITY)
        for synonym in _SYNONYMS.get(word, ()):
            if synonym in self._weights:
                found[synonym] = max(found.get(synonym, 0.0), _SYNONYM_SIMILARITY)
        return found

    def _scores(self, words: Iterable[str]) -> list[float]:
        """Return every entry's score (0..100) for the query words."""
        docs = self._docs
        covered = [0.0] * len(docs)
        mentioned: dict[str, float] = {}
        total = 0.0
        for word in words:
            similar = self._similar(word)
            weight = self._word_weight(similar)
            total += weight
            best = [0.0] * len(docs)
            for candidate, similarity in similar.items():
                mentioned[candidate] = max(mentioned.get(candidate, 0.0), similarity)
                for position, factor in self._postings[candidate]:
                    best[position] = max(best[position], similarity * factor)
            for position, value in enumerate(best):
                covered[position] += weight * value
        if total <= 0.0:
            return [0.0] * len(docs)
        return [
            round(
                100.0
                * min(1.0, covered[position] / self._information)
                * _combine(covered[position] / total, self._question_cover(doc, mentioned)),
                2,
            )
            for position, doc in enumerate(docs)
        ]

    def _word_weight(self, similar: Mapping[str, float]) -> float:
        """Return a query word's weight: that of its closest vocabulary word."""
        if not similar:
            return self._unknown_weight
        closest = max(similar.items(), key=lambda item: (item[1], self._weights[item[0]]))
        return self._weights[closest[0]]

    def _question_cover(self, doc: _Doc, mentioned: Mapping[str, float]) -> float:
        """Return the share of the question's weight that the query mentions."""
        if doc.question_weight <= 0.0:
            return 0.0
        found = sum(self._weights[word] * mentioned.get(word, 0.0) for word in doc.question)
        return found / doc.question_weight

    def search(self, query: str, *, prefer_exercise: str | None = None) -> SearchResult:
        """Return the best FAQ entry for ``query`` with alternatives.

        ``prefer_exercise`` (today's exercise id) wins ties and near-ties:
        its entries rank as if they scored ``PREFER_MARGIN`` points more.
        Hits keep their real score, and thresholds apply to it.
        """
        words = _query_words(query)
        if not words:
            return SearchResult(best=None, alternatives=(), problem=EMPTY)
        scores = self._scores(words)
        ranked = sorted(
            range(len(self._docs)),
            key=lambda position: (
                -(scores[position] + (PREFER_MARGIN if self._docs[position].exercise.id == prefer_exercise else 0.0)),
                self._docs[position].exercise_order,
                self._docs[position].index,
            ),
        )
        hits = [self._hit(position, scores[position]) for position in ranked]
        best = next((hit for hit in hits if hit.score >= BEST_THRESHOLD), None)
        alternatives = tuple(hit for hit in hits if hit is not best and hit.score >= ALTERNATIVE_THRESHOLD)
        return SearchResult(best=best, alternatives=alternatives[:MAX_ALTERNATIVES], problem=None)

    def _hit(self, position: int, score: float) -> FaqHit:
        doc = self._docs[position]
        return FaqHit(exercise=doc.exercise, index=doc.index, entry=doc.entry, score=score)
