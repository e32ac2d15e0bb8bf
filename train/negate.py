#!/usr/bin/env python3
"""Negation minimal pairs from real review sentences (stdlib only, deterministic for a seed).

    /usr/bin/python3 train/negate.py --out .data/neg/neg.tsv --dev-out .data/neg/neg-dev.jsonl
    /usr/bin/python3 train/negate.py --check          # lexicon, counts and 3 examples per rule, no file

Why: `augment.py` fills hand-written frames with SST-2 phrases; models trained on it pass its own kind of sentence
but stay near chance on negations written by another hand about other things (hotels, tools, courses), in longer
sentences. Here the sentences are real ones from the labelled review text (IMDb, the four Amazon domains of
Blitzer et al., Kotzias et al.), and each rule edits one clause of them, so subjects, length and wording are
those of real reviews.

How labels are made (never by a model):
1. A predicate-adjective lexicon: a hand-written core of adjectives whose polarity holds in every domain
   (`CORE_ADJ`), and adjectives mined from the same text: an adjective after a copula ("was", "seems",
   "has been", …, optionally after degree adverbs) in a clause with no negator, contrast or modal before it,
   counted by its review's label; polar when >= 10 occurrences agree >= 85 % (positive) or <= 15 % (negative)
   and it also follows a degree adverb somewhere ("very", "so", …), minus a hand-checked stoplist of words that
   are not evaluative adjectives in every domain (`NOT_ADJ`).
2. A source sentence qualifies when it has exactly one such copula + adjective site, no negator or contrast
   word anywhere, no polar word of the other polarity (the lexicon or a one-word SST-2 phrase), at most 20
   words and nothing after the adjective that the negation would not reach (a comma, "and", "that"), and, where
   its review is labelled (all but IMDb's unlabelled reviews), the review's label equals the adjective's
   polarity. Its label is the adjective's. Rules that flip labels take positive and negative sources in turn.
3. Rules (label in brackets, p = the source clause's label):
   - `orig` [p]: the source sentence itself, so every negated sentence has its unnegated twin in the data.
   - `neg_copula` [1 - p]: the copula negated in one of its natural forms ("was not", "wasn't", "was never",
     "has not been", "doesn't seem", "won't be"; "far from", "hardly", "not at all" for positive adjectives).
     A negated negative counts as positive ("the room was not dirty" -> 1), the convention of behavioural
     sentiment tests; degree adverbs before a negative adjective are dropped ("not very rude" is still rude).
   - `neg_verb` [1 - p]: "I loved / liked / enjoyed / recommend / hated / regret …" -> "I did not love",
     "I would not recommend", "I don't regret …", in real sentences that have that clause and no other polar word.
   - `neg_event` [1 - p]: "it works great" -> "it does not work", "the lid broke" -> "the lid never broke".
   - `expect` [p or 1 - p]: subject/adjective pairs taken from real clauses (and augment.py's hand-written
     subjects of films, places and products with adjectives that fit them) in expectation frames: "I expected the
     staff to be friendly, but they weren't" [1 - p], "… and they were" [p], "the battery was not as good as I
     expected" [1 - p], "the battery turned out to be good" [p].
   - `nothing` [1 - p]: "there was nothing dirty about the room", "the room was anything but dirty".
   - `double_neg` [p]: two negators around a real subject/adjective: "I can't say the room wasn't clean",
     "there wasn't a moment when the staff weren't friendly", "the food was never anything but fresh".
   - `neg_feeling` [1 - p]: the reviewer's feeling or a polar verb of the subject, in real sentences, negated:
     "I was not impressed", "we weren't disappointed", "the sequel did not deliver", "it never dragged".
   - `others` [1 - p or fixed]: negated quantifiers and verbs around real subjects: "nobody in my family enjoyed
     the tour" [0], "nobody … complained about the tour" [1], "the tour failed to impress me" [0], "… never
     failed to impress me" [1], "none of the actors were convincing" [1 - p], "the room is no longer clean" [1 - p].
   - `scope` [p]: a real source sentence after a clause whose negation does not reach it ("I didn't expect much,
     but …", "There's no denying it: …", "I don't know why, but …").
4. `--version 1` is the rule set of the sixth generation's shipped data (without `neg_feeling`, `others` and
   "no longer"); 2, the default, all rules; 3, all rules over cleaner sources: no evaluative word (the lexicon,
   SST-2's polar adjectives, stance verbs) outside the edited clause, which would keep its polarity under the
   negation (9 % of the copula sources have one). A seeded 5 % of the source sentences (by review) go to a dev file instead, with all their variants: a
   negation check on text like the training data's, not a blind test (the hold-out sets in behaviour/ are).
5. Outputs whose normalised text contains a behaviour-set case are dropped (as in augment.py); a third of the
   rows are rendered SST-style (lower case, " n't", " , "), the rest stay as written.
"""
import argparse
import collections
import functools
import gzip
import html
import json
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from augment import (DEFAULT_BEHAVIOUR, DEFAULT_SST, DOMAIN_ADJ, DOMAIN_SUBJ, build_lexicon, leaks,  # noqa: E402
                     load_behaviour, norm, read_sst)

