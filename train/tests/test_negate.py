"""Tests of train/negate.py (stdlib only):

    cd train && /usr/bin/python3 -m unittest tests.test_negate -v
"""
import collections
import json
import os
import random
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.dirname(HERE)
ROOT = os.path.dirname(TRAIN)
sys.path.insert(0, TRAIN)

import negate as N  # noqa: E402

REVIEWS = os.path.join(ROOT, N.DEFAULT_REVIEWS)
SST = os.path.join(ROOT, N.DEFAULT_SST)


def clause(sentence, lex=None):
    lex = lex or {"friendly": 1, "dirty": 0, "good": 1, "bad": 0}
    low = N.fold(sentence)
    m = [m for m in N.CLAUSE_RE.finditer(low) if m.group(3) in lex and N.is_copula(low, m)]
    assert len(m) == 1, (sentence, m)
    return N.Clause(sentence, m[0], lex[m[0].group(3)])


def negations(c, n=200):
    r = random.Random(0)
    return {c.negated(r) for _ in range(n)} - {None}


class TestClause(unittest.TestCase):
    def test_copula_negations_of_a_positive_clause(self):
        got = negations(clause("The staff were very friendly."))
        # every form negates the one copula, keeps the rest, and "very" may stay before a positive adjective
        for s in got:
            self.assertRegex(s, r"^the staff (were not|weren't|were never|were far from|were hardly|were not at all|"
                                r"were no longer) (very )?friendly\.$", s)
        self.assertIn("the staff weren't friendly.", got)
        self.assertIn("the staff were not very friendly.", got)

    def test_degree_adverb_dropped_before_a_negative_adjective(self):
        got = negations(clause("The room was extremely dirty!"))
        self.assertTrue(got)
        for s in got:
            self.assertNotIn("extremely", s)       # "not extremely dirty" is still dirty
            self.assertNotRegex(s, r"far from|hardly|not at all")  # only for positive adjectives
        self.assertIn("the room wasn't dirty!", got)

    def test_do_support_and_modal_forms(self):
        self.assertEqual(negations(clause("The sauce tasted good.")) - {None},
                         {"the sauce did not taste good.", "the sauce didn't taste good."})
        self.assertEqual(negations(clause("This chair feels good.")),
                         {"this chair does not feel good.", "this chair doesn't feel good."})
        self.assertEqual(negations(clause("The sequel will be good.")),
                         {"the sequel will not be good.", "the sequel won't be good."})
        self.assertEqual(negations(clause("The hotel has been good.")),
                         {"the hotel has not been good.", "the hotel has never been good."})
        self.assertEqual(negations(clause("It's good.")) - {"it's no longer good."},
                         {"it's not good.", "it isn't good.", "it's never good.", "it's far from good.",
                          "it's hardly good.", "it's not at all good."})
        # "to be good" has no natural negation of the clause itself
        self.assertEqual(negations(clause("I want it to be good.")), set())

    def test_possessive_s_is_not_a_copula(self):
        low = "the director's good friend"
        m = next(N.CLAUSE_RE.finditer(low))
        self.assertFalse(N.is_copula(low, m))
        low = "that's good"
        self.assertTrue(N.is_copula(low, next(N.CLAUSE_RE.finditer(low))))

    def test_version_1_has_no_no_longer(self):
        c = clause("The staff were friendly.")
        r = random.Random(0)
        self.assertFalse(any("no longer" in (c.negated(r, version=1) or "") for _ in range(300)))


