"""Tests of train/augment.py (stdlib only):

    cd train && /usr/bin/python3 -m unittest tests.test_augment -v
"""
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.dirname(HERE)
ROOT = os.path.dirname(TRAIN)
sys.path.insert(0, TRAIN)

import augment as A  # noqa: E402

SST = os.path.join(ROOT, A.DEFAULT_SST)
CASES = os.path.join(TRAIN, "behaviour", "cases.jsonl")

POS_ADJ = ["good", "funny", "charming", "clever", "perfect"]
NEG_ADJ = ["boring", "dull", "tedious", "bad", "terrible"]


def tiny_rows():
    """A hand-made SST-like corpus from which the lexicon must pick exactly the words above."""
    rows = []
    for words, l in ((POS_ADJ, 1), (NEG_ADJ, 0)):
        for w in words:
            rows += [(w, l), (f"very {w}", l), (f"so {w}", l), (f"a {w} film", l), (f"the {w} story", l),
                     (f"{w} acting", l), (f"{w} and {words[0] if w != words[0] else words[1]}", l)]
    rows += [("film", 1), ("a film", 0), ("the film", 1), ("film about men", 0), ("film is long", 1),
             ("a gem", 1), ("a gem of a movie", 1), ("gem", 1)]
    return rows


def fake_pools():
    return A.Pools(["good"], ["boring"], ["a lovely film"], ["a tedious mess"], ["a gem"])


