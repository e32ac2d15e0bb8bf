"""train/candidates.py: argument parsing, the count table, and one real run through the engine on the tiny package."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
ROOT = os.path.dirname(os.path.dirname(HERE))

import candidates  # noqa: E402

TINY = os.path.join(ROOT, "weights", "tiny-synthetic")


class TestParsing(unittest.TestCase):
    def test_name_may_hold_spaces_commas_and_equals(self):
        self.assertEqual(candidates.named("the four + shipped (1,1,1,1,4)=.train-out/pkg/soup8", "package"),
                         ("the four + shipped (1,1,1,1,4)", ".train-out/pkg/soup8"))
        self.assertEqual(candidates.named("a=b=c", "package"), ("a=b", "c"))

    def test_refuses_a_spec_without_name_or_path(self):
        for bad in ("weights/ufb-sst2-2x9", "=weights/x", "name="):
            with self.assertRaises(SystemExit):
                candidates.named(bad, "package")

    def test_counts_are_correct_over_n_sorted_by_phenomenon(self):
        table = {"negation": {"n": 40, "correct": 37, "accuracy": 0.925}, "all": {"n": 370, "correct": 336, "accuracy": 0.9}}
        self.assertEqual(list(candidates.counts(table).items()), [("all", "336/370"), ("negation", "37/40")])


@unittest.skipUnless(shutil.which("npx") and os.path.exists(os.path.join(TINY, "manifest.json")), "needs npx and weights/tiny-synthetic")
class TestThroughTheEngine(unittest.TestCase):
    def test_a_set_of_contradicting_pairs_scores_exactly_half(self):
        # every text twice, once per label: whatever the model says, exactly one of each pair is right
        texts = ["the film was fine", "a dull and tired plot", "I loved the music", "not worth the ticket"]
        with tempfile.TemporaryDirectory() as tmp:
            cases = os.path.join(tmp, "pairs.jsonl")
            with open(cases, "w") as f:
                for i, t in enumerate(texts):
                    for label in (0, 1):
                        f.write(json.dumps({"id": f"p{i}-{label}", "phenomenon": "pair", "text": t, "label": label}) + "\n")
            out = os.path.join(tmp, "rows.json")
            subprocess.run([sys.executable, os.path.join(ROOT, "train", "candidates.py"), "--out", out,
                            f"tiny, synthetic={os.path.relpath(TINY)}", "--set", f"pairs={cases}"],
                           check=True, capture_output=True, text=True)
            with open(out) as f:
                rows = json.load(f)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["candidate"], "tiny, synthetic")
        self.assertEqual(rows[0]["pairs"], {"all": "4/8", "pair": "4/8"})
        with open(os.path.join(ROOT, "test", "data", "sst2-dev.tsv")) as f:
            n = sum(1 for line in f if line.strip()) - 1
        self.assertTrue(rows[0]["sst2_dev"].endswith(f"/{n}"), rows[0]["sst2_dev"])
        cases_all = rows[0]["cases"].pop("all")
        total = [sum(int(v.split("/")[i]) for v in rows[0]["cases"].values()) for i in (0, 1)]
        self.assertEqual(cases_all, f"{total[0]}/{total[1]}")

    def test_a_missing_set_file_is_an_error(self):
        r = subprocess.run([sys.executable, os.path.join(ROOT, "train", "candidates.py"), "--out", os.devnull,
                            f"tiny={TINY}", "--set", "gone=no/such/file.jsonl"], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no/such/file.jsonl", r.stderr)


if __name__ == "__main__":
    unittest.main()