class TestVariants(unittest.TestCase):
    def test_stance_event_and_feeling_sentences(self):
        polar = {"great": 1, "awful": 0}
        judge = N.Judge(polar)
        reviews = [("blitzer-mds/kitchen:1", 1, "I really loved this kettle. The lid broke after a week."),
                   ("blitzer-mds/kitchen:2", 0, "The lid broke after a week. I was very disappointed."),
                   ("blitzer-mds/kitchen:3", 0, "I loved the colour but it is awful."),       # "but": no source
                   ("imdb/train.tsv.gz:4", 0, "The hero broke down in tears."),             # not a product review
                   ("blitzer-mds/kitchen:5", 1, "The new model delivered on every promise.")]
        plain = N.unnegated_sentences(reviews)
        r = random.Random(0)
        stances = {(rid, s): (p, {neg(r) for _ in range(50)}) for rid, s, p, neg in N.stance_variants(plain, judge)}
        self.assertEqual(stances, {("blitzer-mds/kitchen:1", "I really loved this kettle."):
                                   (1, {"i did not love this kettle.", "i didn't love this kettle.",
                                        "i never loved this kettle."})})
        events = {(rid, s): (p, {neg(r) for _ in range(50)}) for rid, s, p, neg in N.event_variants(plain, judge)}
        # the review of the first sentence is positive, the lid breaking is not: only review 2's sentence qualifies
        self.assertEqual(events, {("blitzer-mds/kitchen:2", "The lid broke after a week."):
                                  (0, {"the lid never broke after a week.", "the lid has not broken after a week.",
                                       "the lid hasn't broken after a week."})})
        feelings = {s: (p, {neg(r) for _ in range(50)})
                    for _, s, p, neg in N.feeling_and_verb_variants(plain, judge)}
        # a negative feeling loses its degree adverb ("not very disappointed" is still disappointed)
        self.assertEqual(feelings["I was very disappointed."],
                         (0, {"i was not disappointed.", "i wasn't disappointed.", "i was never disappointed."}))
        self.assertEqual(feelings["The new model delivered on every promise."],
                         (1, {"the new model did not deliver on every promise."}))


class TestJudge(unittest.TestCase):
    def test_rule_set_3_keeps_other_evaluative_words_out(self):
        polar = {"great": 1, "awful": 0, "delicious": 1, "loved": 1}
        sentence = "i loved the mussels and the potatoes were delicious."
        lex = {"delicious": 1}
        for evaluative, expected in ((frozenset(), 1), ({"loved", "delicious"}, 0)):
            reviews = [("kotzias-sentences/yelp:1", 1, sentence)]
            got = N.qualifying_clauses(N.unnegated_sentences(reviews), lex, N.Judge(polar, evaluative))
            self.assertEqual(len(got), expected, evaluative)
        # the other polarity is refused by every rule set; the clause's own adjective does not count against it
        self.assertFalse(N.Judge(polar).ok("the soup was great but awful", "", 1))
        self.assertTrue(N.Judge(polar, {"great"}).ok("the soup was great", "the soup", 1))


class TestFrames(unittest.TestCase):
    def test_labels_of_the_frames(self):
        r = random.Random(1)
        seen = collections.defaultdict(set)
        for _ in range(400):
            for frame in (N.expect_frame, N.nothing_frame, N.double_neg_frame, N.others_frame):
                for p in (0, 1):
                    text, label = frame(r, "the staff", True, "friendly" if p else "rude", p)
                    seen[frame.__name__].add((text, label, p))
        expect = {t: (l, p) for t, l, p in seen["expect_frame"]}
        self.assertEqual(expect["i expected the staff to be friendly, but they weren't"], (0, 1))
        self.assertEqual(expect["i expected the staff to be rude, but they weren't"], (1, 0))
        self.assertEqual(expect["the staff turned out to be rude"], (0, 0))
        self.assertEqual(expect["i was worried the staff would be rude, but they weren't at all"], (1, 0))
        nothing = {t: l for t, l, _ in seen["nothing_frame"]}
        self.assertEqual(nothing["there was nothing rude about the staff"], 1)
        self.assertEqual(nothing["the staff were anything but friendly"], 0)
        double = {t: l for t, l, _ in seen["double_neg_frame"]}
        self.assertEqual(double["i can't say the staff weren't friendly"], 1)   # two negators keep the inner label
        self.assertEqual(double["i can't say the staff weren't rude"], 0)
        others = {t: l for t, l, _ in seen["others_frame"]}
        self.assertEqual(others["none of the staff were friendly"], 0)
        self.assertEqual(others["none of the staff were rude"], 1)
        self.assertEqual(others["the staff never failed to impress me"], 1)
        self.assertEqual(others["the staff failed to impress me"], 0)

    def test_sst_style(self):
        self.assertEqual(N.sst_style("The staff weren't rude, and it's cheap."),
                         "the staff were n't rude , and it 's cheap .")
        self.assertEqual(N.sst_style("I can't say it won't work."), "i ca n't say it wo n't work .")