def write_sst(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.write("sentence\tlabel\n")
        for s, l in rows:
            f.write(f"{s} \t{l}\n")


class TestLexicon(unittest.TestCase):
    def test_tiny_lexicon(self):
        pos_adj, neg_adj, pos_ph, neg_ph, pos_np = A.build_lexicon(tiny_rows())
        self.assertEqual(pos_adj, sorted(POS_ADJ))
        self.assertEqual(neg_adj, sorted(NEG_ADJ))
        self.assertNotIn("film", pos_adj + neg_adj)                 # inconsistent label -> not polar
        self.assertIn("a good film", pos_ph)
        self.assertIn("the dull story", neg_ph)
        P = A.Pools(pos_adj, neg_adj, pos_ph, neg_ph, pos_np)
        self.assertNotIn("perfect", P.pos_mod)                       # "not perfect" is not clearly negative
        self.assertNotIn("terrible", P.neg_mild)                     # "not terrible" is not praise
        self.assertIn("boring", P.neg_mild)


class TestRuleLabels(unittest.TestCase):
    """Labels by rule, on hand-made pools with one positive and one negative item each."""

    def run_rule(self, name, want, n=200):
        fn = A.RULES[name][0]
        r = random.Random(7)
        return [fn(r, fake_pools(), want) for _ in range(n)]

    def test_not_pos_is_negative(self):
        for t, l in self.run_rule("not_pos_adj", 0):
            self.assertEqual(l, 0)
            self.assertIn("good", t)
            self.assertRegex(t, r"\bnot\b|n't|\bnever\b")

    def test_not_neg_is_positive(self):
        for t, l in self.run_rule("not_neg_adj", 1):
            self.assertEqual(l, 1)
            self.assertIn("boring", t)

    def test_not_np(self):
        for want in (0, 1):
            for t, l in self.run_rule("not_np", want):
                self.assertEqual(l, want)
                negated = any(x in t for x in (" not ", "n't", "hardly", "far from"))
                self.assertEqual(negated, want == 0, t)

    def test_controls_keep_label(self):
        for name in ("not_control", "and_control", "used_to_control"):
            for want in (0, 1):
                word = "good" if want else "boring"
                other = "boring" if want else "good"
                for t, l in self.run_rule(name, want):
                    self.assertEqual(l, want)
                    self.assertNotIn(other, t)
                    self.assertTrue(word in t or ("lovely" if want else "tedious") in t, t)

    def test_negated_events_flip(self):
        neg = re.compile(r"\b(not|never|no)\b|n't")
        for want in (0, 1):
            events = [b for b, _, _ in (A.BAD_VP if want else A.GOOD_VP)]
            opposite = [p for _, p, _ in (A.GOOD_VP if want else A.BAD_VP)]
            for t, l in self.run_rule("neg_event", want):
                self.assertEqual(l, want)
                self.assertRegex(t, neg)
                # "never <past>" or "did not <base>": the event named is one of the other polarity's
                self.assertTrue(any(f" {e}" in t for e in events) or
                                any(f" {p}" in t for p, in [(x[1],) for x in (A.BAD_VP if want else A.GOOD_VP)]), t)
                self.assertFalse(any(t.endswith(f" {p}") for p in opposite if p not in events), t)

    def test_affirmed_events_keep_label(self):
        for want in (0, 1):
            past = [p for _, p, _ in (A.GOOD_VP if want else A.BAD_VP)]
            for t, l in self.run_rule("event_control", want):
                self.assertEqual(l, want)
                self.assertNotRegex(t, r"\b(not|never)\b|n't")
                self.assertTrue(any(f" {p}" in t for p in past), t)

    def test_domain_adjectives(self):
        for want in (0, 1):
            for t, l in self.run_rule("domain_adj", want):
                self.assertEqual(l, want)
                negated = re.search(r"\b(not|never)\b|n't", t) is not None
                polarity = want if not negated else 1 - want
                words = [a for k in A.DOMAIN_ADJ.values() for a in k[0 if polarity else 1]]
                self.assertTrue(any(re.search(rf"\b{re.escape(a)}\b", t) for a in words), t)

    def test_subjects_get_fitting_predicates(self):
        r = random.Random(3)
        for _ in range(500):
            s = A.Subject(r)
            base, _ = s.vp(r, good=r.random() < 0.5)
            kinds = {b: k for b, _, k in A.BAD_VP + A.GOOD_VP}
            self.assertIn(s.kind, kinds[base])

    def test_double_negation_and_quantities_are_balanced(self):
        for name in ("double_negation", "neg_quantity", "recommend"):
            for want in (0, 1):
                for t, l in self.run_rule(name, want):
                    self.assertEqual(l, want, t)

    def test_contrast_label_follows_second_clause(self):
        for name in ("but", "however"):
            for want in (0, 1):
                for t, l in self.run_rule(name, want):
                    self.assertEqual(l, want)
                    b = "a lovely film" if want else "a tedious mess"
                    self.assertTrue(t.endswith(b), t)

    def test_although_label_follows_main_clause(self):
        for want in (0, 1):
            b = "a lovely film" if want else "a tedious mess"
            for t, l in self.run_rule("although", want):
                self.assertEqual(l, want)
                main = t.split(" , ")[0] if not t.split()[0] in ("although", "though", "even", "while", "despite") else t.split(" , ")[-1]
                self.assertEqual(main, b, t)

    def test_used_to_label_follows_now(self):
        for want in (0, 1):
            now, then = ("good", "boring") if want else ("boring", "good")
            for t, l in self.run_rule("used_to", want):
                self.assertEqual(l, want)
                self.assertGreater(t.rindex(now), t.index(then), t)

    def test_intensifier_diminisher_keep_label(self):
        for name in ("intensifier", "diminisher"):
            for want in (0, 1):
                for t, l in self.run_rule(name, want):
                    self.assertEqual(l, want)
                    self.assertIn("good" if want else "boring", t)

    def test_not_very(self):
        for t, l in self.run_rule("not_very", 0):
            self.assertEqual(l, 0)
            self.assertRegex(t, r"\bnot\b|n't")
        for t, l in self.run_rule("not_very", 1):
            self.assertEqual(l, 1)
            self.assertNotRegex(t, r"\bnot\b|n't")

    def test_questions(self):
        rows = self.run_rule("question", 1) + self.run_rule("question", 0)
        for t, l in rows:
            if t.startswith("is ") and "good" in t:
                self.assertEqual(l, 0 if any(x in t for x in ("not", "hardly")) else 1, t)
            if t.startswith("is ") and "boring" in t:
                self.assertEqual(l, 1 if "not" in t else 0, t)
            self.assertIn("?", t)

    def test_expectation(self):
        for want in (0, 1):
            for t, l in self.run_rule("expectation", want):
                self.assertEqual(l, want)
                adj = "good" if "good" in t else "boring"
                flipped = "n't" in t or "not" in t
                self.assertEqual(l, (adj == "good") != flipped, t)

    def test_emoji(self):
        for want in (0, 1):
            for t, l in self.run_rule("emoji", want):
                self.assertEqual(l, want)
                self.assertTrue(any(e in t for e in (A.EMOJI_POS if want else A.EMOJI_NEG)), t)
                self.assertFalse(any(e in t for e in (A.EMOJI_NEG if want else A.EMOJI_POS)), t)


class TestGenerate(unittest.TestCase):
    def test_deterministic_and_seed_dependent(self):
        rows = tiny_rows()
        a, ca, _ = A.generate(rows, total=600, seed=3)
        b, cb, _ = A.generate(rows, total=600, seed=3)
        c, _, _ = A.generate(rows, total=600, seed=4)
        self.assertEqual(a, b)
        self.assertEqual(ca, cb)
        self.assertNotEqual(a, c)

    def test_deterministic_across_processes(self):
        """Same file for the same seed even with different hash seeds (no set-order dependence)."""
        with tempfile.TemporaryDirectory() as d:
            sst = os.path.join(d, "train.tsv")
            write_sst(sst, tiny_rows())
            outs = []
            for hs in ("1", "2"):
                out = os.path.join(d, f"o{hs}.tsv")
                env = dict(os.environ, PYTHONHASHSEED=hs)
                subprocess.run([sys.executable, os.path.join(TRAIN, "augment.py"), "--sst", sst, "--out", out,
                                "--n", "500", "--behaviour", ""], check=True, env=env, capture_output=True)
                outs.append(open(out, encoding="utf-8").read())
            self.assertEqual(outs[0], outs[1])
            lines = outs[0].splitlines()
            self.assertEqual(lines[0], "sentence\tlabel")
            for line in lines[1:]:
                s, l = line.split("\t")
                self.assertIn(l, ("0", "1"))
                self.assertTrue(s.strip())

    def test_no_duplicates_and_balance(self):
        ex, counts, _ = A.generate(tiny_rows(), total=800, seed=1)
        texts = [t.lower() for t, _, _ in ex]
        self.assertEqual(len(texts), len(set(texts)))
        pos = sum(l for _, l, _ in ex)
        self.assertLess(abs(pos / len(ex) - 0.5), 0.05)

    def test_behaviour_texts_are_filtered(self):
        rows = tiny_rows()
        ex, _, _ = A.generate(rows, total=400, seed=5)
        banned = [ex[0][0], ex[1][0].upper() + " ", "very good"]
        ex2, _, dropped = A.generate(rows, total=400, seed=5, behaviour_texts=banned)
        self.assertGreater(sum(dropped.values()), 0)
        bn = [A.norm(b) for b in banned]
        for t, _, _ in ex2:
            for b in bn:
                self.assertNotIn(b, A.norm(t))


@unittest.skipUnless(os.path.exists(SST) and os.path.exists(CASES), "needs SST-2 train and behaviour/cases.jsonl")
class TestAgainstBehaviourSet(unittest.TestCase):
    """The default augmentation never equals or contains a behaviour-set case (normalised text)."""

    @classmethod
    def setUpClass(cls):
        cls.cases = [json.loads(line)["text"] for line in open(CASES, encoding="utf-8") if line.strip()]
        cls.ex, _, _ = A.generate(A.read_sst(SST), total=40000, seed=1234, behaviour_texts=cls.cases)

    def test_default_keeps_out_every_case_file(self):
        blind = []
        for name in ("holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl"):
            path = os.path.join(TRAIN, "behaviour", name)
            blind += [json.loads(line)["text"] for line in open(path, encoding="utf-8") if line.strip()]
        self.assertEqual(A.load_behaviour(A.DEFAULT_BEHAVIOUR), self.cases + blind)

    def test_no_identical_text(self):
        cases = {A.norm(c) for c in self.cases} | {c.strip().lower() for c in self.cases}
        for t, _, _ in self.ex:
            self.assertNotIn(A.norm(t), cases)
            self.assertNotIn(t.strip().lower(), cases)

    def test_no_case_contained(self):
        cases = [A.norm(c) for c in self.cases]
        for t, _, _ in self.ex:
            n = A.norm(t)
            low = t.lower()
            for c, raw in zip(cases, self.cases):
                self.assertNotIn(c, n)
                self.assertNotIn(raw.strip().lower(), low)

    def test_templates_distinct_from_cases(self):
        """No case shares more than 60 % of its word trigrams with a single generated example."""
        index = {}
        for i, (t, _, _) in enumerate(self.ex):
            w = A.norm(t).split()
            for g in zip(w, w[1:], w[2:]):
                index.setdefault(g, []).append(i)
        for c in self.cases:
            w = A.norm(c).split()
            grams = set(zip(w, w[1:], w[2:]))
            if len(grams) < 2:
                continue
            hits = {}
            for g in grams:
                for i in index.get(g, ()):
                    hits[i] = hits.get(i, 0) + 1
            best = max(hits.values(), default=0)
            self.assertLessEqual(best / len(grams), 0.6, c)


if __name__ == "__main__":
    unittest.main()