DEFAULT_REVIEWS = "../shared/data/reviews"
SOURCES = ["imdb/train.tsv.gz", "imdb/test.tsv.gz", "imdb/unsup.tsv.gz"] + \
    [f"blitzer-mds/{d}.tsv.gz" for d in ("books", "dvd", "electronics", "kitchen")] + \
    [f"kotzias-sentences/{d}.tsv.gz" for d in ("amazon", "imdb", "yelp")]

COPULA = ["is", "was", "are", "were", "'s", "seems", "seemed", "looks", "looked", "feels", "felt", "sounds",
          "sounded", "tastes", "tasted", "been", "be"]
DEGREE = ["very", "so", "really", "quite", "pretty", "extremely", "incredibly", "truly", "absolutely", "totally",
          "rather", "fairly", "too", "super", "just", "simply", "also", "still", "always", "surprisingly",
          "genuinely", "utterly", "thoroughly", "completely", "overall", "amazingly", "exceptionally", "remarkably",
          "equally", "insanely", "downright", "almost"]
NEGATOR_RE = re.compile(
    r"\b(not|no|never|nothing|none|nobody|neither|nor|hardly|barely|without|if|would|could|should|might|may|must|"
    r"but|although|though|however|yet|except|than|less|least|wish|hope|supposed|expect|expected|thought|lack|"
    r"lacks|lacking|lacked|instead|unless|whether|cannot|anything|only|even|why|seems like|almost)\b|n't|\?")
CLAUSE_RE = re.compile(r"\b(" + "|".join(re.escape(c) for c in COPULA) + r")\s+((?:(?:" + "|".join(DEGREE) +
                       r")\s+)*)([a-z][a-z-]*[a-z])\b(?!-)")
# polar by the statistics, but not an evaluative adjective of a thing in every domain, or not flippable by "not"
NOT_ADJ = set("""
beyond plain sake see start watched men age joined eight seven nine unlike top magic fat raw complex subtle eerie
chilling heartbreaking emotional haunting touching touched confronted illuminated helped returning avoided kidding
torture ripped random absent non-existent nonexistent utter devoid below hooked captivated loved fortunate
underrated promising average passable mildly worse worst finest best better absolutely strong sharp dry flat
powerful unique believable impressed embarrassed appalled bored disappointed wasted ruined misleading miscast
genius crap garbage trash rubbish stupid dumb idiotic bitter bittersweet considering controversial daring
italian personal risky heartbroken humble universal unpredictable logical palpable swept enchanted engaged entranced
absorbed tender perfection understated static fooled vague unrelated inconceivable claustrophobic amateur cardboard
gratuitous superfluous artificial disconnected educational music wild growing sentimental smitten
""".split())
# evaluative adjectives whose polarity holds in every domain (hand-written; the mined lexicon is mostly about films)
CORE_ADJ = {1: """good great nice excellent amazing awesome fun enjoyable helpful friendly clean fresh comfortable tasty
delicious reliable sturdy pleasant beautiful lovely interesting funny entertaining wonderful fantastic superb
impressive charming delightful polite attentive knowledgeable spotless spacious cozy quiet responsive durable
convenient affordable generous professional courteous welcoming engaging clever well-made useful fast efficient
informative smooth solid accurate gorgeous stunning terrific brilliant perfect outstanding memorable satisfying""",
            0: """bad terrible awful boring rude dirty noisy uncomfortable flimsy overpriced bland stale disappointing
confusing useless annoying horrible poor dull tedious mediocre unhelpful slow greasy cramped filthy smelly
unreliable buggy fragile cheap-looking frustrating disorganized unprofessional inattentive lukewarm soggy tasteless
overcooked undercooked shoddy defective clunky sloppy lazy awkward unpleasant disgusting pathetic lame weak
forgettable predictable pointless painful tiresome overrated inaccurate misleading messy"""}
PLURAL_COPULA = {"are", "were"}
DO_NEGATION = {"seems": ("does", "seem"), "seemed": ("did", "seem"), "looks": ("does", "look"),
               "looked": ("did", "look"), "feels": ("does", "feel"), "felt": ("did", "feel"),
               "sounds": ("does", "sound"), "sounded": ("did", "sound"), "tastes": ("does", "taste"),
               "tasted": ("did", "taste")}
