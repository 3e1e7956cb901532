"""First parser pass: tokenise a prompt and group tokens into chunks (noun phrases, prepositions,
verbs, auxiliaries...). Pure, linear in the prompt length, never raises on odd input."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .knowledge import Knowledge

TOKEN_RE = re.compile(r"[^\W_]+(?:['\u2019\-][^\W_]+)*%?|[.,;:!?()&]")
SENTENCE_END = {".", ";", "!", "?", ":", "(", ")"}
AUX_BE = {"is", "are", "was", "were", "be", "been", "being", "am", "gets", "get", "got"}
AUX_DO = {"does", "do", "did"}
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
                "throughout", "during", "about", "like"}
IMPLIED_NAMES = {"reflection": "reflection", "shadow": "shadow", "splash": "splash", "ripple": "ripple",
                 "refraction": "refraction", "contact": "contact"}
SCENE_WORDS = {"scene", "image", "picture", "photo", "photograph", "render", "illustration", "painting",
               "drawing", "view", "shot", "close-up", "closeup"}
MAX_NOUN_WORDS = 3
MAX_PRE = 6
MAX_MODS = 8
MAX_DEPTH = 2


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
    pattern: str | None = None
    size: str | None = None
    state: str | None = None
    descriptor: str | None = None
    fill: float | None = None
    pronoun: bool = False
    owner_last: bool = False        # "its shadow": owned by the previous entity
    contents: "NP | None" = None    # "a glass of water"
    extra: dict = field(default_factory=dict)


@dataclass
class Chunk:
    type: str          # NP PREP SIDE VERB AUX NEG CONJ COMMA REL WITH WITHOUT OF BY THAN COMP COMPADJ FILL
    #                    THERE END OTHER
    value: object = None
    start: int = 0
    end: int = 0
    form: str = ""     # verbs: base / s / past / part / ing


def tokenize(text: str) -> list[Tok]:
    low = text.lower()
    return [Tok(m.group(0).replace("\u2019", "'"), m.start(), m.end()) for m in TOKEN_RE.finditer(low)]


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

    # -- classification --------------------------------------------------------------------
    def is_modifier(self, w: str) -> bool:
        kb = self.kb
        return (w in kb.colors or w in kb.materials or w in kb.patterns or w in kb.sizes or w in kb.states
                or w in kb.descriptors)

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

        Bounded work per call (at most MAX_PRE determiners/numbers, MAX_MODS modifiers, MAX_NOUN_WORDS
        nouns, nesting depth 2), so chunking is linear in the prompt length whatever the input.
        """
        kb = self.kb
        n = min(len(toks), i + MAX_PRE + MAX_MODS + MAX_NOUN_WORDS + 8)
        start = toks[i].start
        np = NP(name="", start=start, end=start)
        j = i
        # determiners, negation, numbers
        while j < n:
            w = toks[j].text
            if w == "no" or w == "zero":
                np.negated = True
            elif w in ("a", "an") and j + 1 < n and toks[j + 1].text in ("pair", "couple", "dozen", "few") \
                    and not (j + 2 < n and toks[j + 2].text in ("full", "empty")):
                np.count = kb.numbers[toks[j + 1].text]
                j += 2
                if j < n and toks[j].text == "of":
                    j += 1
                continue
            elif w in kb.determiners:
                np.det = np.det or w
                if w in ("its", "his", "her", "their"):
                    np.owner_last = True
            elif w in ("pair", "couple") and j + 1 < n and toks[j + 1].text == "of":
                np.count = 2
                j += 2
                continue
            elif _number(w, kb) is not None and not self.fill_at(toks, j):
                if w in ("one",) and np.det is not None:
                    break
                np.count = _number(w, kb)
                if np.count == 0:
                    np.negated = True
            else:
                break
            j += 1
        # modifiers (adjectives) and fill words
        while j < n:
            w = toks[j].text
            comp = _match_phrase(toks, j, kb.compounds)
            if comp:
                break
            fill = self.fill_at(toks, j)
            if fill:
                np.fill = fill[0]
                j += fill[1]
                continue
            if w in kb.colors and np.color is None:
                np.color = w
            elif w in kb.materials and np.material is None and not self._is_head(toks, j):
                np.material = w
            elif w in kb.patterns:
                np.pattern = w
            elif w in kb.sizes and np.size is None:
                np.size = kb.sizes[w]
            elif w in kb.states and not self._is_head(toks, j):
                np.state = w
            elif w in kb.comparative_adjectives:
                np.descriptor = w
            elif w in kb.descriptors or (w.endswith(("ful", "ous", "ish", "less", "ive")) and len(w) > 5
                                         and j + 1 < n and not self.closed(toks[j + 1].text)):
                np.descriptor = w
            elif w in ("very", "quite", "really", "bright", "pale", "deep") and j + 1 < n \
                    and (toks[j + 1].text in kb.colors or toks[j + 1].text in kb.sizes):
                pass
            else:
                break
            j += 1
        # head noun (compound, or up to MAX_NOUN_WORDS unknown/known nouns)
        words: list[str] = []
        last_end = toks[j - 1].end if j > i else start
        while j < n and len(words) < MAX_NOUN_WORDS:
            comp = _match_phrase(toks, j, kb.compounds)
            if comp:
                words = [comp[0]] if not words else words + [comp[0]]
                last_end = toks[j + comp[1] - 1].end
                j += comp[1]
                continue
            w = toks[j].text
            if self.closed(w) and not (w in kb.pronouns and False):
                break
            if _number(w, kb) is not None and words:
                break
            v = self.verb(w)
            if v is not None:
                known_noun = w in kb.kind_of or singularize(w, kb)[0] in kb.kind_of or w in kb.mass_nouns
                if words:
                    # a second word that is a verb form ends the phrase ("a cat eats")
                    if not (known_noun and v[1] == "base" and j + 1 < n and self.closed(toks[j + 1].text)
                            and toks[j + 1].text not in kb.determiners):
                        break
                elif not known_noun and (np.det is None and np.count is None and not self._mods(np)):
                    break
                elif not known_noun and v[1] in ("ing", "part", "past") and j + 1 < n \
                        and (toks[j + 1].text in kb.determiners or toks[j + 1].text == "by"):
                    break
            if words and w.endswith("s") and j + 1 < n and (toks[j + 1].text in kb.determiners
                                                             or _number(toks[j + 1].text, kb) is not None) \
                    and w not in kb.kind_of and singularize(w, kb)[0] not in kb.kind_of:
                break  # unknown verb: "a dog sniffs a cat"
            if words and w.endswith("ing") and j + 1 < n and toks[j + 1].text in kb.determiners:
                break  # unknown participle: "a cat licking a bowl"
            if words and w.endswith("ed") and j + 1 < n and (toks[j + 1].text in kb.spatial or toks[j + 1].text == "by"):
                break  # unknown participle: "a car parked on the road"
            if self.is_modifier(w) and words:
                break
            if words and self.fill_at(toks, j):
                break
            words.append(w)
            last_end = toks[j].end
            j += 1
        if not words:
            # adjective used as a noun ("the red one") or bare determiner: no phrase
            if j > i and (np.color or np.size) and j < n and toks[j].text in ("one", "ones"):
                words = ["object"]
                last_end = toks[j].end
                j += 1
            else:
                return None
        words = [w[:40] for w in words]
        head = words[-1]
        sing, plural = singularize(head, kb) if " " not in head else (head, False)
        if " " in head:
            parts = head.split(" ")
            s2, p2 = singularize(parts[-1], kb)
            sing, plural = " ".join(parts[:-1] + [s2]), p2
        words[-1] = sing
        np.name = " ".join(words)
        np.plural = plural
        np.end = last_end
        # "a glass of water", "the reflection of the ball", "a jar full of sand"
        if depth >= MAX_DEPTH:
            return np, j
        if j + 1 < n and toks[j].text == "of" and (kb.kind(np.name) == "container" or np.name in IMPLIED_NAMES):
            sub = self.np_at(toks, j + 1, depth + 1)
            if sub is not None and not sub[0].pronoun:
                if np.name in IMPLIED_NAMES:
                    np.extra["owner"] = sub[0]
                else:
                    np.contents = sub[0]
                np.end = sub[0].end
                j = sub[1]
        elif j + 2 < n and toks[j].text in ("full", "filled") and toks[j + 1].text in ("of", "with"):
            sub = self.np_at(toks, j + 2, depth + 1)
            if sub is not None:
                np.contents = sub[0]
                np.fill = np.fill if np.fill is not None else (1.0 if toks[j].text == "full" else 0.8)
                np.end = sub[0].end
                j = sub[1]
        elif j < n:
            fill = self.fill_at(toks, j)
            if fill:  # "a glass half full of water"
                np.fill = fill[0]
                k = j + fill[1]
                if k + 1 < n and toks[k].text in ("of", "with"):
                    sub = self.np_at(toks, k + 1, depth + 1)
                    if sub is not None:
                        np.contents = sub[0]
                        np.end = sub[0].end
                        k = sub[1]
                j = k
        return np, j

    def guess_verb(self, toks: list[Tok], i: int, out: list):
        """An unknown word used as a verb right after a noun phrase: "a man reading a paper",
        "a car parked on the road", "a dog sniffs a shoe". Returns (lemma, form) or None."""
        w = toks[i].text
        if not out or out[-1].type not in ("NP", "AUX") or w in self.kb.kind_of or w in self.kb.mass_nouns \
                or self.closed(w) or not w.isalpha() or len(w) < 4:
            return None
        nxt = toks[i + 1].text if i + 1 < len(toks) else ""
        starts_np = nxt in self.kb.determiners or _number(nxt, self.kb) is not None
        if w.endswith("ing") and (starts_np or nxt in self.kb.spatial):
            return guess_lemma(w[:-3]), "ing"
        if w.endswith("ed") and (nxt in self.kb.spatial or nxt == "by"):
            return (w[:-3] + "y" if w.endswith("ied") else guess_lemma(w[:-2])), "part"
        if w.endswith("s") and not w.endswith("ss") and starts_np and out[-1].type == "NP":
            return (w[:-2] if w.endswith(("ches", "shes", "xes")) else w[:-1]), "s"
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
        return self.closed(nxt) or self.verb(nxt) is not None and nxt not in self.kb.kind_of

    @staticmethod
    def _mods(np: NP) -> bool:
        return any((np.color, np.material, np.pattern, np.size, np.state, np.descriptor, np.fill is not None))

    # -- whole prompt ------------------------------------------------------------------------
    def chunks(self, text: str) -> list[Chunk]:
        kb = self.kb
        toks = tokenize(text)
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
                out.append(Chunk("COMMA", None, t.start, t.end))
                i += 1
                continue
            if w in kb.time_words:
                if out and out[-1].type == "PREP" and out[-1].value == "near":
                    out.pop()  # "at sunset": a time, not a place
                i += 1
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
            if spatial and not (w == "by" and False):
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
            if w in SCENE_WORDS and i + 1 < n and toks[i + 1].text in ("of", "showing", "with", "where", "in"):
                i += 2 if toks[i + 1].text == "of" else 1
                continue
            v = self.verb(w) or self.guess_verb(toks, i, out)
            prev_np = bool(out) and out[-1].type in ("NP", "AUX", "NEG", "REL", "COMMA", "CONJ", "SIDE")
            if v is not None and (prev_np or not out) and not (
                    (w in kb.kind_of or w in kb.mass_nouns) and (not out or out[-1].type not in ("NP", "AUX", "NEG", "REL"))):
                if not (out and out[-1].type in ("CONJ", "COMMA") and (w in kb.kind_of or w in kb.mass_nouns)):
                    out.append(Chunk("VERB", v[0], t.start, t.end, form=v[1]))
                    i += 1
                    continue
            if out and out[-1].type in ("AUX", "NEG") and w not in kb.determiners and _number(w, kb) is None \
                    and w not in kb.kind_of and w not in kb.mass_nouns and w not in kb.pronouns \
                    and (i + 1 >= n or self.closed(toks[i + 1].text) or toks[i + 1].text in kb.spatial):
                out.append(Chunk("ADJ", w, t.start, t.end))  # predicate adjective: "the sun is low"
                i += 1
                continue
            r = self.np_at(toks, i)
            if r is None and w in ("her", "his", "their"):
                out.append(Chunk("NP", NP(name="", start=t.start, end=t.end, pronoun=True), t.start, t.end))
                i += 1
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
