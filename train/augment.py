#!/usr/bin/env python3
"""Rule/template augmentation over SST-2's own labelled phrases (stdlib only, deterministic for a seed).

    /usr/bin/python3 train/augment.py --out .data/ufb2/aug3.tsv --n 60000   # the shipped default's 60k rows
    /usr/bin/python3 train/augment.py --check                            # 3 examples per rule, no file

What it does
------------
1. Reads SST-2 train (phrase level, `sentence\tlabel`, no quoting).
2. Builds a small polarity lexicon from SST-2 itself:
   - a *polar word* is a one-word SST-2 phrase whose label agrees with >= 85 % of the short phrases
     (<= 6 words, no negator or contrast word) that contain it, over >= 4 such phrases;
   - a *polar adjective* is a polar word that also follows a degree adverb ("very", "so", "too", "quite",
     "rather", ...) at least twice in SST-2, is not an -ly adverb, and is not in the hand-made `NOT_ADJ`
     stoplist (nouns/verbs/participles about the viewer that slip through, e.g. "heart", "bored").
   - a *confident phrase* is an SST-2 phrase of 2-7 words with no negator/contrast word, no bracket
     tokens, that contains >= 1 polar word of its own label and none of the opposite label.
3. Fills templates (rules below) with these words/phrases. Labels come from the rule, never from a model.
4. Drops any output whose normalised text equals or contains the normalised text of a behaviour-set case
   (train/behaviour/cases.jsonl, if present), so the test set never leaks into training.

Negation rules (documented choices)
-----------------------------------
- "not <pos adj>" -> 0 for moderate positive adjectives only; extreme ones ("perfect", "best",
  "extraordinary", ...: `STRONG_POS`) are skipped because "not perfect" is mild or neutral.
- "not <neg adj>" -> 1 only for *mild* negative adjectives ("bad", "boring", "dull", ...) and always with a
  strengthener ("at all", "in the least", "never ... for a second"), since "not terrible" or "not
  offensive" is at best neutral. Strong or non-flippable negatives (`STRONG_NEG`) are skipped.
- "not very / not particularly <pos adj>" -> 0 ("not very <neg>" is skipped: ambiguous).
- Controls keep the label although the frame contains "not/never/no/but/used to": "i have never seen a
  film so <adj>", "it never stops being <adj>", "there is no denying it is <adj>", "not only A but also
  B" (same polarity), "A, and B", "A, but B" with A and B of the same polarity, "i used to think it was
  <adj>, and i still do", "i expected it to be <adj>, and it was". They make up a large share of the
  frames so that the model cannot learn "not -> flip" or "but -> flip".

Everyday-review negation (second version of the rules, `neg_event` … `domain_adj`): negated events ("never once
crashed"), quantities ("none of the X", "nothing to complain about", "far from"), recommendations and plain/negated
product-, place- and media-adjectives over hand-written lexicons of subjects (each with a kind: media, place or
service, device) and predicates that fit them. Double negations come in both polarities (the label is the inner
statement's), so that two negators alone never decide the label. These rules were written after reading which
behaviour-set cases the first model got wrong, so the behaviour set's negation figures are no longer a blind test;
`tests/test_augment.py` keeps every generated text away from the cases' wording (word-trigram overlap ≤ 60 %).

Text style: every template is written SST-style (lower case, " , ", "does n't"); each example is then
rendered either SST-style or in natural style ("doesn't", "it's", capital first letter, final ".") with
equal probability, so the model sees both the training distribution and ordinary typed text.
"""
import argparse
import collections
import json
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_SST = "../shared/data/glue/SST-2/train.tsv"      # relative to the repository root
# every hand-written evaluation case is kept out: the behaviour set and its three blind hold-outs
DEFAULT_BEHAVIOUR = ",".join(os.path.join(HERE, "behaviour", f)
                             for f in ("cases.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl"))

NEGATORS = {"not", "n't", "no", "never", "nothing", "none", "nobody", "nor", "neither", "without", "hardly",
            "barely", "lack", "lacks", "lacking", "but", "although", "though", "however", "yet", "despite",
            "instead", "if", "than", "less", "least", "even", "only", "cannot", "ca", "wo"}
DEGREE = {"so", "very", "too", "more", "most", "quite", "rather", "pretty", "really", "extremely",
          "remarkably", "surprisingly", "genuinely", "truly", "utterly", "thoroughly", "wonderfully",
          "incredibly", "especially", "consistently", "particularly", "fairly", "highly", "deeply"}
