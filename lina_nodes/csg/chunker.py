"""First parser pass: tokenise a prompt and group tokens into chunks (noun phrases, prepositions,
verbs, auxiliaries...). Pure, linear in the prompt length, never raises on odd input."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .knowledge import Knowledge
from .word_classes import NOUNS as NOUN_TAGS, adjective_not_noun, base_verb, classes, lemmas, never_a_noun, verb_lemma

TOKEN_RE = re.compile(r"°\s?[cfk]\b|[^\W_]+(?:['\u2019\-][^\W_]+)*%?|[.,;:!?()&]")   # "40°C": a unit, no thing
SENTENCE_END = {".", ";", "!", "?", ":", "(", ")"}
AUX_BE = {"is", "are", "was", "were", "be", "been", "being", "am", "gets", "get", "got"}
AUX_DO = {"does", "do", "did", "could", "will", "would", "may", "might", "should", "must", "shall"}
NEG = {"not", "never", "n't"}
NEG_CONTRACTIONS = {"isn't", "aren't", "wasn't", "weren't", "doesn't", "don't", "didn't", "can't", "cannot",
                    "won't", "isnt", "doesnt", "dont", "arent", "hasn't", "haven't", "shouldn't", "couldn't"}
CONJ = {"and", "while", "whereas", "but", "then", "&", "plus", "also", "or", "whilst", "as well as"}
REL = {"that", "which", "who", "whom", "whose", "where"}
HAVE = {"has": "s", "have": "base", "had": "past", "having": "ing"}
CLOSED_OTHER = {"there", "here", "with", "without", "of", "by", "than", "more", "less", "fewer", "very", "so",
                "just", "only", "really", "too", "quite", "rather", "somewhat", "slightly", "each", "other",
                "while", "from", "to", "for", "if", "when", "all", "same", "as", "much", "both", "either",
                "neither", "nor", "toward", "towards", "up", "down", "out", "off", "away", "together",
                "scene", "image", "picture", "photo", "photograph", "render", "showing", "shows", "show",
                "depicting", "featuring", "and", "across", "through", "along", "past", "via",
                "throughout", "during", "about", "like", "after", "until", "since", "instead", "outside",
                "you", "we", "i", "me", "us",     # "you can see the trunk": the viewer is no entity
                "forward", "forwards", "backward", "backwards", "upward", "upwards", "downward", "downwards",
                "inward", "inwards", "outward", "outwards", "sideways", "apart", "halfway", "almost", "ahead",
                "upside", "downhill", "uphill",   # "leaning forward", "legs apart": how, no thing
                "because"}                        # "cast onto the side of a train because of the sun"
IMPLIED_NAMES = {"reflection": "reflection", "shadow": "shadow", "splash": "splash", "ripple": "ripple",
                 "refraction": "refraction", "contact": "contact"}
SCENE_WORDS = {"scene", "image", "picture", "photo", "photograph", "render", "illustration", "painting",
               "drawing", "view", "shot", "close-up", "closeup", "cartoon", "sketch", "portrait",
               "video", "footage", "lapse", "timelapse", "clip", "tableau", "silhouette"}   # "drone footage of"
MAX_NOUN_WORDS = 3
MAX_PRE = 6
MAX_MODS = 8
MAX_DEPTH = 2
SINGULAR_DETS = ("a", "an", "one", "this", "that", "another", "each", "every")   # "a candle lights": a verb
POSSESSIVES = ("its", "his", "her", "their")     # "its shadow": owned by the previous entity
ADJECTIVE_SUFFIXES = ("ant", "ent", "ate", "ive", "ous", "ful", "ic", "al", "ible", "able", "ish", "less", "ed", "ing", "y")
PARTICLES = ("about", "up", "down", "out", "off", "away", "around")   # "a yacht tossed about"
INTENSIFIERS = ("very", "quite", "really", "bright", "pale", "deep", "light", "dark")   # "a light blue car"
DESCRIPTIVE_SUFFIXES = ("ful", "ous", "ish", "less", "ive")   # unknown adjectives: "graceful", "enormous"
#: Phrases read and dropped, each a tuple of word sets: no entity and no place in them.
SKIP_PHRASES = (
    ({"on"}, {"all"}, {"fours"}),                                   # "the bear is on all fours": a posture
    ({"on"}, {"one", "either", "each", "both"}, {"side", "sides"}),  # "the trunk on one side": which side
    ({"lots", "plenty", "loads", "tons", "dozens", "hundreds", "thousands"}, {"of"}),   # "with lots of food": the food
    ({"a"}, {"lot"}, {"of"}),                                       # "with a lot of trees behind them": the trees
    ({"in"}, {"half"}),                                             # "a pastry torn in half": how, no place
    ({"hand"}, {"in"}, {"hand"}),                                    # "walking hand in hand on the beach"
    ({"in"}, {"color", "colour"}),                                   # "the plane is white in color"
    ({"side"}, {"by"}, {"side"}),                                    # "sausages sitting side by side"
    ({"in"}, {"a", "the"}, {"still"}, {"frame"}),                    # "In a still frame, a park bench": framing
)
FRAME_VERBS = ("captures", "captured", "records", "recorded", "shows", "showing", "depicts", "depicting", "features",
               "documents")   # after a framing word: "a timelapse captures ..."
CATENATIVES = ("start", "starts", "started", "begin", "begins", "began", "stop", "stops", "stopped", "keep", "keeps",
               "kept", "continue", "continues", "continued")   # before an -ing verb: how it goes, no thing
NAME_PARTICLES = ("van", "von", "de", "da", "del", "la", "le", "di")   # "by Vincent van Gogh"
MODAL_NEXT = ("be", "not", "see", "barely", "only", "also", "clearly", "hardly")
VERB_ADVERBS = ("low", "high", "far", "deep", "nearby", "overhead", "apart", "upright", "still", "alone")
HALF_ADVERBS = ("half", "partially", "partly", "freshly", "newly", "recently", "fully")   # "a half eaten pie"
MOTION_PARTICLES = ("along", "across", "through", "past", "over", "around", "down", "up", "into", "onto")
ADJECTIVE_ENDINGS = ("ous", "ful", "ical")      # "the adventurous", "a scene so peaceful": no nouns
NOUNS_LIKE_ADJECTIVES = ("fish", "dish", "motive", "hive")     # "a jellyfish", "a locomotive": nouns all the same


@dataclass
class Tok:
    text: str
    start: int
    end: int


@dataclass
class NP:
    name: str
    start: int
    end: int
    count: int | None = None
    plural: bool = False
    negated: bool = False
    det: str | None = None
    color: str | None = None
    material: str | None = None
    finish: str | None = None
    pattern: str | None = None
    size: str | None = None
    state: str | None = None
    descriptor: str | None = None
    fill: float | None = None
    pronoun: bool = False
    owner_last: bool = False        # "its shadow": owned by the previous entity
    contents: "NP | None" = None    # "a glass of water"
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Modifier:
    """A kind of word before the noun and the NP field it sets."""

    field: str                # NP field
    table: str                # Knowledge word list
    once: bool = False        # only the first such word counts ("a red blue ball" is red)
    not_head: bool = False    # unless the word is the noun itself ("a glass", "the ice")
    mapped: bool = False      # the value is the table's entry ("tiny" -> small), not the word


#: Modifiers in the order they are tried (descriptors and intensifiers follow, in ``Chunker._modifier``).
MODIFIERS = (Modifier("color", "colors", once=True), Modifier("material", "materials", once=True, not_head=True),
             Modifier("finish", "finishes", once=True),
             Modifier("pattern", "patterns"), Modifier("size", "sizes", once=True, mapped=True),
             Modifier("state", "states", not_head=True), Modifier("descriptor", "comparative_adjectives"))


@dataclass
class Chunk:
    type: str          # NP PREP SIDE VERB AUX NEG CONJ COMMA REL WITH WITHOUT OF BY THAN COMP COMPADJ FILL
    #                    THERE END OTHER
    value: object = None
    start: int = 0
    end: int = 0
    form: str = ""     # verbs: base / s / past / part / ing


#: A particle dropped after these words: "a fenced in area" is a fenced area, no place "in" it
DROP_PARTICLE_AFTER = {"fenced": "in", "walled": "in", "boxed": "in", "hemmed": "in"}
#: A prefix written apart dropped before this word: "para sailing" is sailing
DROP_PREFIX_BEFORE = {"para": "sailing"}


def tokenize(text: str) -> list[Tok]:
    low = text.lower()
    toks = []
    for m in TOKEN_RE.finditer(low):
        word = m.group(0).replace("\u2019", "'")
        if word.startswith("°"):
            continue                                              # "40°C": a temperature, no thing
        if word in ("it's", "that's", "there's", "here's", "theres"):   # "it's sitting on a table": it is
            cut = 1 if word == "theres" else 2
            toks += [Tok(word[:-cut].rstrip("'"), m.start(), m.end() - cut), Tok("is", m.end() - cut, m.end())]
        else:
            toks.append(Tok(word, m.start(), m.end()))
    return [t for k, t in enumerate(toks) if not (k and DROP_PARTICLE_AFTER.get(toks[k - 1].text) == t.text)
            and not (t.text in DROP_PREFIX_BEFORE and k + 1 < len(toks) and toks[k + 1].text == DROP_PREFIX_BEFORE[t.text])]


def singularize(word: str, kb: Knowledge) -> tuple[str, bool]:
    """(singular, was_plural) for an English noun."""
    if word in kb.irregular_plurals:
        sing = kb.irregular_plurals[word]
        return sing, sing != word or word in ("sheep", "fish", "deer")
    if word in kb.singulars or word in kb.kind_of or word in kb.mass_nouns or len(word) <= 3:
        return word, False
    if word.endswith("ss") or word.endswith("us") or word.endswith("is"):
        return word, False
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y", True
    if word.endswith(("ches", "shes", "xes", "zzes", "sses")):
        return word[:-2], True
    if word.endswith("s") and not word.endswith("'s"):
        stem = word[:-1]
        if stem.endswith("e") and stem[:-1] in kb.kind_of:
            return stem[:-1], True
        return stem, True
    return word, False


def _drinking_glasses(np: NP) -> None:
    """Counted glasses are drinking glasses ("six glasses"), not eyeglasses ("a pair of glasses")."""
    if np.name == "glasses":
        np.name, np.plural = "glass", True


def _verb_before_particle(w: str, nxt: str) -> bool:
    """A word the dictionary knows as a verb before "along", "across", "past"...: "a train speeds along"."""
    return nxt in MOTION_PARTICLES and "VERB" in classes(w)


def _skip_phrase(toks: list[Tok], i: int) -> int:
    """How many tokens from i a phrase of SKIP_PHRASES covers (0: none)."""
    for phrase in SKIP_PHRASES:
        if i + len(phrase) <= len(toks) and all(toks[i + k].text in words for k, words in enumerate(phrase)):
            return len(phrase)
    return 0


def _match_phrase(toks: list[Tok], i: int, table: dict):
    entries = table.get(toks[i].text)
    if not entries:
        return None
    for words, value in entries:
        n = len(words)
        if i + n <= len(toks) and all(toks[i + k].text == words[k] for k in range(1, n)):
            return value, n
    return None


VOWELS = set("aeiou")


def inflected_lemma(w: str) -> str:
    """Base form of an unknown -ing / -ed verb: the dictionary's ("travelling" -> "travel"), else the spelling
    heuristic's ("slicing" -> "slice", "carried" -> "carry")."""
    if w.endswith("ing"):
        guess = guess_lemma(w[:-3])
    else:
        guess = w[:-3] + "y" if w.endswith("ied") else guess_lemma(w[:-2])
    return verb_lemma(w) or guess