# verbs of a reviewer's stance: (regex over the lower-cased source, polarity, negated forms)
STANCE = [
    (r"\bi (?:really |absolutely |truly |just )?loved\b", 1, ["i did not love", "i didn't love", "i never loved"]),
    (r"\bi (?:really |absolutely |truly |just )?love\b", 1, ["i do not love", "i don't love"]),
    (r"\bi (?:really |truly )?liked\b", 1, ["i did not like", "i didn't like", "i never liked"]),
    (r"\bi (?:really |truly )?enjoyed\b", 1, ["i did not enjoy", "i didn't enjoy", "i never enjoyed"]),
    (r"\bi (?:really |truly )?enjoy\b", 1, ["i do not enjoy", "i don't enjoy"]),
    (r"\bi (?:would )?(?:highly |definitely |strongly )?recommend\b", 1,
     ["i would not recommend", "i wouldn't recommend", "i can't recommend", "i do not recommend"]),
    (r"\bi (?:really )?hated\b", 0, ["i did not hate", "i didn't hate", "i never hated"]),
    (r"\bi (?:really )?hate\b", 0, ["i do not hate", "i don't hate"]),
    (r"\bi (?:really )?disliked\b", 0, ["i did not dislike", "i didn't dislike"]),
    (r"\bi regret\b", 0, ["i do not regret", "i don't regret", "i never regretted"]),
    (r"\bi regretted\b", 0, ["i did not regret", "i didn't regret", "i never regretted"]),
]
SUBJECT_RE = r"((?:it|this|the|my|our|these|those|his|her|their)(?: (?!the |this |my |a |an )[a-z-]+){0,3}?)"
_WELL = r"(?:great|well|perfectly|fine|beautifully|as advertised|like a charm)"
EVENTS = [  # (regex with the subject as group 1, polarity, negated forms of group 2: one list, or one per verb)
    (SUBJECT_RE + r" (works " + _WELL + r")\b", 1, ["does not work", "doesn't work well", "never works"]),
    (SUBJECT_RE + r" (worked " + _WELL + r")\b", 1, ["did not work", "didn't work well", "never worked"]),
    (SUBJECT_RE + r" (broke|leaked|crashed|failed|died|fell apart|stopped working|rusted|cracked)\b", 0,
     {past: [f"never {past}", f"has not {pp}", f"hasn't {pp}"] for past, pp in (
         ("broke", "broken"), ("leaked", "leaked"), ("crashed", "crashed"), ("failed", "failed"), ("died", "died"),
         ("fell apart", "fallen apart"), ("stopped working", "stopped working"), ("rusted", "rusted"),
         ("cracked", "cracked"))}),
    (SUBJECT_RE + r" (breaks|leaks|crashes|fails|falls apart|rusts)\b", 0,
     {present: [f"never {present}", f"does not {base}", f"doesn't {base}"] for present, base in (
         ("breaks", "break"), ("leaks", "leak"), ("crashes", "crash"), ("fails", "fail"),
         ("falls apart", "fall apart"), ("rusts", "rust"))}),
]
FEELING_POS = "impressed|pleased|satisfied|happy|thrilled|delighted|amazed|hooked|moved|blown away|glad"
FEELING_NEG = "disappointed|bored|annoyed|frustrated|unhappy|dissatisfied|underwhelmed|let down"
FEELINGS = [  # the reviewer's own state: (regex, polarity); group 1 = "i was" etc., group 3 = the feeling
    (r"\b(i (?:was|am)|we (?:were|are))( (?:very|really|so|truly|pleasantly|thoroughly|quite|totally|completely))? "
     r"(" + FEELING_POS + r")\b", 1),
    (r"\b(i (?:was|am)|we (?:were|are))( (?:very|really|so|truly|quite|totally|completely|a bit|a little))? "
     r"(" + FEELING_NEG + r")\b", 0),
]
VERBS = [  # what the subject does, good or bad: (regex with the subject as group 1, polarity, negated forms)
    (SUBJECT_RE + r" (delivers|lives up to|holds up|shines|impresses|satisfies)\b", 1,
     {"delivers": "does not deliver", "lives up to": "does not live up to", "holds up": "does not hold up",
      "shines": "never shines", "impresses": "does not impress", "satisfies": "does not satisfy"}),
    (SUBJECT_RE + r" (delivered|lived up to|held up|shone|impressed me|satisfied me)\b", 1,
     {"delivered": "did not deliver", "lived up to": "did not live up to", "held up": "didn't hold up",
      "shone": "never shone", "impressed me": "didn't impress me", "satisfied me": "never satisfied me"}),
    (SUBJECT_RE + r" (disappoints|drags|bores me|sucks|stinks)\b", 0,
     {"disappoints": "does not disappoint", "drags": "never drags", "bores me": "never bores me",
      "sucks": "doesn't suck", "stinks": "doesn't stink"}),
    (SUBJECT_RE + r" (disappointed|dragged|bored me|sucked|let me down)\b", 0,
     {"disappointed": "did not disappoint", "dragged": "never dragged", "bored me": "never bored me",
      "sucked": "didn't suck", "let me down": "never let me down"}),
]
PRODUCT_SOURCES = ("blitzer-mds/electronics", "blitzer-mds/kitchen", "kotzias-sentences/amazon",
                   "kotzias-sentences/yelp")  # where "it broke" is about a thing, not a film's plot