# polar "adjectives" by the statistics that are not adjectives describing a work (hand-checked)
NOT_ADJ = set("""
friends heart energy makes spot truth laughs love wonder won spirit detail comfort entertainment popcorn
bravado rewards deliver transcend well worth right real true harmless intense chilling bone-chilling
dramatic complex contemporary hot humble innocent content amused excited moved engaged entertained liked
enjoyed embraced rewarded mesmerised marveilleux able charged below dahmer damage hell murder propaganda
trash crap flaws losing lost standard typical grave far-flung lulled milked frittered cheated dudsville
not-at-all-good undone limited difficult uncertain distant mean murky muted cold obvious endless bored
embarrassed disappointed confused racist profane cruel fatal monstrous struggling ruined wasted broken
desperate hopeless rigid static tattered lightweight downbeat bleak glum sour harsh weary indifferent
unmentionable problematic grotesque artificial forced cheap devoid sexy slick hip meditative uncanny
high-concept influential important dreamy lavish lush potent savory tasty virtuous nonjudgmental
contemporary fearless daring provocative sharp rich bold bright capable competent acceptable appropriate
accurate faithful
""".split())
# extreme positives: "not <x>" is mild/neutral, so they are not used in "not <pos>" -> 0
STRONG_POS = set("""
perfect best flawless masterful phenomenal extraordinary exceptional spectacular breathtaking astonishing
astounding monumental miraculous oscar-worthy epic sensational magnificent priceless revelatory
first-rate top-notch splendid stunning dazzling amazing awesome fantastic terrific brilliant superb
wondrous marvelous magical
""".split())
# negatives whose negation does not clearly give a positive ("not terrible" is not praise)
STRONG_NEG = set("""
terrible awful horrible atrocious appalling abhorrent dreadful excruciating horrific intolerable
repugnant repulsive vile offensive pitiful incompetent incomprehensible moronic inept worse second-rate
amateurish stupid dumb inane insipid vapid shoddy painful numbing rude vulgar puerile sophomoric
juvenile crude mindless obnoxious ludicrous ridiculous distasteful tawdry bogus bratty smug graceless
charmless anemic leaden alienating impersonal off-putting unpleasant unsympathetic negligible
inconsequential irrelevant disposable cumbersome overbearing
""".split())
DETS = {"a", "an", "the", "its", "his", "her", "their", "this", "these", "those", "some", "such", "one", "our",
        "your", "my", "every", "another", "what"}
CLAUSE_VERBS = {"is", "are", "was", "were", "has", "have", "had", "does", "do", "did", "seems", "feels", "makes",
                "'s", "becomes", "remains", "comes", "looks", "gets", "goes", "proves", "turns", "be", "can", "will"}
COMPARATIVE = {"best", "funnier", "smarter", "worse", "better", "worst"}

SUBJ = ["it", "the film", "the movie", "this film", "this movie", "the picture", "the story", "the script",
        "the performance", "the whole thing", "the ending", "the direction"]
INTENS = ["very", "really", "extremely", "incredibly", "truly", "so", "remarkably", "genuinely",
          "thoroughly", "utterly", "deeply", "exceptionally"]
DIMIN_NEG = ["slightly", "somewhat", "a bit", "a little", "mildly", "rather", "kind of", "a tad"]
DIMIN_POS = ["fairly", "pretty", "reasonably", "mostly", "kind of", "somewhat", "quietly", "modestly"]
EMOJI_POS = ["😍", "👍", "😀", "😊", "❤️", "🥰", "👏", "🙌", "😁", "💯"]
EMOJI_NEG = ["👎", "😡", "😠", "🤮", "😴", "😞", "💩", "😒", "🙄", "😤"]


# ---------------------------------------------------------------------------------------------- data
def read_sst(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header != ["sentence", "label"]:
            raise ValueError(f"{path}: unexpected header {header}")
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            s, l = line.rsplit("\t", 1)
            rows.append((s.strip(), int(l)))
    return rows


def build_lexicon(rows, min_count=4, min_cons=0.85):
    """(pos_adj, neg_adj, pos_phrases, neg_phrases, pos_np): sorted lists (deterministic)."""
    labels = {}
    for s, l in rows:
        labels.setdefault(s, l)
    single = {s: l for s, l in labels.items() if " " not in s}
    cnt = collections.defaultdict(lambda: [0, 0])
    degree = collections.Counter()
    for s, l in labels.items():
        w = s.split()
        for a, b in zip(w, w[1:]):
            if a in DEGREE:
                degree[b] += 1
        if len(w) > 6 or NEGATORS.intersection(w):
            continue
        for t in set(w):
            cnt[t][l] += 1
    polar = {}
    for w, l in single.items():
        n0, n1 = cnt[w]
        n = n0 + n1
        if n >= min_count and (n1 if l else n0) / n >= min_cons and re.fullmatch(r"[a-z][a-z'-]*[a-z]", w):
            polar[w] = l
    adj = {w: l for w, l in polar.items()
           if degree[w] >= 2 and not w.endswith("ly") and not w.endswith("ness") and w not in NOT_ADJ}
    pos_adj = sorted(w for w, l in adj.items() if l == 1)
    neg_adj = sorted(w for w, l in adj.items() if l == 0)
    phrases = {0: [], 1: []}
    pos_np = []
    for s, l in sorted(labels.items()):
        s = re.sub(r"( [.!?])+$", "", s)
        w = s.split()
        if "," in w or "." in w or (w and w[0] in DETS and w[-1] in adj):
            continue
        if not 2 <= len(w) <= 7 or NEGATORS.intersection(w):
            continue
        if any(t.startswith("-") or t in ("``", "`", "''", "'", "--", ":", ";", "...", "(", ")") for t in w):
            continue
        if w[0] in (",", ".", "and", "or", "of", "to", "that", "which", "who", "with", "as", "for", "in", "'s") or \
                w[-1] in (",", "and", "or", "of", "to", "the", "a", "an", "that", "which", "with", "as", "for", "in", "is"):
            continue
        if not (w[0] in DETS or w[0] in adj or (w[0].endswith("ly") and w[0] in polar)) or \
                w[-1] in DETS or w[-1].endswith("ly") or w[-1] in DEGREE:
            continue
        own = sum(1 for t in w if polar.get(t) == l)
        other = sum(1 for t in w if t in polar and polar[t] != l)
        if own >= 1 and other == 0:
            phrases[l].append(s)
            if l == 1 and w[0] in ("a", "an") and len(w) <= 5 and w[-1] not in adj:
                pos_np.append(s)
    return pos_adj, neg_adj, phrases[1], phrases[0], pos_np


# --------------------------------------------------------------------------------------------- style
_NT = {"ca n't": "can't", "wo n't": "won't", "sha n't": "shan't"}


def naturalize(s):
    for a, b in _NT.items():
        s = s.replace(a, b)
    s = s.replace(" n't", "n't")
    s = re.sub(r" ('s|'re|'ve|'ll|'d|'m)\b", r"\1", s)
    s = re.sub(r" ([,.;:?!])", r"\1", s)
    s = re.sub(r"\bi\b", "I", s)
    s = re.sub(r"([.?!] )([a-z])", lambda m: m.group(1) + m.group(2).upper(), s)
    s = s[:1].upper() + s[1:]
    if s and s[-1].isalnum():
        s += "."
    return s


def norm(s):
    """Normalised text for leak checks: lower case, n't joined, punctuation and spacing folded."""
    s = s.lower().replace(" n't", "n't")
    s = s.replace("’", "'")
    raw = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"[\s.,!?;:\"()\-]+", " ", s).strip()
    if not re.search(r"\w", s):            # emoticons / symbols only (":)", "★★★★★"): keep them as written
        s = raw if len(raw) > len(s) else s
    return " " + s + " "


