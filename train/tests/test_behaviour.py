"""Tests of the behaviour set (format, balance) and its scorer (stdlib only):

    cd train && /usr/bin/python3 -m unittest tests.test_behaviour -v
"""
import collections
import io
import json
import os
import re
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TRAIN, "behaviour"))

import score as S  # noqa: E402

CASES = os.path.join(TRAIN, "behaviour", "cases.jsonl")
TINY = [
    {"id": "neg-001", "phenomenon": "negation", "text": "not bad at all", "label": 1},
    {"id": "neg-002", "phenomenon": "negation", "text": "not a good read", "label": 0},
    {"id": "emo-001", "phenomenon": "emoji", "text": "👍", "label": 1},
    {"id": "emo-002", "phenomenon": "emoji", "text": "👎", "label": 0},
    {"id": "emo-003", "phenomenon": "emoji", "text": ":)", "label": 1},
]


class TestCasesFile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(CASES, encoding="utf-8") as f:
            cls.lines = [line for line in f if line.strip()]
        cls.cases = [json.loads(line) for line in cls.lines]

    def test_format(self):
        self.assertGreaterEqual(len(self.cases), 360)
        ids = [c["id"] for c in self.cases]
        self.assertEqual(len(ids), len(set(ids)))
        for c in self.cases:
            self.assertEqual(set(c), {"id", "phenomenon", "text", "label"})
            self.assertIn(c["label"], (0, 1))
            self.assertRegex(c["id"], r"^[a-z]+-\d{3}$")
            self.assertEqual(c["text"], c["text"].strip())
            self.assertTrue(c["text"])
        texts = [c["text"].lower() for c in self.cases]
        self.assertEqual(len(texts), len(set(texts)))

    def test_grouped_and_balanced(self):
        by = collections.OrderedDict()
        for c in self.cases:
            by.setdefault(c["phenomenon"], []).append(c["label"])
        order = [c["phenomenon"] for c in self.cases]
        self.assertEqual(order, sorted(order, key=list(by).index))          # contiguous groups
        for ph, labels in by.items():
            self.assertGreaterEqual(len(labels), 30, ph)
            self.assertEqual(sum(labels) * 2, len(labels), ph)             # balanced
        for ph in ("negation", "negated-expectation", "contrast", "used-to", "intensifier-diminisher",
                   "question", "double-negation", "emoji", "other-script-and-accents", "typos-and-casing",
                   "neutral-context"):
            self.assertIn(ph, by)

    def test_other_script_has_non_latin(self):
        texts = [c["text"] for c in self.cases if c["phenomenon"] == "other-script-and-accents"]
        self.assertGreaterEqual(sum(1 for t in texts if re.search(r"[\u0370-\u03ff\u0400-\u04ff\u0590-\u06ff"
                                                                  r"\u3040-\u9fff\uac00-\ud7af]", t)), 5)


class TestScore(unittest.TestCase):
    def test_label_forms(self):
        self.assertEqual(S.to_label(1), 1)
        self.assertEqual(S.to_label("Positive"), 1)
        self.assertEqual(S.to_label("LABEL_0"), 0)
        self.assertEqual(S.to_label(0.5), 1)
        self.assertEqual(S.to_label(0.49), 0)
        self.assertEqual(S.to_label([2.0, -1.0]), 0)
        self.assertEqual(S.to_label({"label": "negative", "score": 0.9}), 0)
        self.assertEqual(S.to_label({"probs": [0.1, 0.9]}), 1)
        for bad in (2, 1.5, "meh", [1, 2, 3], {"x": 1}):
            with self.assertRaises(ValueError):
                S.to_label(bad)

    def test_tiny(self):
        preds = {"neg-001": 0, "neg-002": 0, "emo-001": 0.9, "emo-002": [0.3, 0.7], "zzz-999": 1}
        res = S.score(TINY, preds)
        self.assertEqual(res["phenomena"]["negation"]["correct"], 1)
        self.assertAlmostEqual(res["phenomena"]["negation"]["accuracy"], 0.5)
        self.assertEqual(res["phenomena"]["emoji"]["correct"], 1)               # emo-002 wrong, emo-003 missing
        self.assertEqual(res["phenomena"]["emoji"]["missing"], 1)
        self.assertEqual(res["overall"]["correct"], 2)
        self.assertAlmostEqual(res["overall"]["accuracy"], 0.4)
        self.assertAlmostEqual(res["overall"]["macro_accuracy"], (0.5 + 1 / 3) / 2)
        self.assertEqual(res["errors"], ["neg-001", "emo-002", "emo-003"])
        self.assertEqual(res["missing"], ["emo-003"])
        self.assertEqual(res["unknown_ids"], ["zzz-999"])
        t = S.table(res, "tiny")
        self.assertIn("negation", t)
        self.assertIn("50.0", t)
        self.assertIn("40.0", t)

    def test_cli_json_and_jsonl(self):
        with tempfile.TemporaryDirectory() as d:
            cases = os.path.join(d, "cases.jsonl")
            with open(cases, "w", encoding="utf-8") as f:
                for c in TINY:
                    f.write(json.dumps(c, ensure_ascii=False) + "\n")
            pj = os.path.join(d, "p.json")
            with open(pj, "w") as f:
                json.dump({c["id"]: c["label"] for c in TINY}, f)
            pl = os.path.join(d, "p.jsonl")
            with open(pl, "w") as f:
                for c in TINY:
                    f.write(json.dumps({"id": c["id"], "prob": 0.8 if c["label"] else 0.1}) + "\n")
            pw = os.path.join(d, "p_wrapped.json")
            with open(pw, "w") as f:
                json.dump({"predictions": [{"id": c["id"], "label": "positive" if c["label"] else "negative"}
                                           for c in TINY]}, f)
            for p in (pj, pl, pw):
                out = os.path.join(d, "r.json")
                buf = io.StringIO()
                with redirect_stdout(buf):
                    S.main([p, "--cases", cases, "--out", out, "--name", "oracle"])
                r = json.load(open(out, encoding="utf-8"))
                self.assertEqual(r["model"], "oracle")
                self.assertEqual(r["overall"]["accuracy"], 1.0)
                self.assertEqual(r["errors"], [])
                self.assertIn("100.0", buf.getvalue())