def guess_lemma(stem: str) -> str:
    """Lemma of an unknown verb from its -ing/-ed stem: "slic" -> "slice", "runn" -> "run",
    "bak" -> "bake", "read" -> "read", "park" -> "park" (an English spelling heuristic)."""
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz" and stem[-1] not in VOWELS:
        return stem[:-1]                                   # doubled consonant: runn -> run
    if stem.endswith(("c", "v", "z")) or stem.endswith(("dg", "rs", "ns", "ls")):
        return stem + "e"                                  # slic, danc, mov, judg, pars, rins
    if len(stem) > 3 and ((stem[-1] == "l" and stem[-2] not in VOWELS and stem[-2] != "l")
                          or (stem[-1] == "s" and stem[-2] in VOWELS and stem[-3] in VOWELS)):
        return stem + "e"                                  # tickl, nibbl; rais, caus
    groups = sum(1 for i, ch in enumerate(stem) if ch in VOWELS and (i == 0 or stem[i - 1] not in VOWELS))
    if (groups == 1 and len(stem) >= 3 and stem[-1] not in VOWELS and stem[-1] not in "wxy"
            and stem[-2] in VOWELS and stem[-3] not in VOWELS):
        return stem + "e"                                  # one syllable C-V-C: bak, rid, chas, slid
    return stem


def _digits(tok: str) -> bool:
    return tok.isascii() and tok.isdigit()


def _number(tok: str, kb: Knowledge) -> int | None:
    if _digits(tok) and len(tok) <= 6:
        return int(tok)
    return kb.numbers.get(tok)