# ---------------------------------------------------------------------------------------------- rules
class Pools:
    def __init__(self, pos_adj, neg_adj, pos_ph, neg_ph, pos_np):
        self.pos_adj = pos_adj
        self.neg_adj = neg_adj
        self.pos_mod = [w for w in pos_adj if w not in STRONG_POS and w not in COMPARATIVE]
        self.neg_mild = [w for w in neg_adj if w not in STRONG_NEG and w not in COMPARATIVE]
        self.pos_int = [w for w in pos_adj if w not in COMPARATIVE]
        self.neg_int = [w for w in neg_adj if w not in COMPARATIVE]
        self.ph = {1: pos_ph, 0: neg_ph}
        self.pos_np = pos_np

    def adj(self, r, label):
        return r.choice(self.pos_int if label else self.neg_int)

    def phrase(self, r, label):
        return r.choice(self.ph[label])


def art(w):
    return ("an " if w[0] in "aeiou" else "a ") + w


def r_not_pos(r, P, want):
    """not <moderate pos adj> -> 0."""
    a = r.choice(P.pos_mod)
    s = r.choice(SUBJ)
    t = r.choice([f"{s} is not {a}", f"{s} is n't {a}", f"{s} was not {a}", f"{s} was n't {a}",
                  f"{s} is not {a} at all", f"not {a} , not even close", f"{s} is not {a} in the least",
                  f"{s} was never {a}", f"{s} is n't {a} , sadly", f"{s} does not feel {a}",
                  f"i did n't find {s} {a}", f"{s} is not even remotely {a}"])
    return t, 0


def r_not_neg(r, P, want):
    """not <mild neg adj> + strengthener -> 1."""
    a = r.choice(P.neg_mild)
    s = r.choice(SUBJ)
    t = r.choice([f"{s} is not {a} at all", f"{s} is n't {a} at all", f"{s} was not {a} in the least",
                  f"not {a} at all", f"{s} is never {a} , not for a second", f"{s} was n't {a} at all , quite the opposite",
                  f"nothing about {s} is {a}", f"i did n't find {s} {a} at all", f"{s} is anything but {a}",
                  f"{s} never once feels {a}"])
    return t, 1


def r_not_np(r, P, want):
    """it is not <positive noun phrase> -> 0; it is <positive noun phrase> -> 1 (control)."""
    p = r.choice(P.pos_np)
    s = r.choice(SUBJ)
    if want == 0:
        return r.choice([f"{s} is not {p}", f"{s} is n't {p}", f"this is hardly {p}", f"{s} is far from {p}",
                         f"{s} is not {p} by any stretch"]), 0
    return r.choice([f"{s} is {p}", f"{s} is truly {p}", f"{s} is nothing short of {p}",
                     f"there is no doubt that {s} is {p}"]), 1


def r_not_control(r, P, want):
    """frames with not/never/no that do NOT negate the opinion: label = adjective's label."""
    a = P.adj(r, want)
    b = P.adj(r, want)
    s = r.choice(SUBJ)
    t = r.choice([f"i have never seen a film so {a}", f"{s} never stops being {a}", f"there is no denying {s} is {a}",
                  f"not only is {s} {a} , it is also {b}", f"{s} is not just {a} , it is {b}",
                  f"i can not stress enough how {a} {s} is", f"no one can say {s} is anything other than {a}",
                  f"i could n't stop thinking about how {a} {s} was", f"{s} never fails to be {a}",
                  f"there is no other word for it : {a}"])
    return t, want


def r_but(r, P, want):
    """<A> , but <B> -> label of B; mostly opposite polarity, some same-polarity controls."""
    b = P.phrase(r, want)
    la = 1 - want if r.random() < 0.75 else want
    a = P.phrase(r, la)
    t = r.choice([f"{a} , but {b}", f"{a} but {b}", f"{a} ; but {b}", f"{a} , but in the end {b}",
                  f"{a} , but ultimately {b}", f"sure , {a} , but {b}"])
    return t, want