SCOPE_PREFIXES = {  # (prefix, polarity it is used with: None = both)
    "i didn't expect much, but": None, "there's no denying it:": None, "i don't know why, but": None,
    "not going to lie,": None, "no doubt about it,": None, "i can't put my finger on why, but": None,
    "nobody warned me, but": 0, "i have no idea what the critics were thinking:": 1,
    "i won't pretend otherwise:": None, "without exaggerating,": None,
}


# ------------------------------------------------------------------------------------------------ text
def read_reviews(root):
    """[(review_id, label or None, text)] over SOURCES, markup cleaned."""
    out = []
    for rel in SOURCES:
        with gzip.open(os.path.join(root, rel), "rt", encoding="utf-8") as f:
            f.readline()
            for i, line in enumerate(f):
                label, text = line.rstrip("\n").split("\t", 1)
                text = html.unescape(text.replace("<br />", " ").replace("<br/>", " ")).replace("\ufffd", "")
                out.append((f"{rel}:{i}", int(label) if label else None, re.sub(r"\s+", " ", text).strip()))
    return out


_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def sentences(text, lo=4, hi=30):
    for s in _SENT_END.split(text):
        s = s.strip()
        n = len(s.split())
        if lo <= n <= hi and s[-1:] in ".!" and not re.search(r"[\"()*:;<>/\[\]{}|#@_=~]", s[:-1]):
            yield s


def fold(s):
    """Lower case with one apostrophe ("’" and "`" as "'"): the form every rule matches on."""
    return s.replace("’", "'").replace("`", "'").lower()


def sst_style(s):
    """The SST-2 rendering: lower case, clitics and punctuation split off ("does n't", "it 's", " , ")."""
    s = fold(s)
    s = re.sub(r"(\w)n't\b", r"\1 n't", s).replace("can n't", "ca n't").replace("won n't", "wo n't")
    s = re.sub(r"(\w)'(s|re|ve|ll|d|m)\b", r"\1 '\2", s)
    s = re.sub(r"([,.;:!?])", r" \1 ", s)
    return re.sub(r"\s+", " ", s).strip()


def sentence_case(s):
    s = s.strip()
    s = re.sub(r"\bi\b", "I", s)
    s = s[:1].upper() + s[1:]
    return s if s[-1:] in ".!" else s + "."


def uncap(s):
    """The sentence with its first letter lower-cased (to follow a prefix), unless it starts with "I"."""
    w = s.split(" ", 1)[0]
    if w == "I" or w.startswith("I'"):
        return s
    return s[:1].lower() + s[1:]


# ---------------------------------------------------------------------------------------------- lexicon
def mine_lexicon(reviews, sst_rows, min_count=10, min_cons=0.85, sst_adjectives=None):
    """{adjective: polarity} from copula clauses of labelled reviews (see the module docstring), and {word: polarity}
    of every polar word; `sst_adjectives` = augment.build_lexicon(sst_rows)[:2] where the caller has it."""
    cnt = collections.defaultdict(lambda: [0, 0])
    after_degree = collections.Counter()
    for _, label, text in reviews:
        for s in sentences(text, 3, 40):
            low = fold(s)
            for m in CLAUSE_RE.finditer(low):
                if not is_copula(low, m):
                    continue
                if m.group(2):
                    after_degree[m.group(3)] += 1
                if label is None or NEGATOR_RE.search(low[max(0, m.start() - 60):m.end()]):
                    continue
                cnt[m.group(3)][label] += 1
    sst_pos, sst_neg = sst_adjectives or build_lexicon(sst_rows)[:2]
    lex = {w: p for p, words in CORE_ADJ.items() for w in words.split()}
    for w, (n0, n1) in cnt.items():
        n = n0 + n1
        if n < min_count or w in NOT_ADJ or w.endswith("ly") or w.endswith("ness") or after_degree[w] < 2:
            continue
        if n1 / n >= min_cons:
            lex.setdefault(w, 1)
        elif n0 / n >= min_cons:
            lex.setdefault(w, 0)
    polar_words = dict(lex)
    for w in sst_pos:
        polar_words.setdefault(w, 1)
    for w in sst_neg:
        polar_words.setdefault(w, 0)
    for phrase, label in sst_rows:  # SST-2 keeps only non-neutral phrases, so every one-word phrase is polar
        if " " not in phrase:
            polar_words.setdefault(phrase, label)
    return lex, polar_words


# ------------------------------------------------------------------------------------------------ rules
def is_copula(low, m):
    """"'s" is a copula after a pronoun ("it's"), a possessive elsewhere ("the director's")."""
    return m.group(1) != "'s" or re.search(r"\b(it|that|this|he|she|there|everything)$", low[:m.start()]) is not None