class Chunker:
    def __init__(self, kb: Knowledge):
        self.kb = kb
        self.names: frozenset = frozenset()   # words the prompt capitalises ("the surface of Mars"): names
        self.after_pair = False                # the phrase being read follows "A and" (``_pair_verb``)

    # -- classification --------------------------------------------------------------------
    def is_modifier(self, w: str) -> bool:
        kb = self.kb
        return (w in kb.colors or w in kb.materials or w in kb.patterns or w in kb.sizes or w in kb.states
                or w in kb.descriptors or w in kb.finishes)

    def closed(self, w: str) -> bool:
        kb = self.kb
        return (w in kb.determiners or w in AUX_BE or w in AUX_DO or w in NEG or w in NEG_CONTRACTIONS
                or w in CONJ or w in REL or w in CLOSED_OTHER or w in HAVE or w in kb.spatial
                or w in SENTENCE_END or w == "," or w == "no" or w in kb.pronouns or w in kb.comparative_adjectives)

    def verb(self, w: str):
        if w in HAVE:
            return ("have", HAVE[w])
        return self.kb.verb_forms.get(w)

    # -- fill level: "half full", "almost empty", "75% full", "three quarters full" ----------
    def fill_at(self, toks: list[Tok], i: int):
        kb, n = self.kb, len(toks)
        w = toks[i].text
        if w in kb.fill_words and w not in ("filled",):
            return kb.fill_words[w], 1
        mod = None
        j = i
        if w.endswith("%") and _digits(w[:-1]) and len(w) <= 5:
            mod, j = min(int(w[:-1]), 100) / 100.0, i + 1
        elif _digits(w) and len(w) <= 3 and i + 1 < n and toks[i + 1].text in ("percent", "%"):
            mod, j = min(int(w), 100) / 100.0, i + 2
        elif w in kb.fill_modifiers:
            mod, j = kb.fill_modifiers[w], i + 1
        elif w in ("a", "one") and i + 1 < n and toks[i + 1].text == "quarter":
            mod, j = 0.25, i + 2
        elif w in ("three",) and i + 1 < n and toks[i + 1].text == "quarters":
            mod, j = 0.75, i + 2
        elif w in ("a", "one") and i + 1 < n and toks[i + 1].text == "third":
            mod, j = 1 / 3, i + 2
        elif w == "two" and i + 1 < n and toks[i + 1].text == "thirds":
            mod, j = 2 / 3, i + 2
        if mod is None or j >= n:
            return None
        nxt = toks[j].text
        if nxt in ("full", "filled"):
            return mod, j + 1 - i
        if nxt == "empty":
            return round(1.0 - mod, 4), j + 1 - i
        return None

    # -- noun phrases ------------------------------------------------------------------------
    def np_at(self, toks: list[Tok], i: int, depth: int = 0):
        """Parse a noun phrase starting at i; return (NP, next index) or None.

        Determiners and numbers, then modifiers, then the head noun, then a complement ("of water").
        Bounded work per call (at most MAX_PRE determiners/numbers, MAX_MODS modifiers, MAX_NOUN_WORDS
        nouns, nesting depth 2), so chunking is linear in the prompt length whatever the input.
        """
        n = min(len(toks), i + MAX_PRE + MAX_MODS + MAX_NOUN_WORDS + 8)
        np = NP(name="", start=toks[i].start, end=toks[i].start)
        j = self._read_determiners(np, toks, i, n)
        j = self._read_modifiers(np, toks, j, n)
        words, j = self._read_head(np, toks, i, j, n)
        if not words:
            return None
        words = self._possessor(np, toks, i, words)
        self._name(np, words)
        if np.det in ("these", "those") and np.name in ("object", "item", "thing", "piece", "one"):
            np.pronoun = True                            # "These objects rest on the table": the things just named
        if np.count is not None and all(t.text != "pair" for t in toks[i:j]):
            _drinking_glasses(np)                         # "six glasses": drinking glasses, counted
        if depth >= MAX_DEPTH:
            return np, j
        if np.name in self.kb.collective_nouns and j + 1 < n and toks[j].text == "of":
            inner = self._members(np, toks, j + 1, depth)
            if inner is not None:
                return inner
        return np, self._read_complement(np, toks, j, n, depth)

    def _possessor(self, np: NP, toks: list[Tok], i: int, words: list[str]) -> list[str]:
        """"a turtle's back", "an astronaut's shoulders": the owner before "'s" is an entity of its own
        (``np.extra["possessor"]``); the head is what follows. Returns the head words."""
        k = next((x for x, w in enumerate(words[:-1]) if w.endswith("'s") and len(w) > 2), None)
        if k is None:
            return words
        owner = NP(name="", start=np.start, end=np.start)
        self._name(owner, words[:k] + [words[k][:-2]])
        at = next((t for t in toks[i:] if t.text == words[k]), None)
        owner.end = at.end - 2 if at is not None else np.end
        np.extra["possessor"] = owner
        return words[k + 1:]

    def _members(self, np: NP, toks: list[Tok], k: int, depth: int):
        """"a flock of geese", "a pile of cash", "slices of avocado": the entity is what the collective counts."""
        sub = self.np_at(toks, k, depth)
        if sub is None:
            return None
        inner, j = sub
        if np.name != "pair":
            _drinking_glasses(inner)                      # "a couple of glasses": drinking glasses
        inner.start, inner.det = np.start, np.det or inner.det
        inner.negated = inner.negated or np.negated
        if np.name == "surface":
            inner.extra["surface"] = True                 # "on the surface of a bowl of water": on the water
        for key in ("color", "material", "finish", "pattern", "size", "descriptor"):
            if getattr(inner, key) is None and getattr(np, key) is not None:
                setattr(inner, key, getattr(np, key))
        return inner, j

    def _read_determiners(self, np: NP, toks: list[Tok], j: int, n: int) -> int:
        """Determiners, "no", numbers, "a pair of": set np.det / count / negated; return the next index."""
        while j < n:
            took = self._determiner(np, toks, j, n)
            if not took:
                break
            j += took
        return j

    def _determiner(self, np: NP, toks: list[Tok], j: int, n: int) -> int:
        """Read one determiner-like word at j into np; return how many tokens it took (0: none)."""
        kb, w = self.kb, toks[j].text
        nxt = toks[j + 1].text if j + 1 < n else None
        if w in ("no", "zero"):
            np.negated = True
            return 1
        if w in ("a", "an") and nxt in ("pair", "couple", "dozen", "few") \
                and not (j + 2 < n and toks[j + 2].text in ("full", "empty")) \
                and not (j + 2 >= n or (toks[j + 2].text != "of" and self.closed(toks[j + 2].text))) \
                and not (nxt in ("pair", "couple") and self._verb_word(toks[j + 2].text)):   # "a couple sit": the couple
            np.count = kb.numbers[nxt]
            return 3 if j + 2 < n and toks[j + 2].text == "of" else 2
        if w in kb.determiners:
            np.det = np.det or w
            np.owner_last = np.owner_last or w in POSSESSIVES
            return 1
        if w in ("pair", "couple", "dozen", "few") and (nxt is None or (nxt != "of" and self.closed(nxt))
                                                          or self._verb_word(nxt)):     # "a couple sit on a bench"
            return 0                              # "a couple is canoeing": the couple is the noun
        if w in ("pair", "couple") and nxt == "of":
            np.count = 2
            return 2
        number = _number(w, kb)
        if number is None or self.fill_at(toks, j) or (w == "one" and np.det is not None) \
                or (np.det is not None and self._model_year(toks, j, n)):
            return 0
        np.count = number
        np.negated = np.negated or number == 0
        return 1

    def _read_modifiers(self, np: NP, toks: list[Tok], j: int, n: int) -> int:
        """Adjectives and fill words before the noun ("small red", "half full"); return the next index."""
        while j < n and not _match_phrase(toks, j, self.kb.compounds) \
                and not (np.det not in SINGULAR_DETS and self._plural_compound(toks, j, n)):   # "two hot dogs"
            fill = self.fill_at(toks, j)
            if self._half_done(np, toks, j, n):
                j += 2                  # "a half eaten sandwich", "partially eaten pizzas": a state, not a level
            elif fill:
                np.fill = fill[0]
                j += fill[1]
            elif self._modifier(np, toks, j, n) or self._describes_noun(np, toks, j, n) \
                    or self._listed_adjective(np, toks, j, n):
                j += 1
            elif self._more_colours(np, toks, j, n):
                j += 1                  # "a red, blue and yellow train": one train of three colours
            elif toks[j].text == "," and self._mods(np) and j + 1 < n and not self.closed(toks[j + 1].text) \
                    and _number(toks[j + 1].text, self.kb) is None:
                j += 1                  # "the smooth, glossy surface": the adjectives go on after the comma
            else:
                break
        return j

    def _more_colours(self, np: NP, toks: list[Tok], j: int, n: int) -> bool:
        """After a colour, "and" / "," / another colour before more colours and the noun: "red, white and blue";
        after another adjective, "and" before an adjective and the noun: "a very old and rusted train"."""
        colors, w = self.kb.colors, toks[j].text
        if w == "and" and self._mods(np) and 0 < j and toks[j - 1].text not in colors and self._adjective_pair(toks, j):
            return True
        if not (np.color and 0 < j < n - 1 and toks[j - 1].text in colors | {"and", ","}):
            return False
        nxt = toks[j + 1].text
        after = toks[j + 2].text if j + 2 < n else None
        if w in ("and", ","):       # "red, white and blue", "red, white, and blue" (the serial comma)
            return (toks[j - 1].text in colors or (w == "and" and toks[j - 1].text == ",")) \
                and (nxt in colors or (w == "," and nxt == "and" and after in colors))
        return w in colors and ((nxt in ("and", ",") and after in colors)
                                or (nxt == "," and after == "and" and j + 3 < n and toks[j + 3].text in colors)
                                or nxt in colors
                                or (nxt.replace("-", "").isalpha() and not self.closed(nxt)))

    def _adjective_pair(self, toks: list[Tok], j: int) -> bool:
        """"and" at j, then an adjective and a noun: "old and rusted train"."""
        return j + 2 < len(toks) and toks[j].text == "and" and self._adjective_like(toks[j + 1].text) \
            and toks[j + 1].text not in self.kb.kind_of and toks[j + 2].text.isalpha() and not self.closed(toks[j + 2].text)

    def _verb_word(self, w: str) -> bool:
        """A verb form that is no known noun ("sit", "balances"; not "skates" if skates were listed)."""
        return self.verb(w) is not None and w not in self.kb.kind_of

    def _half_done(self, np: NP, toks: list[Tok], j: int, n: int) -> bool:
        """"half eaten", "partially buried" before a noun: the participle describes it ("half" is no fill)."""
        if toks[j].text not in HALF_ADVERBS or j + 2 >= n:
            return False
        form = self.verb(toks[j + 1].text)
        if not form or form[1] not in ("part", "past") or not toks[j + 2].text.isalpha():
            return False
        np.descriptor = np.descriptor or f"{toks[j].text} {toks[j + 1].text}"
        return True

    def _adjective_like(self, w: str) -> bool:
        kb, found = self.kb, classes(w)
        if found and "ADJ" not in found and found & {"NOUN", "PROPN"}:
            return False                              # "the busy highway, honking": the highway is the noun
        return w.isalpha() and len(w) > 3 and w not in kb.kind_of and w not in kb.mass_nouns \
            and not singularize(w, kb)[1] and (self.is_modifier(w) or w.endswith(ADJECTIVE_SUFFIXES))

    def _listed_adjective(self, np: NP, toks: list[Tok], j: int, n: int) -> bool:
        """"the vibrant, multicolored feathers", "the delicate, translucent wings": adjectives in a comma list
        (the word after the comma is adjective-like too, so "the guitar, drum and piano" stays a list)."""
        w = toks[j].text
        if np.det is None or j + 2 >= n or toks[j + 1].text != "," or not self._adjective_like(w) \
                or not self._adjective_like(toks[j + 2].text):
            return False
        np.descriptor = np.descriptor or w
        return True

    def _describes_noun(self, np: NP, toks: list[Tok], j: int, n: int) -> bool:
        """"a smiling sloth", "the rustling leaves", "a rounded pebble", "a sandy beach": an -ing, -ed or -y word
        that is no known noun, before a noun, describes it (a -y word only when made from a noun: "a daisy
        field" stays a field); a hyphenated one also without a determiner ("casting ever-changing shadows")."""
        kb, w = self.kb, toks[j].text
        if not (w.endswith(("ing", "ed", "y")) and len(w) > 4 and w.replace("-", "").isalpha() and j + 1 < n
                and w not in kb.ing_nouns and w not in kb.kind_of and w not in kb.mass_nouns
                and w not in kb.adverb_nouns and not _match_phrase(toks, j, kb.compounds)):
            return False
        nxt = toks[j + 1].text
        known = nxt in kb.kind_of or singularize(nxt, kb)[0] in kb.kind_of or singularize(nxt, kb)[1]
        if w.endswith("y"):
            stems = (w[:-1], w[:-2], w[:-1] + "e") if len(w) > 4 and w[-2] == w[-3] else (w[:-1], w[:-1] + "e")
            known = known and any(x in kb.kind_of or x in kb.mass_nouns for x in stems)
        else:                  # -ing / -ed: before any word that is neither closed nor a verb
            known = known or (nxt.isalpha() and not self.closed(nxt) and self.verb(nxt) is None)
        after_of = j > 0 and toks[j - 1].text in ("of", "with")     # "a plate full of cooked carrots"
        if not (known and (np.det is not None or np.count is not None or self._mods(np) or "-" in w or after_of)):
            return False
        np.descriptor = np.descriptor or w
        return True

    def _model_year(self, toks: list[Tok], j: int, n: int) -> bool:
        """"a blue 1977 Corvette": a year before a noun describes it; it is no count."""
        w = toks[j].text
        return _digits(w) and len(w) == 4 and 1800 <= int(w) <= 2099 and j + 1 < n \
            and not self.closed(toks[j + 1].text) and _number(toks[j + 1].text, self.kb) is None

    def _modifier(self, np: NP, toks: list[Tok], j: int, n: int) -> bool:
        """Set the NP field the word at j describes (see MODIFIERS); False when it is no modifier."""
        kb, w = self.kb, toks[j].text
        if np.det is not None and self._model_year(toks, j, n):
            np.extra["year"] = w
            return True
        if w in kb.color_nouns and self._is_head(toks, j):
            return False                              # "an orange next to a banana": the fruit
        if w in kb.sizes and np.size is not None and j + 1 < n and not self.closed(toks[j + 1].text):
            return True                               # "a small little bear": one size
        if w in ("color", "colour", "colored", "coloured") and np.color is not None and j + 1 < n \
                and not self.closed(toks[j + 1].text) and toks[j + 1].text not in SENTENCE_END:
            return True                               # "an orange color car": the car, orange
        if w in ("left", "right") and j + 1 < n and not self.closed(toks[j + 1].text) \
                and toks[j + 1].text not in SENTENCE_END and toks[j + 1].text != ",":
            np.extra["side"] = w                      # "their left leg", "the right knee": which one
            return True
        if w in kb.light_words and not self._is_head(toks, j):
            np.extra["light"] = kb.light_words[w]     # "a sunny road": the road, lit by the sun
            return True
        for mod in MODIFIERS:
            words = getattr(kb, mod.table)
            if w in words and not (mod.once and getattr(np, mod.field) is not None) \
                    and not (mod.not_head and self._is_head(toks, j)):
                setattr(np, mod.field, words[w] if mod.mapped else w)
                return True
        if w in kb.descriptors and w in kb.kind_of and (j + 1 >= n or self.closed(toks[j + 1].text)):
            return False                              # "the metallic square was perched": the square itself
        if w in kb.descriptors or (w.endswith(DESCRIPTIVE_SUFFIXES) and not w.endswith(NOUNS_LIKE_ADJECTIVES)
                                   and len(w) > 5 and j + 1 < n and w not in kb.kind_of
                                   and not self.closed(toks[j + 1].text)) \
                or (j + 1 < n and self._unknown(w) and adjective_not_noun(w)    # "an immaculate white desk"
                    and not self.closed(toks[j + 1].text) and toks[j + 1].text not in (",", "-")):
            np.descriptor = w
            return True
        # "very red", "bright blue": the intensifier is read and dropped
        nxt = toks[j + 1].text if j + 1 < n else ""
        return w in INTENSIFIERS and (nxt in kb.colors or nxt in kb.sizes or nxt in kb.states or nxt in kb.finishes
                                      or nxt in kb.materials   # "a very old train", "light metallic chrome"
                                      or nxt in ("colored", "coloured", "toned", "skinned", "haired"))   # "light colored"

    def _read_head(self, np: NP, toks: list[Tok], i: int, j: int, n: int) -> tuple[list[str], int]:
        """Head noun words from j (a compound, or up to MAX_NOUN_WORDS nouns); set np.end.
        Return (words, next index); no words when there is no noun."""
        words: list[str] = []
        np.end = toks[j - 1].end if j > i else np.start
        while j < n and len(words) < MAX_NOUN_WORDS:
            comp = _match_phrase(toks, j, self.kb.compounds) or (
                None if np.det in SINGULAR_DETS or np.count == 1 else self._plural_compound(toks, j, n))
            if comp:
                first = comp[0].split(" ", 1)[0]
                if np.material is None and first in self.kb.materials:
                    np.material = first                            # "a brick wall" is made of brick
                words.append(comp[0])
                np.end = toks[j + comp[1] - 1].end
                j += comp[1]
                continue
            if any(stop(self, toks, j, n, words, np) for stop in _HEAD_STOPS):
                break
            words.append(toks[j].text)
            np.end = toks[j].end
            j += 1
        if not words and j > i and (np.color or np.size) and j < n and toks[j].text in ("one", "ones"):
            words, np.end, j = ["object"], toks[j].end, j + 1   # "the red one"
        return words, j

    def _plural_compound(self, toks: list[Tok], j: int, n: int):
        """"two traffic lights": a compound noun whose last word is plural -> (surface words, length); the
        last word stays plural so the name is singularised and the count read."""
        for words, value in self.kb.compounds.get(toks[j].text, ()):
            k = len(words)
            if k > 1 and j + k <= n and all(toks[j + x].text == words[x] for x in range(1, k - 1)):
                last = toks[j + k - 1].text
                nxt = toks[j + k].text if j + k < n else None
                if nxt is not None and self.verb(last) is not None and nxt not in REL and (
                        nxt in self.kb.determiners or _number(nxt, self.kb) is not None):
                    return None                           # "candles light a cube": a verb ("teddy bears that": no)
                if last != words[-1] and (singularize(last, self.kb)[0] == words[-1]
                                          or last in (words[-1] + "s", words[-1] + "es")):
                    return " ".join(list(words[:-1]) + [last]), k
        return None

    # head stops: each says whether the word at j ends (or is not part of) the head noun
    def _pair_verb(self, toks, j, n, words, np) -> bool:
        """After "A and", a verb's base form ends B: "the glass vase and metallic tongs mix the greens", "the
        chair and lamp provide comfort" (a plural subject takes the base form)."""
        return bool(words and self.after_pair) and self._base_verb_at(toks, j, n)

    def _base_verb_at(self, toks: list[Tok], j: int, n: int) -> bool:
        """The word at j is a verb's base form a plural subject takes: a word the dictionary has as a verb, before
        an article or, for a word it never reads as a noun, before any open word."""
        if j + 1 >= n:
            return False
        w, nxt = toks[j].text, toks[j + 1].text
        found = lemmas(w)
        if w not in found.get("VERB", ()) or w in self.kb.kind_of:
            return False
        return nxt in self.kb.determiners or (not set(found) & NOUN_TAGS and not self.closed(nxt))

    def _closed_word(self, toks, j, n, words, np) -> bool:
        """A closed-class word: "a cat on", "the dog and"."""
        return self.closed(toks[j].text)

    def _number_after_noun(self, toks, j, n, words, np) -> bool:
        """A number after the noun starts the next phrase."""
        return bool(words) and _number(toks[j].text, self.kb) is not None

    def _verb_not_noun(self, toks, j, n, words, np) -> bool:
        """A known verb form: "a cat eats"; still a noun when known as one ("a cat and a drink")."""
        kb, w = self.kb, toks[j].text
        v = self.verb(w)
        if v is None:
            return False
        nxt = toks[j + 1].text if j + 1 < n else None
        known_noun = w in kb.kind_of or singularize(w, kb)[0] in kb.kind_of or w in kb.mass_nouns \
            or (bool(words) and w in kb.trait_words) \
            or (w in kb.ing_nouns and nxt not in kb.determiners)     # "building behind train"; "building a wall"
        if words and w in kb.ing_nouns and nxt in (None, ",", ".", ";") and kb.kind(words[-1]) != "agent":
            return False                                   # "a government building", "an office building."
        if words:
            # a second word that is a verb form ends the phrase ("a cat eats"; "the sun set behind")
            sky = kb.has_trait(words[-1], kb.kind(words[-1]), "sky_light")
            verb_next = nxt is not None and (self.verb(nxt) is not None and nxt not in kb.kind_of)
            return sky or not (known_noun and v[1] == "base"
                               and (nxt is None or self.closed(nxt) or verb_next)   # "a winter coat stands";
                               and nxt not in kb.determiners)                       # "... a bathroom sink" (the end)
        if known_noun or (nxt == "of" and singularize(w, kb)[0] in kb.collective_nouns):
            return False                                   # "in front of rows of pastries": the pastries
        if j > 0 and toks[j - 1].text in ("with", "of") and v[1] == "s":
            return False                                   # "a bed covered with blankets": a noun after "with"
        if np.det is None and np.count is None and not self._mods(np):
            return True
        return v[1] in ("ing", "part", "past") and nxt is not None and (nxt in kb.determiners or nxt == "by")

    def _unknown_verb(self, toks, j, n, words, np) -> bool:
        """An unknown verb: "a dog sniffs a cat"."""
        kb, w = self.kb, toks[j].text
        nxt = toks[j + 1].text if j + 1 < n else ""
        return bool(words) and w.endswith("s") and j + 1 < n \
            and (nxt in kb.determiners or _number(nxt, kb) is not None
                 or _verb_before_particle(w, nxt)) \
            and w not in kb.kind_of and singularize(w, kb)[0] not in kb.kind_of

    def _unknown_participle(self, toks, j, n, words, np) -> bool:
        """An unknown participle: "a cat licking a bowl", "a car parked on the road"."""
        if not words or j + 1 >= n:
            return False
        w, nxt = toks[j].text, toks[j + 1].text
        return (w.endswith("ing") and nxt in self.kb.determiners) \
            or (w.endswith("ed") and (nxt in self.kb.spatial or nxt in self.kb.verb_particles.get("travel", {})
                                      or nxt in ("by", "with"))) \
            or self._past_verb(w, nxt)

    def _past_verb(self, w: str, nxt: str) -> bool:
        """"the musician tuned their guitar", "the park provided shade": an unknown -ed word after a noun,
        before a phrase, is the verb."""
        kb = self.kb
        return w.endswith("ed") and not w.endswith("eed") and len(w) > 4 and w.isalpha() and w not in kb.kind_of \
            and w not in kb.mass_nouns and nxt not in SENTENCE_END \
            and (nxt in kb.determiners or nxt in POSSESSIVES or nxt in PARTICLES or not self.closed(nxt))

    def _participle_after_noun(self, toks, j, n, words, np) -> bool:
        """"a whale breaching", "an airplane taxiing": an -ing word after the noun is a verb, not a noun."""
        w = toks[j].text
        return bool(words) and w.endswith("ing") and len(w) > 4 and w not in self.kb.ing_nouns \
            and w not in self.kb.kind_of and not _match_phrase(toks, j, self.kb.compounds)

    def _modal_can(self, toks, j, n, words, np) -> bool:
        """"the planet Earth can be seen": "can" before "be" / "not" / "see" is a modal, not a tin."""
        return bool(words) and toks[j].text == "can" and j + 1 < n and toks[j + 1].text in MODAL_NEXT

    def _unknown(self, w: str) -> bool:
        """A word the knowledge file does not list as a noun of any kind."""
        kb = self.kb
        return w.isalpha() and not self.closed(w) and w not in kb.kind_of and singularize(w, kb)[0] not in kb.kind_of \
            and w not in kb.mass_nouns and w not in kb.concrete_nouns and w not in kb.collective_nouns \
            and w not in kb.ing_nouns and w not in kb.irregular_plurals

    def _not_a_noun(self, toks, j, n, words, np) -> bool:
        """An unknown word the dictionary never reads as a noun ("stark", "suggest", "arranged"): no thing."""
        w = toks[j].text
        if w in self.names or not self._unknown(w):
            return False
        nxt = toks[j + 1].text if j + 1 < n else ""
        if base_verb(w) and (nxt in self.kb.determiners or nxt in POSSESSIVES or nxt == "to"
                             or (nxt.endswith("ly") and never_a_noun(nxt))):
            return True                               # "the flowers provide a", "figures appear to be": verbs
        single = singularize(w, self.kb)[0]
        if not (never_a_noun(w) and (never_a_noun(single) or base_verb(single))):
            return False                              # "four knifes": a knife, however spelt ("seems": a verb)
        return not words or "ADJ" not in classes(w)   # "a tv remote": after a noun, only a verb form ends it

    def _adjective_word(self, toks, j, n, words, np) -> bool:
        """"thrilling and delighting the adventurous": an unknown -ous / -ful / -ical word is an adjective, no
        noun, unless a known noun follows it."""
        w = toks[j].text
        return w.endswith(ADJECTIVE_ENDINGS) and len(w) > 5 and self._unknown(w) \
            and (j + 1 >= n or self.closed(toks[j + 1].text) or toks[j + 1].text in SENTENCE_END)

    def _adverb(self, toks, j, n, words, np) -> bool:
        """"lazily", "softly": an -ly adverb is never part of a noun."""
        w = toks[j].text
        return w.endswith("ly") and len(w) > 4 and w not in self.kb.adverb_nouns and w not in self.kb.kind_of \
            and w not in self.kb.mass_nouns

    def _modifier_after_noun(self, toks, j, n, words, np) -> bool:
        """An adjective or fill word after the noun ends it: "the jar half full"."""
        return bool(words) and (self.is_modifier(toks[j].text) or bool(self.fill_at(toks, j)))

    def _name(self, np: NP, words: list[str]) -> None:
        """np.name and np.plural from the head words: the last word is singularised ("two red balls")."""
        words = [w[:40] for w in words]
        *rest, last = words[-1].split(" ")
        sing, np.plural = singularize(last, self.kb)
        if rest and last.endswith("es") and sing == last and last[:-2] + "s" != last:
            sing, np.plural = last[:-2], True             # "wine glasses": the compound's plural
        np.plural = np.plural and np.det not in SINGULAR_DETS   # "a sheep" is one sheep
        np.name = " ".join(words[:-1] + [" ".join(rest + [sing])])
        first, _, last = np.name.rpartition(" ")
        if last in ("surface", "water", "waters") and first and self.kb.has_trait(first, self.kb.kind(first), "liquid"):
            np.name = first                               # "the lake surface", "the lake water": the lake

    def _read_complement(self, np: NP, toks: list[Tok], j: int, n: int, depth: int) -> int:
        """"a glass of water", "the reflection of the ball", "a jar full of sand", "a glass half full of
        water": the nested phrase becomes np's contents (or owner); return the next index."""
        w = toks[j].text if j < n else None
        if np.name == "shade" and w == "of" and np.color is None and j + 1 < n and toks[j + 1].text not in self.kb.colors:
            np.name = "shadow"                            # "in the shade of a building": the building's shadow
        kind = self.kb.kind(np.name)
        if w == "of" and j + 1 < n and (kind == "container" or np.name in IMPLIED_NAMES
                                       or self.kb.has_trait(np.name, kind, "serving")
                                       or self.kb.has_trait(np.name, kind, "furniture")):   # "a table of bananas"
            sub = self.np_at(toks, j + 1, depth + 1)
            if sub is None:
                return j
            if np.name in IMPLIED_NAMES:
                np.extra["owner"] = sub[0]
            else:
                np.contents = sub[0]
            np.end = sub[0].end
            return sub[1]
        if w in ("full", "filled") and j + 2 < n and toks[j + 1].text in ("of", "with"):
            k = self._contents_at(np, toks, j + 2, depth)
            if k is not None and np.fill is None and self.kb.fills(np.contents.name, self.kb.kind(np.contents.name)):
                np.fill = 1.0 if w == "full" else 0.8   # "a box full of toys" holds them: no fill level
            return j if k is None else k
        fill = self.fill_at(toks, j) if j < n else None
        if not fill:
            return j
        np.fill = fill[0]
        k = j + fill[1]
        if k + 1 < n and toks[k].text in ("of", "with"):
            after = self._contents_at(np, toks, k + 1, depth)
            return k if after is None else after
        return k

    def _contents_at(self, np: NP, toks: list[Tok], k: int, depth: int) -> int | None:
        """The phrase at k is what np holds: set np.contents and np.end; return the next index (None: no phrase)."""
        sub = self.np_at(toks, k, depth + 1)
        if sub is None:
            return None
        np.contents, np.end = sub[0], sub[0].end
        return sub[1]

    def verb_particle(self, w: str, out: list) -> str | None:
        """The relation a word right after a verb means for that verb's list (``verb_particles``), else None."""
        if len(out) >= 2 and out[-1].type == "OTHER" and str(out[-1].value).endswith("ly"):
            out = out[:-1]                       # "sailing leisurely along the river": past the adverb
        if not out or out[-1].type != "VERB":
            return None
        for name, table in self.kb.verb_particles.items():
            if w in table and out[-1].value in self.kb.verb_lists.get(name, ()):
                return table[w]
        return None

    def guess_verb(self, toks: list[Tok], i: int, out: list):
        """An unknown word used as a verb right after a noun phrase: "a man reading a paper",
        "a car parked on the road", "a dog sniffs a shoe". Returns (lemma, form) or None."""
        w = toks[i].text
        if out and out[-1].type == "NP" and self._follows_pair(out[:-1]) and self._base_verb_at(toks, i, len(toks)):
            return w, "base"                      # "the vase and tongs mix the greens"
        if out and out[-1].type in ("CONJ", "COMMA", "NEG") and w.endswith("ing") and len(w) > 4 \
                and w not in self.kb.ing_nouns and w not in self.kb.kind_of and w.isalpha():
            return inflected_lemma(w), "ing"
        if out and out[-1].type in ("CONJ", "COMMA") and w.endswith("ed") and len(w) > 4 and w.isalpha() \
                and i + 1 < len(toks) and toks[i + 1].text == "by" and w not in self.kb.kind_of:
            return inflected_lemma(w), "part"   # ", battered by the waves"
        if not out or out[-1].type not in ("NP", "AUX", "REL") or w in self.kb.kind_of or w in self.kb.mass_nouns \
                or self.closed(w) or not w.isalpha() or len(w) < 4:
            return None
        nxt = toks[i + 1].text if i + 1 < len(toks) else ""
        starts_np = nxt in self.kb.determiners or _number(nxt, self.kb) is not None
        place = nxt in self.kb.spatial or nxt in self.kb.verb_particles.get("travel", {})
        if w.endswith("ing") and (starts_np or place or (out[-1].type == "AUX" and w not in self.kb.ing_nouns)):
            return inflected_lemma(w), "ing"   # "is telling jokes": after "is", an -ing word is the verb
        if w.endswith("ed") and (place or nxt in ("by", "with")
                                 or (out[-1].type == "NP" and self._past_verb(w, nxt))):
            return inflected_lemma(w), "part"
        if w.endswith("s") and not w.endswith("ss") and out[-1].type in ("NP", "REL") and (
                starts_np or (place and "VERB" in classes(w)) or _verb_before_particle(w, nxt)):   # "speeds along"
            return (w[:-2] if w.endswith(("ches", "shes", "xes")) else w[:-1]), "s"
        return None

    @staticmethod
    def _follows_pair(out: list) -> bool:
        """The chunks read end with "A and", no verb yet in the clause (since the last sentence end or comma)."""
        if not (len(out) >= 2 and out[-1].type == "CONJ" and out[-1].value == "and" and out[-2].type == "NP"):
            return False
        start = max((k + 1 for k, c in enumerate(out) if c.type in ("END", "COMMA")), default=0)
        return not any(c.type == "VERB" for c in out[start:])

    def _credit_end(self, toks: list[Tok], i: int, out: list) -> int | None:
        """Where a credit ends that names no thing in the picture: "by Vincent van Gogh" or "in the style of
        Ukiyo" running to a comma or the end ("waves lapping on sand by Hokusai, in the style of Ukiyo"); None
        otherwise."""
        n, w = len(toks), toks[i].text
        if w == "by" and out and i + 1 < n and toks[i + 1].text in self.names:
            j = i + 1
            while j < n and (toks[j].text in self.names or toks[j].text in NAME_PARTICLES):
                j += 1
            return j if j >= n or toks[j].text in (",", ".", ";", "|") else None
        if w == "in" and [t.text for t in toks[i + 1:i + 4]] == ["the", "style", "of"]:
            j = i + 4
            while j < n and toks[j].text not in (",", ".", ";", "|"):
                j += 1
            return j
        return None

    @staticmethod
    def _frame_end(r, toks: list[Tok], n: int) -> int | None:
        """Where the picture's subject starts when the phrase read (``r``: NP, next index) only frames it: "an
        extreme close-up view of", "a high-quality photograph of", "a DSLR photo of"; None otherwise."""
        np, j = r
        if j + 1 < n and toks[j].text == "of" and not np.contents and np.name.rsplit(" ", 1)[-1] in SCENE_WORDS:
            return j + 1
        if j + 1 < n and toks[j].text in SCENE_WORDS and toks[j + 1].text == "of":
            return j + 2
        return None

    def _is_head(self, toks: list[Tok], j: int) -> bool:
        """True when the adjective-like word at j is the phrase's noun ("a glass", "the ice")."""
        n = len(toks)
        if j + 1 >= n:
            return True
        nxt = toks[j + 1].text
        if _match_phrase(toks, j + 1, self.kb.compounds):
            return False
        if nxt in ("of", "full", "filled") or self.fill_at(toks, j + 1):
            return True
        if nxt == "and" and self._adjective_pair(toks, j + 1):
            return False                                  # "a very old and rusted train": two adjectives
        v = self.verb(nxt)
        if v is not None and v[1] == "base" and j > 0 and (toks[j - 1].text in self.kb.determiners
                                                           or self.is_modifier(toks[j - 1].text)):
            return False                                  # "the silver watch": a noun after "the silver"
        known = nxt in self.kb.kind_of or nxt in self.kb.irregular_plurals   # "the fallen leaves": the leaves
        return self.closed(nxt) or v is not None and not known

    @staticmethod
    def _mods(np: NP) -> bool:
        return any((np.color, np.material, np.pattern, np.size, np.state, np.descriptor, np.fill is not None))

    # -- whole prompt ------------------------------------------------------------------------
    def _model_number(self, toks: list[Tok], i: int) -> bool:
        """"a Porsche 911 coming around a curve", "a Boeing 747 flying": a number after a name, before a verb's
        -ing form, is part of the name (no count)."""
        w = toks[i].text
        if not (_digits(w) and 0 < i < len(toks) - 1):
            return False
        prev, nxt = toks[i - 1].text, toks[i + 1].text
        if not prev.isalpha() or self.closed(prev) or prev in self.kb.determiners or _number(prev, self.kb) is not None:
            return False
        form = self.verb(nxt)
        return bool(form and form[1] == "ing")

    def chunks(self, text: str) -> list[Chunk]:
        kb = self.kb
        toks = tokenize(text)
        toks = [t for k, t in enumerate(toks) if not self._model_number(toks, k)]
        self.names = frozenset(t.text for t in toks if text[t.start:t.start + 1].isupper())
        out: list[Chunk] = []
        i, n = 0, len(toks)
        while i < n:
            t = toks[i]
            w = t.text
            if w in SENTENCE_END:
                out.append(Chunk("END", None, t.start, t.end))
                i += 1
                continue
            if w == ",":
                serial = len(out) >= 3 and out[-1].type == "NP" and out[-2].type == "COMMA" and out[-3].type == "NP"
                if not (serial and i + 1 < n and toks[i + 1].text in ("and", "or")):
                    out.append(Chunk("COMMA", None, t.start, t.end))   # "A, B, and C": the serial comma joins
                i += 1
                continue
            if w in kb.time_words:
                if out and out[-1].type == "PREP" and out[-1].value in ("near", "in", "on"):
                    out.pop()  # "at sunset": a time, not a place
                if w in kb.light_words:   # "at dusk", "at noon": the light of that time of day
                    out.append(Chunk("LIGHT", kb.light_words[w], t.start, t.end))
                i += 1
                continue
            if w in ("a", "an", "the") and i + 2 < n and toks[i + 1].text in SCENE_WORDS \
                    and (toks[i + 2].text == "of" or (toks[i + 2].text in FRAME_VERBS and not out)):
                i += 3    # "a close-up of", "a photo of"; "A timelapse captures ..."
                continue
            side = _match_phrase(toks, i, kb.sides)
            spatial = _match_phrase(toks, i, kb.spatial)
            if side and (not spatial or side[1] >= spatial[1]):
                out.append(Chunk("SIDE", side[0], t.start, toks[i + side[1] - 1].end))
                i += side[1]
                continue
            if w in ("full", "filled") and i + 1 < n and toks[i + 1].text in ("of", "with"):
                out.append(Chunk("PREP", "filled_with", t.start, toks[i + 1].end))
                i += 2
                continue
            fill = self.fill_at(toks, i)
            if fill and out and out[-1].type in ("AUX", "NEG", "NP"):
                out.append(Chunk("FILL", fill[0], t.start, toks[i + fill[1] - 1].end))
                i += fill[1]
                continue
            if w == "in" and out and out[-1].type == "NP" and i + 2 < n and toks[i + 1].text in kb.colors \
                    and self._verb_word(toks[i + 2].text):
                i += 2          # "a girl in black balances on a surfboard": what she wears, no place
                continue
            credit = self._credit_end(toks, i, out)
            if credit:
                i = credit      # "by Hokusai", "in the style of Ukiyo": who made it, no thing
                continue
            tag = _match_phrase(toks, i, kb.style_tags) if (not out or out[-1].type in ("COMMA", "END")) else None
            if tag and (i + tag[1] >= n or toks[i + tag[1]].text in (",", ".", "|", ";")):
                i += tag[1]     # ", trending on artstation, 8k": a prompt tag between commas, no thing
                continue
            skipped = _skip_phrase(toks, i)
            if skipped:
                i += skipped    # "on all fours", "lots of", "in half": SKIP_PHRASES
                continue
            if w in VERB_ADVERBS and out and out[-1].type == "VERB" and (i + 1 >= n or self.closed(toks[i + 1].text)
                                                                     or toks[i + 1].text in kb.spatial):
                i += 1          # "the grapes hung low on the vine": how it hangs, no thing
                continue
            if w in ("more", "less", "fewer"):
                out.append(Chunk("COMP", "more_than" if w == "more" else "less_than", t.start, t.end))
                i += 1
                continue
            if w in kb.comparative_adjectives and i + 1 < n and toks[i + 1].text == "than":
                out.append(Chunk("COMPADJ", tuple(kb.comparative_adjectives[w]), t.start, t.end))
                i += 1
                continue
            if w == "than":
                out.append(Chunk("THAN", None, t.start, t.end))
                i += 1
                continue
            if w == "by" and out and out[-1].type == "VERB" and out[-1].form in ("part", "past"):
                out.append(Chunk("BY", None, t.start, t.end))
                i += 1
                continue
            particle = self.verb_particle(w, out)
            if particle:
                # "a swan glided across the lake", "a blanket draped over the couch": the surface travelled / covered
                out.append(Chunk("PREP", particle, t.start, t.end))
                i += 1
                continue
            if spatial:
                # "in" before a fill word or a verb is not spatial; keep simple: treat as PREP
                out.append(Chunk("PREP", spatial[0], t.start, toks[i + spatial[1] - 1].end))
                i += spatial[1]
                continue
            if w in NEG or w in NEG_CONTRACTIONS:
                if w in NEG_CONTRACTIONS:
                    out.append(Chunk("AUX", w, t.start, t.end))
                out.append(Chunk("NEG", None, t.start, t.end))
                i += 1
                continue
            if w == "can" and out and out[-1].type in ("NP", "OTHER") and i + 1 < n and (
                    toks[i + 1].text in MODAL_NEXT):
                out.append(Chunk("AUX", w, t.start, t.end))     # "the planet Earth can be seen" (a can of Spam)
                i += 1
                continue
            if w in AUX_BE or w in AUX_DO:
                out.append(Chunk("AUX", w, t.start, t.end))
                i += 1
                continue
            if w in CONJ:
                out.append(Chunk("CONJ", w, t.start, t.end))
                i += 1
                continue
            if w in REL:
                out.append(Chunk("REL", w, t.start, t.end))
                i += 1
                continue
            if w in ("with", "without", "of", "there"):
                out.append(Chunk(w.upper(), None, t.start, t.end))
                i += 1
                continue
            if w in kb.pronouns and w not in ("its", "his", "her", "their", "one"):
                out.append(Chunk("NP", NP(name="", start=t.start, end=t.end, pronoun=True), t.start, t.end))
                i += 1
                continue
            if w in SCENE_WORDS and i + 1 < n and toks[i + 1].text in FRAME_VERBS and (not out or out[-1].type != "NP"):
                i += 2          # "A timelapse captures the reaction as ...": what the frame shows follows
                continue
            if w in SCENE_WORDS and i + 1 < n and toks[i + 1].text in ("of", "showing", "with", "where", "in"):
                i += 2 if toks[i + 1].text == "of" else 1
                continue
            v = self.verb(w) or self.guess_verb(toks, i, out)
            if v is not None and v[1] == "base" and out and out[-1].type == "OTHER" and out[-1].value == "to" \
                    and i + 1 < n and (toks[i + 1].text in kb.determiners or toks[i + 1].text in kb.spatial):
                out.append(Chunk("VERB", v[0], t.start, t.end, form=v[1]))    # "ready to fly a kite": a verb
                i += 1
                continue
            prev_np = bool(out) and out[-1].type in ("NP", "AUX", "NEG", "REL", "COMMA", "CONJ", "SIDE")
            if v is not None and (prev_np or not out) and not (
                    (w in kb.kind_of or w in kb.mass_nouns or (not out and w in kb.ing_nouns))
                    and (not out or out[-1].type not in ("NP", "AUX", "NEG", "REL"))):
                if not (out and out[-1].type in ("CONJ", "COMMA") and (w in kb.kind_of or w in kb.mass_nouns)):
                    out.append(Chunk("VERB", v[0], t.start, t.end, form=v[1]))
                    i += 1
                    continue
            existential = len(out) >= 2 and out[-1].type == "AUX" and out[-2].type == "THERE"   # "there are frogs"
            if out and out[-1].type in ("AUX", "NEG") and not existential and w not in kb.determiners \
                    and _number(w, kb) is None \
                    and w not in kb.kind_of and w not in kb.mass_nouns and w not in kb.pronouns \
                    and (i + 1 >= n or self.closed(toks[i + 1].text) or toks[i + 1].text in kb.spatial):
                out.append(Chunk("ADJ", w, t.start, t.end))  # predicate adjective: "the sun is low"
                i += 1
                continue
            if w in ("other", "another") and out and out[-1].type in ("CONJ", "COMMA") and i + 1 < n \
                    and not self.closed(toks[i + 1].text):
                i += 1          # "a cup, toothbrushes, and other items sit on": one more of the list
                continue
            if w in CATENATIVES and i + 1 < n and toks[i + 1].text.endswith("ing") and out \
                    and out[-1].type not in ("PREP", "OF", "WITH"):
                i += 1          # "then it starts chasing its tail": the chasing is the verb, no "start" thing
                continue
            if w in ("shadow", "shade") and len(out) >= 2 and out[-1].type == "CONJ" and out[-2].type == "VERB" \
                    and i + 1 < n and toks[i + 1].text not in ("of", ",", "."):
                np = NP(name="shadow", start=t.start, end=t.end, owner_last=True)   # "surround and shadow deep
                out.append(Chunk("NP", np, t.start, t.end))                          # canyons": theirs
                i += 1
                continue
            self.after_pair = self._follows_pair(out)
            r = self.np_at(toks, i)
            self.after_pair = False
            if r is None and w in ("her", "his", "their"):
                out.append(Chunk("NP", NP(name="", start=t.start, end=t.end, pronoun=True), t.start, t.end))
                i += 1
                continue
            skip = self._frame_end(r, toks, n) if r is not None else None
            if skip is not None:
                i = skip
                continue
            if r is not None:
                np, j = r
                out.append(Chunk("NP", np, np.start, np.end))
                i = j
                continue
            if v is not None:
                out.append(Chunk("VERB", v[0], t.start, t.end, form=v[1]))
            elif w in kb.colors or w in kb.sizes or w in kb.materials or w in kb.states or w in kb.patterns:
                out.append(Chunk("ADJ", w, t.start, t.end))
            else:
                out.append(Chunk("OTHER", w, t.start, t.end))
            i += 1
        return out


#: Tests that end the head noun at a word (``Chunker._read_head``), any one suffices.
_HEAD_STOPS = (Chunker._closed_word, Chunker._pair_verb, Chunker._adjective_word, Chunker._not_a_noun, Chunker._number_after_noun, Chunker._verb_not_noun, Chunker._unknown_verb,
               Chunker._unknown_participle, Chunker._participle_after_noun, Chunker._adverb,
               Chunker._modifier_after_noun, Chunker._modal_can)