def r_although(r, P, want):
    """although/despite <A> , <B> -> label of B (the main clause), in both orders."""
    b = P.phrase(r, want)
    a = P.phrase(r, 1 - want if r.random() < 0.8 else want)
    conj = r.choice(["although", "though", "even though", "while"])
    first = r.random() < 0.6                        # subordinate clause first or second
    wa = a.split()
    if wa[0] in DETS and not CLAUSE_VERBS.intersection(wa):   # noun phrase: "despite <np>" / "although it is <a np>"
        if a.split()[0] in ("a", "an") and r.random() < 0.5:
            t = f"{conj} it is {a} , {b}" if first else f"{b} , {conj} it is {a}"
        else:
            t = f"despite {a} , {b}" if first else f"{b} , despite {a}"
    else:
        t = f"{conj} {a} , {b}" if first else f"{b} , {'even if' if conj == 'while' else conj} {a}"
    return t, want


def r_however(r, P, want):
    """<A> . however , <B> -> label of B."""
    b = P.phrase(r, want)
    a = P.phrase(r, 1 - want if r.random() < 0.75 else want)
    t = r.choice([f"{a} . however , {b}", f"{a} ; however , {b}", f"{a} . that said , {b}",
                  f"{a} . still , {b}", f"{a} . on the other hand , {b}", f"{a} , yet {b}"])
    return t, want


def r_and_control(r, P, want):
    """same-polarity conjunctions (controls for contrast frames)."""
    a = P.phrase(r, want)
    b = P.phrase(r, want)
    x = P.adj(r, want)
    t = r.choice([f"{a} , and {b}", f"{a} and also {b}", f"not only {a} , but also {b}",
                  f"{a} . what is more , {b}", f"{a} , and on top of that {b}", f"{x} , and {b}"])
    return t, want


def r_used_to(r, P, want):
    """i used to think it was <A> , but now <B> -> label of B; at first A , later B -> B."""
    a = P.adj(r, 1 - want)
    b = P.adj(r, want)
    s = r.choice(SUBJ)
    t = r.choice([f"i used to think {s} was {a} , but now i find it {b}",
                  f"i used to find {s} {a} , but now it seems {b}",
                  f"at first {s} seemed {a} , but later it turned out to be {b}",
                  f"at first i thought {s} was {a} ; by the end it was {b}",
                  f"{s} starts out {a} but becomes {b}",
                  f"i once considered {s} {a} ; now i think it is {b}",
                  f"it used to be {a} , but now {s} is {b}",
                  f"on first viewing i found {s} {a} , on the second {b}"])
    return t, want


def r_used_to_control(r, P, want):
    """used-to / at-first frames that keep the opinion."""
    a = P.adj(r, want)
    b = P.adj(r, want)
    s = r.choice(SUBJ)
    t = r.choice([f"i used to think {s} was {a} , and i still do",
                  f"at first {s} seemed {a} , and it only got more {b}",
                  f"i always found {s} {a} , and now even more so",
                  f"{s} starts out {a} and stays {b} to the end",
                  f"at first i thought {s} was {a} ; by the end it was {b}"])
    return t, want


def r_intens(r, P, want):
    """intensifier + adj keeps the label."""
    a = P.adj(r, want)
    i = r.choice(INTENS)
    s = r.choice(SUBJ)
    t = r.choice([f"{s} is {i} {a}", f"{i} {a}", f"{s} was {i} , {i} {a}", f"{i} {a} from start to finish",
                  f"{s} feels {i} {a}", f"what {art(i)} {a} film"])
    return t, want


def r_dimin(r, P, want):
    """diminisher + adj keeps the label ("slightly disappointing" is still negative)."""
    a = r.choice(P.pos_mod if want else P.neg_int)
    d = r.choice(DIMIN_POS if want else DIMIN_NEG)
    s = r.choice(SUBJ)
    t = r.choice([f"{s} is {d} {a}", f"{d} {a}", f"{s} was {d} {a} , overall", f"{s} felt {d} {a}"])
    return t, want


def r_not_very(r, P, want):
    """not very / not particularly / not that <pos adj> -> 0; control: very <pos adj> -> 1."""
    a = r.choice(P.pos_mod)
    s = r.choice(SUBJ)
    if want == 0:
        d = r.choice(["very", "particularly", "that", "terribly", "especially", "all that"])
        return r.choice([f"{s} is not {d} {a}", f"{s} is n't {d} {a}", f"not {d} {a}",
                         f"{s} was n't {d} {a} , to be honest"]), 0
    d = r.choice(["very", "particularly", "really", "especially"])
    return r.choice([f"{s} is {d} {a}", f"{s} was {d} {a} , to be honest", f"{d} {a} , honestly"]), 1


def r_question(r, P, want):
    """questions with answers and rhetorical questions; label follows the answer/intent."""
    s = r.choice(SUBJ)
    k = r.randrange(4)
    if want == 1:
        if k == 0:
            return f"is {s} {r.choice(P.pos_mod)} ? {r.choice(['absolutely', 'yes , very', 'definitely', 'without a doubt'])} .", 1
        if k == 1:
            return f"is {s} {r.choice(P.neg_mild)} ? {r.choice(['not at all', 'no , not in the least', 'not for a second'])} .", 1
        if k == 2:
            return f"who would n't enjoy something this {r.choice(P.pos_int)} ?", 1
        return f"{r.choice(['was it worth my time', 'would i watch it again', 'should you see it'])} ? {r.choice(['yes', 'absolutely', 'without question'])} , it is {r.choice(P.pos_int)} .", 1
    if k == 0:
        return f"is {s} {r.choice(P.pos_mod)} ? {r.choice(['not at all', 'no , not really', 'hardly'])} .", 0
    if k == 1:
        return f"is {s} {r.choice(P.neg_int)} ? {r.choice(['yes , very', 'absolutely', 'sadly , yes'])} .", 0
    if k == 2:
        return f"who asked for something this {r.choice(P.neg_int)} ?", 0
    return f"{r.choice(['was it worth my time', 'would i watch it again', 'should you see it'])} ? {r.choice(['no', 'not a chance', 'absolutely not'])} , it is {r.choice(P.neg_int)} .", 0


