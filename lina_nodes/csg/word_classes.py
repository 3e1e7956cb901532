"""Which parts of speech an English word can be, from LemmInflect's dictionary (MIT, bundled data, no network).

The rule parser knows the nouns of its knowledge file; a word it does not know is read as a noun when it sits
where a noun would. Long scene descriptions are full of words that cannot be one ("an immaculate desk", "neatly
arranged", "poised"), so the chunker asks here before it makes an unknown word a thing. The dictionary lists
irregular and non-noun words, not every regular noun ("bar" and "log" appear only as verbs, kept as nouns in
``VERB_LISTED_NOUNS``; "top" and "crochet" too), so one answer is trusted everywhere: a pure adjective or adverb
("stark", "otherwise") or an inflected verb form ("arranged"); a verb's base form only where a verb would stand. Without
LemmInflect installed every answer is "unknown" and the parser behaves as before.
"""
from __future__ import annotations

from functools import lru_cache

try:                                   # a declared dependency; optional at run time
    from lemminflect import getAllLemmas as _lemmas
except ImportError:                    # pragma: no cover - exercised only without the package
    _lemmas = None

NOUNS = frozenset({"NOUN", "PROPN"})


@lru_cache(maxsize=65536)
def lemmas(word: str) -> dict:
    """Universal POS tag -> lemmas the dictionary gives ``word`` (lower case); empty when it does not know it."""
    if _lemmas is None or not word.isalpha():
        return {}
    return dict(_lemmas(word))


def classes(word: str) -> frozenset:
    """The universal POS tags the dictionary gives ``word`` ("ADJ", "NOUN", "VERB"...)."""
    return frozenset(lemmas(word))


def adjective_not_noun(word: str) -> bool:
    """Read as an adjective and never as a noun ("quaint", "opulent", "dried"; not "green", not "avidly")."""
    found = classes(word)
    return "ADJ" in found and not found & NOUNS


#: Common nouns the dictionary lists only as verbs (found by checking every annotated noun of the everyday sets and
#: a list of household, street and landscape nouns): their base form is a noun wherever it stands.
VERB_LISTED_NOUNS = frozenset({"bar", "log", "pan", "stud", "ace", "led"})


def never_a_noun(word: str) -> bool:
    """A pure adjective or adverb ("stark", "immaculate", "otherwise") or an inflected verb form ("arranged",
    "contrasting"), with no noun reading; a verb's base form alone is not trusted (``base_verb``)."""
    found = lemmas(word)
    if not found or set(found) & NOUNS:
        return False
    inflected = "VERB" in found and word not in found["VERB"]
    return inflected or (bool(set(found) & {"ADJ", "ADV"}) and "VERB" not in found)   # "stark", "otherwise"


def base_verb(word: str) -> bool:
    """A verb's base form the dictionary never reads as a noun ("provide", "resemble"). The dictionary misses some
    nouns here ("top", "crochet", "log"), so the chunker trusts this only where a verb would stand (before an
    article, "to" or an adverb: "flowers provide a", "appear to be"); ``VERB_LISTED_NOUNS`` never."""
    found = lemmas(word)
    return set(found) == {"VERB"} and word in found["VERB"] and word not in VERB_LISTED_NOUNS


def verb_lemma(word: str) -> str | None:
    """The base form the dictionary gives an inflected verb ("travelling" -> "travel"), None when it does not know
    the word as a verb; the chunker's spelling heuristic answers then."""
    found = lemmas(word).get("VERB")
    return found[0] if found and word not in found else None