class Clause:
    """One copula + adjective site in a qualifying source sentence."""

    def __init__(self, sentence, match, polarity):
        self.sentence, self.m, self.p = sentence, match, polarity
        self.cop, self.adv, self.adj = match.group(1), match.group(2).strip(), match.group(3)
        low = fold(sentence)
        self.before, self.after = low[:match.start()], low[match.end():]
        subj = re.search(SUBJECT_RE + r" $", self.before)
        self.subject = subj.group(1) if subj and subj.start() == 0 else None
        self.plural = self.cop in PLURAL_COPULA or (self.subject or "").split(" ")[0] in ("these", "those")

    def negated(self, r, version=2):
        """-> text of the sentence with this clause negated, or None where no natural form exists."""
        cop, adv = self.cop, self.adv
        if self.p == 0 or r.random() < 0.5:
            adv = ""
        adj = (adv + " " if adv else "") + self.adj
        prev = self.before.rstrip().split(" ")[-1] if self.before.strip() else ""
        if cop in DO_NEGATION:
            aux, base = DO_NEGATION[cop]
            if self.plural and aux == "does":
                aux = "do"
            neg = r.choice([f"{aux} not {base}", f"{aux}n't {base}"]) + " " + adj
        elif cop == "been":
            if prev not in ("has", "have", "had"):
                return None
            neg = r.choice(["not been", "never been"]) + " " + adj
        elif cop == "be":
            if prev not in ("will", "can"):
                return None
            before = self.before.rstrip()[:-len(prev)]
            word = {"will": r.choice(["will not", "won't"]), "can": r.choice(["cannot", "can't"])}[prev]
            return self._join(before + word + " be " + adj)
        else:
            # "it's": the clitic stays on its pronoun ("it's not", "it's far from"), only "isn't" stands apart
            forms = [f"{cop} not {adj}", f"{cop}n't {adj}" if cop != "'s" else f" isn't {adj}", f"{cop} never {adj}"] + \
                ([f"{cop} no longer {self.adj}"] if version >= 2 else [])
            if self.p == 1:
                forms += [f"{cop} far from {self.adj}", f"{cop} hardly {self.adj}", f"{cop} not at all {self.adj}"]
            return self._join(self.before.rstrip() + ("" if cop == "'s" else " ") + r.choice(forms))
        return self._join(self.before + neg)

    def _join(self, head):
        s = head + self.after
        return re.sub(r"\s+'s", "'s", re.sub(r"\s+", " ", s)).strip()


def unnegated_sentences(reviews):
    """[(review_id, label, sentence, folded)] of every sentence with no negator, contrast or modal: the sources of
    every rule, split and checked once."""
    return [(rid, label, s, low) for rid, label, text in reviews for s in sentences(text)
            if not NEGATOR_RE.search(low := fold(s))]


def words(text):
    return re.findall(r"[a-z][a-z'-]*", text)


def one_sided(text, p, polar_words):
    """No word of `text` is polar the other way than p."""
    return all(polar_words.get(w, p) == p for w in words(text))


# evaluative words besides the adjectives (rule set 3 keeps them out of the rest of a sentence it flips)
EVALUATIVE_EXTRA = set("""love loved loves liked enjoyed enjoy hated hate best worst recommend recommended
unfortunately hilarious awesome stupid fun""".split())


class Judge:
    """Whether a source sentence is clean enough to edit: no word polar the other way than its clause (every rule
    set) and, with `evaluative` (rule set 3), no other evaluative word outside the edited clause — it would keep
    its polarity under the negation ("I loved the mussels, and the potatoes weren't delicious")."""

    def __init__(self, polar_words, evaluative=frozenset()):
        self.polar_words, self.evaluative = polar_words, frozenset(evaluative)

    def ok(self, checked, rest, p):
        return one_sided(checked, p, self.polar_words) and not self.evaluative.intersection(words(rest))


def qualifying_clauses(plain, lex, judge):
    """[(review_id, Clause)] for every qualifying source sentence (module docstring, step 2) of `plain`, the output
    of unnegated_sentences."""
    out = []
    for rid, label, s, low in plain:
        sites = [m for m in CLAUSE_RE.finditer(low) if m.group(3) in lex and is_copula(low, m)]
        if len(sites) != 1:
            continue
        p = lex[sites[0].group(3)]
        if label is not None and label != p:
            continue
        if not judge.ok(low, low[:sites[0].start()] + " " + low[sites[0].end():], p):
            continue
        nxt = low[sites[0].end():].lstrip().split(" ", 1)[0]
        if nxt in ("and", "or", "but", "as", "enough", "to", "that") or "," in low[sites[0].end():] or \
                len(words(low)) > 20:
            continue  # the negation would reach only part of a longer sentence
        out.append((rid, Clause(s, sites[0], p)))
    return out


def replace_variant(label, low, patterns, judge, search=True, check_whole=True):
    """(polarity, negate) for a lower-cased sentence that matches one of `patterns` (regex, polarity, negated forms
    of its last group or of the whole match: a list to choose from, or a list or a single form per matched text), or
    None; negate(rng) -> the negated sentence. The first pattern that matches with the review's label decides."""
    for pat, p, forms in patterns:
        m = (re.search if search else re.match)(pat, low)
        if not m or (label is not None and label != p):
            continue
        if not judge.ok(low if check_whole else low[m.end():], low[:m.start()] + " " + low[m.end():], p):
            return None
        g = m.lastindex or 0
        options = forms[m.group(g)] if isinstance(forms, dict) else forms
        return p, lambda r: low[:m.start(g)] + (options if isinstance(options, str) else r.choice(options)) + \
            low[m.end(g):]
    return None