def r_expect(r, P, want):
    """negated expectations (flip) and met expectations (controls)."""
    s = r.choice(SUBJ)
    if r.random() < 0.6:                            # expectation not met: label opposite to the expectation
        if want == 1:
            a = r.choice(P.neg_mild)
            return r.choice([f"i expected {s} to be {a} , and it was n't", f"i thought {s} would be {a} ; it was n't",
                             f"i was sure {s} would be {a} , but it was not {a} at all",
                             f"i feared {s} would be {a} . it was n't"]), 1
        a = r.choice(P.pos_mod)
        return r.choice([f"i expected {s} to be {a} , and it was n't", f"i thought {s} would be {a} ; it was n't",
                         f"i was sure {s} would be {a} , but it was not {a} at all",
                         f"i hoped {s} would be {a} . it was n't"]), 0
    a = P.adj(r, want)                              # expectation met: label of the adjective
    return r.choice([f"i expected {s} to be {a} , and it was", f"i thought {s} would be {a} , and it was",
                     f"{s} was just as {a} as i expected", f"as i expected , {s} was {a}"]), want


def r_emoji(r, P, want):
    """emoji (raw characters) whose sentiment agrees with the text."""
    e = r.choice(EMOJI_POS if want else EMOJI_NEG)
    if r.random() < 0.25:
        e = e + e
    x = P.phrase(r, want) if r.random() < 0.7 else P.adj(r, want)
    return (f"{x} {e}" if r.random() < 0.6 else f"{e} {x}"), want


# ------------------------------------------------------------------------------ everyday-review negation
# SST-2 is movie phrases and the rules above mostly negate its adjectives. People also negate *events* and
# *quantities* in reviews of products, places and services ("none of the X went wrong", "no complaints",
# "never once crashed") and stack two negations. These hand-written lexicons cover that ground; every label
# follows from the rule. Every subject has a kind (m: media, p: place or service, d: device or product) and
# every predicate the kinds it fits, so that sentences stay sensible ("the charger overheated", not "the
# novel overheated").
DOMAIN_SUBJ = [  # (text, plural?, kind)
    ("the film", 0, "m"), ("the movie", 0, "m"), ("the show", 0, "m"), ("the series", 0, "m"),
    ("the sequel", 0, "m"), ("the play", 0, "m"), ("the book", 0, "m"), ("the novel", 0, "m"),
    ("the memoir", 0, "m"), ("the album", 0, "m"), ("the record", 0, "m"), ("the concert", 0, "m"),
    ("the game", 0, "m"), ("the podcast", 0, "m"), ("the documentary", 0, "m"), ("the musical", 0, "m"),
    ("the restaurant", 0, "p"), ("the cafe", 0, "p"), ("the food", 0, "p"), ("the meal", 0, "p"),
    ("the hotel", 0, "p"), ("the room", 0, "p"), ("the service", 0, "p"), ("the staff", 1, "p"),
    ("the tour", 0, "p"), ("the flight", 0, "p"), ("the course", 0, "p"), ("the gym", 0, "p"),
    ("the salon", 0, "p"), ("the museum", 0, "p"), ("the delivery", 0, "p"), ("the dentist", 0, "p"),
    ("the app", 0, "d"), ("the update", 0, "d"), ("this phone", 0, "d"), ("this laptop", 0, "d"),
    ("the camera", 0, "d"), ("the charger", 0, "d"), ("this blender", 0, "d"), ("the mattress", 0, "d"),
    ("this jacket", 0, "d"), ("these boots", 1, "d"), ("these headphones", 1, "d"), ("the speakers", 1, "d"),
    ("this printer", 0, "d"), ("the vacuum", 0, "d"), ("the car", 0, "d"), ("this tent", 0, "d"),
    ("the coffee maker", 0, "d"), ("the keyboard", 0, "d"),
]
# (base form, past form, kinds) of verb phrases that say something bad / good happened
BAD_VP = [
    ("disappoint me", "disappointed me", "mpd"), ("let me down", "let me down", "mpd"), ("break", "broke", "d"),
    ("fall apart", "fell apart", "md"), ("stop working", "stopped working", "d"), ("drag", "dragged", "m"),
    ("bore me", "bored me", "m"), ("fall flat", "fell flat", "m"), ("feel cheap", "felt cheap", "mpd"),
    ("feel rushed", "felt rushed", "mp"), ("waste my time", "wasted my time", "mpd"),
    ("annoy me", "annoyed me", "mpd"), ("crash", "crashed", "d"), ("leak", "leaked", "d"),
    ("make me cringe", "made me cringe", "m"), ("put me to sleep", "put me to sleep", "m"),
    ("get old", "got old", "m"), ("go wrong", "went wrong", "pd"), ("give me trouble", "gave me trouble", "d"),
    ("frustrate me", "frustrated me", "mpd"), ("overheat", "overheated", "d"),
    ("feel like a chore", "felt like a chore", "m"), ("lose my interest", "lost my interest", "m"),
    ("make me regret it", "made me regret it", "mpd"), ("cause problems", "caused problems", "pd"),
    ("feel overpriced", "felt overpriced", "pd"), ("run late", "ran late", "p"), ("irritate me", "irritated me", "mpd"),
]
GOOD_VP = [
    ("impress me", "impressed me", "mpd"), ("live up to the hype", "lived up to the hype", "mpd"),
    ("keep my attention", "kept my attention", "m"), ("make me laugh", "made me laugh", "m"),
    ("win me over", "won me over", "mpd"), ("deliver", "delivered", "mpd"), ("hold up", "held up", "md"),
    ("meet my expectations", "met my expectations", "mpd"), ("feel worth the money", "felt worth the money", "pd"),
    ("do its job", "did its job", "d"), ("work as promised", "worked as promised", "d"),
    ("surprise me", "surprised me", "mpd"), ("move me", "moved me", "m"), ("make my day", "made my day", "mp"),
    ("exceed my expectations", "exceeded my expectations", "mpd"), ("grab me", "grabbed me", "m"),
    ("satisfy me", "satisfied me", "pd"), ("make me feel welcome", "made me feel welcome", "p"),
]
# things a review counts: (plural noun, kind, a negative predicate, a positive predicate), past tense
PARTS = [
    ("gags", "m", "missed", "landed"), ("songs", "m", "sounded dull", "stood out"),
    ("dishes", "p", "tasted stale", "tasted fresh"), ("chapters", "m", "dragged", "kept me reading"),
    ("episodes", "m", "felt like filler", "kept me hooked"), ("levels", "m", "felt repetitive", "felt fresh"),
    ("rooms", "p", "smelled musty", "felt cozy"), ("features", "d", "felt half-finished", "worked well"),
    ("characters", "m", "felt flat", "felt real"), ("scenes", "m", "dragged on", "worked"),
    ("tracks", "m", "sounded lazy", "sounded great"), ("waiters", "p", "were rude", "were friendly"),
    ("parts", "d", "broke", "held up"), ("puzzles", "m", "felt unfair", "felt clever"),
    ("buttons", "d", "stuck", "felt solid"), ("exhibits", "p", "felt dated", "impressed us"),
]
DOMAIN_ADJ = {  # kind -> (positive, negative)
    "m": (["fun", "enjoyable", "gripping", "moving", "clever", "entertaining", "engaging", "beautiful",
           "well written", "worth the time"],
          ["boring", "dull", "tedious", "confusing", "forgettable", "predictable", "a letdown", "disappointing",
           "slow", "annoying", "clumsy", "bland"]),
    "p": (["clean", "friendly", "fresh", "tasty", "helpful", "spacious", "pleasant", "quiet", "good value",
           "welcoming"],
          ["dirty", "cramped", "rude", "stale", "noisy", "bland", "unhelpful", "overpriced", "greasy",
           "disappointing", "slow", "a letdown"]),
    "d": (["reliable", "sturdy", "fast", "comfortable", "responsive", "useful", "well made", "easy to use",
           "worth the money", "quiet"],
          ["flimsy", "slow", "buggy", "uncomfortable", "fragile", "overpriced", "clumsy", "disappointing",
           "a waste of money", "confusing", "noisy"]),
}
FLAWS = ["complaints", "problems", "issues", "regrets", "reservations", "doubts"]
NO_GOOD = ["redeeming qualities", "charm", "good ideas", "memorable moments", "value", "appeal"]
NO_BAD = ["flaws", "weak spots", "real problems", "bad moments", "downsides", "drawbacks"]
EXHAUST_NEG = ["at all", "in the slightest", "in the least", "for a second", "in any way", "one bit"]
WEAK_POS = ["okay", "passable", "mediocre", "adequate", "average"]


