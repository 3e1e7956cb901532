"""The dictionary the chunker asks before it makes an unknown word a thing (lina_nodes/csg/word_classes.py)."""
from __future__ import annotations

import pytest

from lina_nodes.csg import parse, word_classes


def test_pure_adjectives_and_inflected_verbs_are_never_nouns():
    assert word_classes.never_a_noun("immaculate") and word_classes.never_a_noun("arranged")
    assert not word_classes.never_a_noun("table")          # a noun
    assert not word_classes.never_a_noun("log")            # listed only as a verb, but a base form: not trusted
    assert not word_classes.never_a_noun("gundam")         # unknown to the dictionary
    assert word_classes.adjective_not_noun("quaint") and not word_classes.adjective_not_noun("green")


def test_a_description_keeps_its_things_and_drops_its_adjectives():
    names = {n.name for n in parse("An immaculate white vanity desk. To the side, a stark and dissonant element, a "
                                   "metallic handgun, lies on a grey concrete floor.").nodes if n.explicit}
    assert {"vanity desk", "handgun", "floor"} <= names and not names & {"immaculate", "stark"}


def test_without_the_dictionary_the_parser_reads_as_before(monkeypatch):
    monkeypatch.setattr(word_classes, "_lemmas", None)
    word_classes.lemmas.cache_clear()
    try:
        assert word_classes.classes("immaculate") == frozenset()
        g = parse("a cat on a mat")
        assert {n.name for n in g.nodes if n.explicit} == {"cat", "mat"}
    finally:
        word_classes.lemmas.cache_clear()


@pytest.mark.parametrize("word", ["", "3-d", "12", "o'clock"])
def test_words_that_are_not_alphabetic_are_unknown(word):
    assert word_classes.classes(word) == frozenset() and not word_classes.never_a_noun(word)