def stance_variants(plain, judge):
    """[(review_id, sentence, polarity, negate)]: "I loved …" -> "I did not love …"."""
    return [(rid, s, *v) for rid, label, s, low in plain if (v := replace_variant(label, low, STANCE, judge))]


def event_variants(plain, judge):
    """[(review_id, sentence, polarity, negate)]: "it works great" -> "it does not work", "the lid broke" -> "the
    lid never broke" (product reviews only: elsewhere "it broke" is a film's plot)."""
    return [(rid, s, *v) for rid, label, s, low in plain if rid.startswith(PRODUCT_SOURCES)
            and (v := replace_variant(label, low, EVENTS, judge, search=False, check_whole=False))]


def negate_feeling(low, m, p, r):
    subj, be = m.group(1).rsplit(" ", 1)
    form = r.choice([f"{be} not", f"{be}n't", f"{be} never"]) if be != "am" else r.choice(["am not", "'m not"])
    adv = m.group(2) or ""
    return low[:m.start()] + f"{subj} {form}" + (adv if p == 1 else "") + " " + m.group(3) + low[m.end():]


def feeling_and_verb_variants(plain, judge):
    """Real sentences with the reviewer's feeling ("I was impressed") or, failing that, a polar verb of the subject
    ("the sequel delivered"), negated in place ("I was not impressed", "the sequel did not deliver")."""
    out = []
    for rid, label, s, low in plain:
        if len(low.split()) > 20:
            continue
        feeling = next(((m, p) for pat, p in FEELINGS if (m := re.search(pat, low)) and label in (None, p)), None)
        if feeling:
            m, p = feeling
            rest = low[:m.start()] + " " + low[m.end():]
            if judge.ok(rest, rest, p):
                out.append((rid, s, p, functools.partial(negate_feeling, low, m, p)))
        elif v := replace_variant(label, low, VERBS, judge, search=False, check_whole=False):
            out.append((rid, s, *v))
    return out


def subject_adjective_pairs(clauses):
    """(subject, plural, adjective, polarity) of short real clauses "<the X> was <adj>"."""
    seen, out = set(), []
    for rid, c in clauses:
        if c.subject and c.subject not in ("it", "this") and len(c.subject.split()) <= 4 and \
                c.cop in ("is", "was", "are", "were"):
            key = (c.subject, c.adj)
            if key not in seen:
                seen.add(key)
                out.append((rid, c.subject, c.plural, c.adj, c.p))
    return out


def domain_pairs():
    """augment.py's hand-written subjects of films, places and products with the adjectives that fit each kind, so
    the frames below are not only about films (most real clauses are IMDb's)."""
    return [(f"domain:{subj}:{adj}", subj, bool(plural), adj, p)
            for subj, plural, kind in DOMAIN_SUBJ for p, adjs in ((1, DOMAIN_ADJ[kind][0]), (0, DOMAIN_ADJ[kind][1]))
            for adj in adjs]


def expect_frame(r, subj, plural, adj, p):
    pron, be, wasnt = ("they", "were", "weren't") if plural else ("it", "was", "wasn't")
    if subj.split(" ")[-1] in ("staff", "people", "crew"):
        pron, be, wasnt = "they", "were", "weren't"
    frames = [
        (f"i expected {subj} to be {adj}, but {pron} {wasnt}", 1 - p),
        (f"i expected {subj} to be {adj}, and {pron} {be}", p),
        (f"i thought {subj} would be {adj}, but {pron} {be} not", 1 - p),
        (f"{subj} {be} supposed to be {adj}, but {pron} {wasnt}", 1 - p),
        (f"{subj} {be} not as {adj} as i expected", 1 - p),
        (f"{subj} turned out to be {adj}", p),
        (f"i was told {subj} would be {adj}, and {pron} really {be}", p),
    ]
    if p == 0:
        frames += [(f"i was worried {subj} would be {adj}, but {pron} {wasnt} at all", 1)]
    else:
        frames += [(f"i hoped {subj} would be {adj}, but {pron} {wasnt}", 0)]
    return r.choice(frames)


def nothing_frame(r, subj, plural, adj, p):
    be = "were" if plural else "was"
    return r.choice([(f"there was nothing {adj} about {subj}", 1 - p),
                     (f"{subj} {be} anything but {adj}", 1 - p),
                     (f"not once {be} {subj} {adj}", 1 - p),
                     (f"{subj} {be} not the least bit {adj}", 1 - p)])


def double_neg_frame(r, subj, plural, adj, p):
    be, bent = ("were", "weren't") if plural else ("was", "wasn't")
    return r.choice([(f"i can't say {subj} {bent} {adj}", p),
                     (f"there wasn't a moment when {subj} {bent} {adj}", p),
                     (f"{subj} {be} never anything but {adj}", p),
                     (f"nobody could say {subj} {bent} {adj}", p),
                     (f"it's not that {subj} {bent} {adj}; {'they' if plural else 'it'} really {be}", p),
                     (f"i never found {subj} anything other than {adj}", p)])