def past(verb):
    return verb + ("d" if verb.endswith("e") else "ed")


class Subject:
    def __init__(self, r):
        self.text, plural, self.kind = r.choice(DOMAIN_SUBJ)
        self.was, self.is_, self.has = ("were", "are", "have") if plural else ("was", "is", "has")

    def __str__(self):
        return self.text

    def adj(self, r, polarity):
        return r.choice(DOMAIN_ADJ[self.kind][0 if polarity else 1])

    def vp(self, r, good):
        """(base, past) of an event that fits this subject."""
        return r.choice([v for v in (GOOD_VP if good else BAD_VP) if self.kind in v[2]])[:2]

    def part(self, r):
        """(plural noun, bad predicate, good predicate) of a part of such a subject."""
        return r.choice([(n, b, g) for n, k, b, g in PARTS if k == self.kind])


def r_neg_event(r, P, want):
    """a negated bad event -> 1, a negated good event -> 0 ("never once crashed" / "never impressed me")."""
    s = Subject(r)
    base, done = s.vp(r, good=want == 0)
    t = r.choice([f"{s} did not {base}", f"{s} did n't {base} , not even once", f"not once did {s} {base}",
                  f"at no point did {s} {base}", f"{s} did n't {base} at all", f"honestly , {s} never {done}",
                  f"{s} never once {done}", f"i can say {s} never {done}"])
    return t, want


def r_event_control(r, P, want):
    """the same events affirmed: the label of the event ("the charger overheated" -> 0)."""
    s = Subject(r)
    _, done = s.vp(r, good=want == 1)
    t = r.choice([f"{s} {done}", f"{s} really {done}", f"{'happily' if want else 'sadly'} , {s} {done}",
                  f"{s} {done} more than once", f"{s} {done} , no doubt about it", f"i have to say {s} {done}"])
    return t, want