HOLDOUT = os.path.join(TRAIN, "behaviour", "holdout.jsonl")
HOLDOUT2 = os.path.join(TRAIN, "behaviour", "holdout2.jsonl")
HOLDOUT3 = os.path.join(TRAIN, "behaviour", "holdout3.jsonl")
NEGATION_PREFIX = {"neg": "negation", "dneg": "double-negation", "nexp": "negated-expectation",
                   "scope": "negation-scope"}


def _norm(text):
    return " ".join(text.lower().split())


class NegationHoldoutChecks:
    """The blind negation hold-outs: format, ids, counts, balance, no overlap with the earlier sets."""
    PATH, TAG, COUNTS, EARLIER = None, None, None, ()

    @classmethod
    def setUpClass(cls):
        with open(cls.PATH, encoding="utf-8") as f:
            cls.lines = [line.rstrip("\n") for line in f]
        cls.cases = [json.loads(line) for line in cls.lines]

    def test_format(self):
        for line, c in zip(self.lines, self.cases):
            self.assertTrue(line.strip(), "blank line")
            self.assertEqual(list(c), ["id", "phenomenon", "text", "label"])
            self.assertIsInstance(c["text"], str)
            self.assertEqual(c["text"], c["text"].strip())
            self.assertIn(c["label"], (0, 1))
            self.assertNotIsInstance(c["label"], bool)
            self.assertEqual(line, json.dumps(c, ensure_ascii=False))
            self.assertTrue(5 <= len(c["text"].split()) <= 40, c["id"])

    def test_ids(self):
        ids = [c["id"] for c in self.cases]
        self.assertEqual(len(ids), len(set(ids)))
        for c in self.cases:
            m = re.match(rf"^{self.TAG}-(neg|dneg|nexp|scope)-\d{{3}}$", c["id"])
            self.assertIsNotNone(m, c["id"])
            self.assertEqual(NEGATION_PREFIX[m.group(1)], c["phenomenon"], c["id"])

    def test_counts_and_balance(self):
        by = collections.defaultdict(list)
        for c in self.cases:
            by[c["phenomenon"]].append(c["label"])
        self.assertEqual({ph: len(v) for ph, v in by.items()}, self.COUNTS)
        for ph, labels in by.items():
            self.assertLessEqual(abs(sum(labels) * 2 - len(labels)), 1, ph)   # exact halves (odd n: off by one)
        self.assertEqual(len(self.cases), sum(self.COUNTS.values()))

    def test_texts_unique(self):
        texts = [c["text"].lower() for c in self.cases]
        self.assertEqual(len(texts), len(set(texts)))

    def test_no_overlap_with_other_sets(self):
        # Compares normalised texts only; the other sets' texts are never printed.
        other = set()
        for path in self.EARLIER:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        other.add(_norm(json.loads(line)["text"]))
        self.assertGreaterEqual(len(other), 500)                            # the files were read
        clashes = [c["id"] for c in self.cases if _norm(c["text"]) in other]
        self.assertEqual(clashes, [], f"{self.TAG} ids whose text equals a case of an earlier set")


class TestHoldout2File(NegationHoldoutChecks, unittest.TestCase):
    PATH, TAG, EARLIER = HOLDOUT2, "h2", (CASES, HOLDOUT)
    COUNTS = {"negation": 100, "double-negation": 60, "negated-expectation": 30, "negation-scope": 30}


class TestHoldout3File(NegationHoldoutChecks, unittest.TestCase):
    PATH, TAG, EARLIER = HOLDOUT3, "h3", (CASES, HOLDOUT, HOLDOUT2)
    COUNTS = {"negation": 100, "double-negation": 50, "negated-expectation": 45, "negation-scope": 45}


if __name__ == "__main__":
    unittest.main()