GROUPS = ["in my family", "in our group", "i know", "in the audience", "on the trip", "in the class",
          "among my friends", "in the office"]


def others_frame(r, subj, plural, adj, p):
    """Negated quantifiers and verbs of other people and of the subject, over real subjects: "nobody in my family
    enjoyed the tour", "none of the actors were convincing", "the sequel failed to impress me"."""
    frames = [(f"nobody {r.choice(GROUPS)} {r.choice(['enjoyed', 'liked', 'loved', 'was impressed by'])} {subj}", 0),
              (f"nobody {r.choice(GROUPS)} {r.choice(['complained about', 'was bored by', 'hated', 'regretted'])} "
               f"{subj}", 1),
              (f"{subj} failed to {r.choice(['impress me', 'hold my attention', 'live up to the hype', 'deliver'])}",
               0),
              (f"{subj} never failed to {r.choice(['impress me', 'make me smile', 'deliver', 'surprise me'])}", 1),
              (f"{subj} {'are' if plural else 'is'} no longer {adj}", 1 - p)]
    if plural and subj.startswith("the "):
        frames.append((f"none of {subj} {r.choice(['were', 'was'])} {adj}", 1 - p))
    return r.choice(frames)


# -------------------------------------------------------------------------------------------- assembly
RULE_SHARE = collections.OrderedDict([  # share of the output per rule (the rest of a rule's pool is unused)
    ("orig", 0.20), ("neg_copula", 0.28), ("neg_verb", 0.08), ("neg_event", 0.04), ("expect", 0.14),
    ("nothing", 0.07), ("double_neg", 0.10), ("scope", 0.09), ("neg_feeling", 0.08), ("others", 0.08)])


RULES_OF_VERSION = {1: [k for k in RULE_SHARE if k not in ("neg_feeling", "others")], 2: list(RULE_SHARE),
                    3: list(RULE_SHARE)}