def r_neg_quantity(r, P, want):
    """none / not a single / no one / nothing / far from + a predicate of the other polarity -> flipped."""
    s = Subject(r)
    noun, bad, good = s.part(r)
    k = r.randrange(8)
    if k == 0:
        return f"none of the {noun} {bad if want else good}", want
    if k == 1:
        return f"not a single one of the {noun} {bad if want else good}", want
    if k == 2:
        return (r.choice([f"i found nothing to complain about in {s}", f"there is nothing to fault in {s}",
                          f"zero {r.choice(FLAWS)} from me about {s}"]) if want else
                f"i have nothing good to say about {s}"), want
    if k == 3:
        return f"{s} {s.has} no {r.choice(NO_BAD if want else NO_GOOD)}", want
    if k == 4:
        a = s.adj(r, 1 - want)
        return r.choice([f"there was nothing {a} about {s}", f"nothing about {s} {s.was} {a}",
                         f"i would never describe {s} as {a}", f"no one could say {s} {s.was} {a}"]), want
    if k == 5:
        return f"{s} {s.is_} far from {s.adj(r, 1 - want)}", want
    if k == 6:
        who = r.choice(["not one person at our table", "no one in the family", "none of my friends", "not one of us"])
        v = r.choice(["complained", "was bored", "left early", "asked for a refund", "regretted it"]) if want else \
            r.choice(["enjoyed it", "liked it", "wanted more", "was impressed", "would go back"])
        return f"{who} {v}", want
    return f"{s} {s.was} not {s.adj(r, 1 - want)} {r.choice(EXHAUST_NEG)}", want


THINGS = {"m": ["moment", "scene", "chapter", "episode"], "p": ["dish", "room", "corner", "course"],
          "d": ["part", "feature", "button", "setting"]}
LIKE = ["enjoy", "like", "love", "appreciate"]
DISLIKE = ["hate", "dislike", "regret", "resent"]


def r_double_negation(r, P, want):
    """two negations that cancel: the label is that of the inner, affirmed statement. Every frame comes with
    a positive and a negative inner statement, so that "two negations" alone says nothing about the label."""
    s = Subject(r)
    verb = r.choice(LIKE if want else DISLIKE)
    thing = r.choice(THINGS[s.kind])
    k = r.randrange(10)
    if k == 0:
        return f"i can not say i did n't {verb} {s}", want
    if k == 1:
        return f"{s} never fails to {s.vp(r, good=want == 1)[0]}", want
    if k == 2:
        return f"i can not say {s} did n't {s.vp(r, good=want == 1)[0]}", want
    if k == 3:
        return f"i have yet to meet someone who did n't {verb} {s}", want
    if k == 4:
        return f"you could not point to a {thing} in {s} that was n't {s.adj(r, want)}", want
    if k == 5:
        feel = r.choice(["impressed", "happy", "satisfied", "smiling"]) if want else \
            r.choice(["disappointed", "annoyed", "frustrated", "bored"])
        return f"no one walked away from {s} without feeling {feel}", want
    if k == 6:
        return f"never did {s} fail to {s.vp(r, good=want == 1)[0]}", want
    if k == 7:
        return (f"{s} {s.was} never anything less than {s.adj(r, 1)}", 1) if want else \
            (f"{s} {s.was} never anything more than {r.choice(WEAK_POS)}", 0)
    if k == 8:
        return f"not one {thing} of {s} failed to be {s.adj(r, want)}", want
    return f"i would n't say i did n't {verb} {s}", want


def r_recommend(r, P, want):
    """recommendation frames, with the negations that keep ("ca n't recommend it enough") or flip the label."""
    s = Subject(r)
    if want == 1:
        return r.choice([f"i ca n't recommend {s} enough", f"i would not hesitate to recommend {s}",
                         f"you wo n't regret {r.choice(['buying', 'trying', 'choosing'])} {s}",
                         f"do n't miss {s}", f"i would recommend {s} to anyone", f"no regrets about {s}",
                         f"do n't listen to the critics , {s} {s.is_} {s.adj(r, 1)}"]), 1
    return r.choice([f"i would n't recommend {s} to anyone", f"i can not recommend {s}",
                     f"do n't waste your money on {s}",
                     f"i would think twice before {r.choice(['buying', 'trying', 'booking'])} {s}",
                     f"you will regret {r.choice(['buying', 'trying', 'choosing'])} {s}", f"avoid {s}",
                     f"do n't believe the hype , {s} {s.is_} {s.adj(r, 0)}"]), 0


def r_domain_adj(r, P, want):
    """product/place/media adjectives, plain and negated ("the room was n't clean" -> 0)."""
    s = Subject(r)
    if r.random() < 0.5:                             # negated: the label is opposite to the adjective's
        extra = f" {r.choice(EXHAUST_NEG)}" if want == 1 else r.choice(["", " at all", " , sadly"])
        neg = r.choice(["not", "n't", "never"])
        return f"{s} {r.choice([s.was, s.is_])} {neg} {s.adj(r, 1 - want)}{extra}", want
    return f"{s} {r.choice([s.was, s.is_])} {r.choice(['', 'really ', 'very ', 'surprisingly '])}{s.adj(r, want)}", want