def tiny_reviews():
    """A hand-made labelled corpus: the lexicon statistics and every rule's source are known."""
    rows = []
    for i in range(12):
        rows.append((f"r{i}a", 1, f"The waiter was very friendly. The soup {i} was superb. I loved the dessert {i}."))
        rows.append((f"r{i}b", 0, f"The room was really dirty. The bed {i} was awful. I was disappointed."))
        rows.append((f"r{i}c", 1, "The room was dirty but the view was friendly."))   # a contrast: never a source
    return rows


class TestGenerate(unittest.TestCase):
    def setUp(self):
        self.sst = [("superb", 1), ("awful", 0), ("dirty", 0), ("friendly", 1)]

    def test_lexicon_from_labelled_clauses(self):
        lex, polar = N.mine_lexicon(tiny_reviews(), self.sst)
        self.assertEqual(lex["superb"], 1)           # 12 of 12 in positive reviews, after "was" (and "very" elsewhere)
        self.assertEqual(lex["friendly"], 1)         # in the hand-written core
        self.assertEqual(polar["awful"], 0)

    def test_pairs_labels_and_dev_split(self):
        train, dev, info = N.generate(tiny_reviews(), self.sst, total=200, seed=3, dev_frac=0.25)
        rows = train + dev
        self.assertTrue(rows)
        by_rule = collections.defaultdict(list)
        for text, label, rule in rows:
            by_rule[rule].append((N.fold(text), label))
        self.assertIn("neg_copula", by_rule)
        for text, label in by_rule["neg_copula"]:
            # the negation flips the source adjective's polarity
            if "friendly" in text or "superb" in text:
                self.assertEqual(label, 0, text)
            if "dirty" in text or "awful" in text:
                self.assertEqual(label, 1, text)
        for text, label in by_rule["orig"]:
            self.assertNotRegex(text, r"n't|\bnot\b|\bnever\b")
        # the contrast sentence is never a source
        self.assertFalse(any("view" in t for t, _ in sum(by_rule.values(), [])))
        # feelings: "I was disappointed" -> "I was not disappointed" = 1
        for text, label in by_rule["neg_feeling"]:
            self.assertIn("disappointed", text)
            self.assertEqual(label, 1)
        # dev rows come from reviews not in train: no dev text equals a train text
        self.assertFalse({t for t, _, _ in dev} & {t for t, _, _ in train})
        self.assertEqual(info["pools"]["copula_clauses"] > 0, True)

    def test_behaviour_texts_are_kept_out(self):
        train, dev, _ = N.generate(tiny_reviews(), self.sst, total=200, seed=3)
        victim = next(t for t, _, r in train if r == "neg_copula")
        train2, dev2, info = N.generate(tiny_reviews(), self.sst, total=200, seed=3, behaviour_texts=[victim])
        self.assertNotIn(victim, [t for t, _, _ in train2 + dev2])
        self.assertGreaterEqual(info["dropped_leak"], 1)


@unittest.skipUnless(os.path.exists(REVIEWS) and os.path.exists(SST), "needs ../shared/data/reviews and SST-2 train")
class TestOnTheRealData(unittest.TestCase):
    def test_no_behaviour_case_in_the_output_and_both_labels_in_every_rule(self):
        reviews = [r for r in N.read_reviews(REVIEWS) if r[0].startswith(("kotzias", "blitzer-mds/kitchen"))]
        cases = []
        for f in ("cases.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl"):
            with open(os.path.join(TRAIN, "behaviour", f), encoding="utf-8") as fh:
                cases += [json.loads(l) for l in fh if l.strip()]
        train, dev, _ = N.generate(reviews, N.read_sst(SST), total=3000, seed=5,
                                   behaviour_texts=[c["text"] for c in cases])
        norms = [N.norm(t) for t, _, _ in train + dev]
        for c in cases:
            b = N.norm(c["text"])
            self.assertFalse(any(b in n for n in norms), c["text"])
        labels = collections.defaultdict(set)
        for _, l, rule in train:
            labels[rule].add(l)
        for rule in ("neg_copula", "expect", "double_neg", "scope"):
            self.assertEqual(labels[rule], {0, 1}, rule)
        for t, _, _ in train:
            self.assertNotIn("\t", t)
            self.assertTrue(re.search(r"[a-z]", t))


if __name__ == "__main__":
    unittest.main()