def generate(reviews, sst_rows, total=40000, seed=1234, dev_frac=0.05, sst_frac=1 / 3, behaviour_texts=(),
             version=2):
    """-> (train [(text, label, rule)], dev [(text, label, rule)], info). Deterministic for its inputs; `version` 1
    is the rule set of the first shipped data (no `neg_feeling`, `others` or "no longer"), 3 = 2 with cleaner
    sources (`Judge`)."""
    rules = RULES_OF_VERSION[version]
    sst_adjectives = build_lexicon(sst_rows)[:2]
    lex, polar = mine_lexicon(reviews, sst_rows, sst_adjectives=sst_adjectives)
    evaluative = set(lex) | set().union(*sst_adjectives) | EVALUATIVE_EXTRA if version >= 3 else ()
    judge = Judge(polar, evaluative)
    plain = unnegated_sentences(reviews)
    clauses = qualifying_clauses(plain, lex, judge)
    stances = stance_variants(plain, judge)
    events = event_variants(plain, judge)
    pairs = subject_adjective_pairs(clauses) + domain_pairs()
    feelings = feeling_and_verb_variants(plain, judge)

    def is_dev(rid):
        return random.Random(f"{seed}:dev:{rid}").random() < dev_frac

    bnorm = sorted({norm(t) for t in behaviour_texts})
    out = {"train": [], "dev": []}
    counts = collections.Counter()
    dropped = 0
    seen = set()

    def emit(r, rid, text, label, rule):
        nonlocal dropped
        if text is None:
            return False
        text = sentence_case(text)
        if r.random() < sst_frac:
            text = sst_style(text)
        key = norm(text)
        if key in seen:
            return False
        if bnorm and leaks(key, bnorm):
            dropped += 1
            return False
        seen.add(key)
        split = "dev" if is_dev(rid) else "train"
        out[split].append((text, label, rule))
        if split == "train":
            counts[rule] += 1
        return True

    want = {k: total * v for k, v in RULE_SHARE.items()}  # training rows per rule; dev rows come on top

    def take(pool, rule, fn, polarity=None):
        """Visit the pool in a seeded order; with `polarity` (item -> 0/1) the two polarities alternate, so a rule
        that flips labels does not turn mostly-positive sources into mostly-negative outputs."""
        r = random.Random(f"{seed}:{rule}")
        order = list(range(len(pool)))
        r.shuffle(order)
        if polarity is not None:
            by = [[i for i in order if polarity(pool[i]) == p] for p in (0, 1)]
            order = [i for pair in zip(*by) for i in pair]
        for i in order:
            if counts[rule] >= want[rule]:
                break
            fn(r, pool[i])

    # orig and neg_copula come from the same source sentences, so each negation has its twin
    def copula(r, item):
        rid, c = item
        neg = c.negated(r, version)
        if neg is None:
            return
        if counts["neg_copula"] < want["neg_copula"]:
            emit(r, rid, neg, 1 - c.p, "neg_copula")
        if counts["orig"] < want["orig"]:
            emit(r, rid, c.sentence, c.p, "orig")
    take(clauses, "neg_copula", copula, polarity=lambda it: it[1].p)
    take(stances, "neg_verb", lambda r, it: emit(r, it[0], it[3](r), 1 - it[2], "neg_verb"))
    take(events, "neg_event", lambda r, it: emit(r, it[0], it[3](r), 1 - it[2], "neg_event"))
    if "neg_feeling" in rules:
        take(feelings, "neg_feeling", lambda r, it: emit(r, it[0], it[3](r), 1 - it[2], "neg_feeling"),
             polarity=lambda it: it[2])
    for rule, frame in (("expect", expect_frame), ("nothing", nothing_frame), ("double_neg", double_neg_frame),
                        ("others", others_frame)):
        if rule not in rules:
            continue
        take(pairs, rule, lambda r, it, frame=frame, rule=rule: emit(r, it[0], *frame(r, *it[1:]), rule),
             polarity=lambda it: it[4])

    def scope(r, item):
        rid, c = item
        choices = [k for k, v in SCOPE_PREFIXES.items() if v is None or v == c.p]
        first = uncap(c.sentence)
        emit(r, rid, r.choice(choices) + " " + first, c.p, "scope")
    take(clauses, "scope", scope, polarity=lambda it: it[1].p)
    for split in out.values():
        random.Random(f"{seed}:shuffle").shuffle(split)
    info = {"lexicon_pos": sorted(w for w, p in lex.items() if p == 1),
            "lexicon_neg": sorted(w for w, p in lex.items() if p == 0),
            "pools": {"copula_clauses": len(clauses), "stance": len(stances), "events": len(events),
                      "subject_adjective_pairs": len(pairs), "feelings_and_verbs": len(feelings)},
            "dropped_leak": dropped}
    return out["train"], out["dev"], info


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reviews", default=DEFAULT_REVIEWS, help="../shared/data/reviews (relative: to the repo root)")
    ap.add_argument("--sst", default=DEFAULT_SST, help="SST-2 train.tsv, for its polar adjectives")
    ap.add_argument("--out", help="training TSV (sentence\\tlabel)")
    ap.add_argument("--dev-out", help="dev JSONL (id, phenomenon = rule, text, label), the format of behaviour/")
    ap.add_argument("--n", type=int, default=40000, help="training rows (approximate)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--behaviour", default=DEFAULT_BEHAVIOUR, help="comma-separated JSONL case files to keep out")
    ap.add_argument("--version", type=int, default=2, choices=sorted(RULES_OF_VERSION),
                    help="rule set: 1 = the sixth generation's shipped data, 2 = all rules, 3 = 2 with sources that "
                         "have no other evaluative word")
    ap.add_argument("--check", action="store_true", help="print the lexicon and 3 examples per rule")
    a = ap.parse_args(argv)
    at_root = (lambda p: p if os.path.isabs(p) else os.path.join(ROOT, p))
    reviews = read_reviews(at_root(a.reviews))
    train, dev, info = generate(reviews, read_sst(at_root(a.sst)), a.n, a.seed,
                                behaviour_texts=load_behaviour(a.behaviour), version=a.version)
    print(f"lexicon: {len(info['lexicon_pos'])} positive, {len(info['lexicon_neg'])} negative adjectives; "
          f"pools {info['pools']}; dropped as behaviour-set leaks: {info['dropped_leak']}", file=sys.stderr)
    print(f"{'rule':<12}{'train':>7}{'pos':>7}{'dev':>6}")
    for rule in RULES_OF_VERSION[a.version]:
        n = sum(1 for _, _, k in train if k == rule)
        print(f"{rule:<12}{n:>7}{sum(l for _, l, k in train if k == rule):>7}"
              f"{sum(1 for _, _, k in dev if k == rule):>6}")
    print(f"{'total':<12}{len(train):>7}{sum(l for _, l, _ in train):>7}{len(dev):>6}")
    if a.check:
        print("positive:", " ".join(info["lexicon_pos"]))
        print("negative:", " ".join(info["lexicon_neg"]))
        for rule in RULES_OF_VERSION[a.version]:
            print(f"\n[{rule}]")
            for t, l, _ in [x for x in train if x[2] == rule][:4]:
                print(f"  {l}  {t}")
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w", encoding="utf-8", newline="\n") as f:
            f.write("sentence\tlabel\n")
            for t, l, _ in train:
                assert "\t" not in t and "\n" not in t
                f.write(f"{t}\t{l}\n")
    if a.dev_out:
        os.makedirs(os.path.dirname(os.path.abspath(a.dev_out)), exist_ok=True)
        with open(a.dev_out, "w", encoding="utf-8", newline="\n") as f:
            for i, (t, l, k) in enumerate(dev):
                f.write(json.dumps({"id": f"negdev-{i:05d}", "phenomenon": k, "text": t, "label": l}) + "\n")


if __name__ == "__main__":
    main()