RULES = collections.OrderedDict([
    # name: (function, weight, labels produced)
    ("not_pos_adj", (r_not_pos, 3000, (0,))),
    ("not_neg_adj", (r_not_neg, 3000, (1,))),
    ("not_np", (r_not_np, 1500, (0, 1))),
    ("not_control", (r_not_control, 3000, (0, 1))),
    ("but", (r_but, 4000, (0, 1))),
    ("although", (r_although, 3000, (0, 1))),
    ("however", (r_however, 2000, (0, 1))),
    ("and_control", (r_and_control, 2000, (0, 1))),
    ("used_to", (r_used_to, 3000, (0, 1))),
    ("used_to_control", (r_used_to_control, 1000, (0, 1))),
    ("intensifier", (r_intens, 3000, (0, 1))),
    ("diminisher", (r_dimin, 2000, (0, 1))),
    ("not_very", (r_not_very, 1500, (0, 1))),
    ("question", (r_question, 3000, (0, 1))),
    ("expectation", (r_expect, 3000, (0, 1))),
    ("emoji", (r_emoji, 3000, (0, 1))),
    ("neg_event", (r_neg_event, 3000, (0, 1))),
    ("event_control", (r_event_control, 2000, (0, 1))),
    ("neg_quantity", (r_neg_quantity, 4000, (0, 1))),
    ("double_negation", (r_double_negation, 3000, (0, 1))),
    ("recommend", (r_recommend, 1500, (0, 1))),
    ("domain_adj", (r_domain_adj, 3000, (0, 1))),
])


def load_behaviour(paths):
    """Texts of the cases in a comma-separated list of JSONL files (missing files are skipped)."""
    out = []
    for path in (paths or "").split(","):
        if not path or not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    out.append(json.loads(line)["text"])
    return out


def leaks(text_norm, behaviour_norms):
    return any(b in text_norm for b in behaviour_norms if len(b) <= len(text_norm))


def generate(rows, total=40000, seed=1234, natural_frac=0.5, behaviour_texts=(), rules=None):
    """-> (examples [(text, label, rule)], counts {rule: n}). Deterministic for (rows, total, seed)."""
    P = Pools(*build_lexicon(rows))
    rules = rules or list(RULES)
    wsum = sum(RULES[k][1] for k in rules)
    bnorm = sorted({norm(t) for t in behaviour_texts})
    seen = set()
    out, counts, dropped = [], collections.Counter(), collections.Counter()
    for name in rules:
        fn, w, labels = RULES[name]
        n = max(1, round(total * w / wsum))
        r = random.Random(f"{seed}:{name}")
        got, tries = 0, 0
        while got < n and tries < n * 20:
            tries += 1
            want = labels[got % len(labels)]
            text, label = fn(r, P, want)
            text = re.sub(r"\s+", " ", text).strip()
            if r.random() < natural_frac:
                text = naturalize(text)
            key = text.lower()
            if key in seen:
                continue
            if bnorm and leaks(norm(text), bnorm):
                dropped[name] += 1
                continue
            seen.add(key)
            out.append((text, label, name))
            counts[name] += 1
            got += 1
    r = random.Random(f"{seed}:shuffle")
    r.shuffle(out)
    return out, counts, dropped


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sst", default=DEFAULT_SST, help="SST-2 train.tsv (relative paths: to the repo root)")
    ap.add_argument("--out", help="output TSV (sentence\\tlabel); relative paths: to the current directory")
    ap.add_argument("--n", type=int, default=40000, help="number of examples (approximate, split by rule weight)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--natural-frac", type=float, default=0.5, help="share rendered in natural style")
    ap.add_argument("--behaviour", default=DEFAULT_BEHAVIOUR, help="comma-separated JSONL case files to keep out ('' = none)")
    ap.add_argument("--rules", help="comma-separated subset of: " + ",".join(RULES))
    ap.add_argument("--with-rule", action="store_true", help="add a third column `rule`")
    ap.add_argument("--check", action="store_true", help="print 3 examples per rule and the lexicon sizes")
    a = ap.parse_args(argv)
    sst = a.sst if os.path.isabs(a.sst) else os.path.join(ROOT, a.sst)
    rows = read_sst(sst)
    beh = load_behaviour(a.behaviour)
    rules = a.rules.split(",") if a.rules else None
    ex, counts, dropped = generate(rows, a.n, a.seed, a.natural_frac, beh, rules)
    lex = build_lexicon(rows)
    print(f"SST-2 rows {len(rows)}; lexicon: {len(lex[0])} pos adj, {len(lex[1])} neg adj, "
          f"{len(lex[2])} pos phrases, {len(lex[3])} neg phrases, {len(lex[4])} pos noun phrases; "
          f"behaviour cases excluded: {len(beh)}", file=sys.stderr)
    print(f"{'rule':<18}{'n':>7}{'pos':>7}{'neg':>7}{'dropped(leak)':>15}")
    for name in counts:
        pos = sum(1 for t, l, k in ex if k == name and l == 1)
        print(f"{name:<18}{counts[name]:>7}{pos:>7}{counts[name] - pos:>7}{dropped[name]:>15}")
    print(f"{'total':<18}{len(ex):>7}{sum(l for _, l, _ in ex):>7}{sum(1 - l for _, l, _ in ex):>7}"
          f"{sum(dropped.values()):>15}")
    if a.check:
        by = collections.defaultdict(list)
        for t, l, k in ex:
            if len(by[k]) < 3:
                by[k].append((t, l))
        for k in counts:
            print(f"\n[{k}]")
            for t, l in by[k]:
                print(f"  {l}  {t}")
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w", encoding="utf-8", newline="\n") as f:
            f.write("sentence\tlabel" + ("\trule" if a.with_rule else "") + "\n")
            for t, l, k in ex:
                assert "\t" not in t and "\n" not in t
                f.write(f"{t}\t{l}" + (f"\t{k}" if a.with_rule else "") + "\n")
        print(f"wrote {len(ex)} rows to {a.out}", file=sys.stderr)
    elif not a.check:
        print("(no --out given: nothing written)", file=sys.stderr)


if __name__ == "__main__":
    main()
