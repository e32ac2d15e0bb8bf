"""The hand-written retrieval development set (train/retrieval-dev/) is well formed (stdlib only):

    cd train && /usr/bin/python3 -m unittest tests.test_retrieval_dev -v
"""
import collections
import json
import os
import re
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DEV = os.path.join(os.path.dirname(HERE), "retrieval-dev")
QUERIES = os.path.join(DEV, "queries.jsonl")
HARD = os.path.join(DEV, "hard-negatives.jsonl")
# the test set this dev set stands in for while recipes are chosen (only compared, never shown)
TEST = os.path.join(os.path.dirname(os.path.dirname(HERE)), "test", "data", "retrieval")

TOPICS = {"film", "food", "travel", "tech", "sport", "sci", "health", "home", "fin", "weather", "pet", "music",
          "edu", "car", "garden", "hist", "shop", "work", "law"}
RELEVANT_WORDS = (10, 35)
QUERY_WORDS = (2, 20)
HARD_WORDS = (8, 40)

# the word-overlap measure of README.md: the share of a query's content-word stems found in its relevant sentence
STOP = set("a an the is are was were be been to of in on at for with and or but if do does did i my me you your it its "
           "this that how what why when where who which should can could would will not no from by as so than then "
           "about after before into out up off over all any some there their they them we our has have had too very "
           "just get".split())
# for "a hard negative shares a word with its query": only the commonest function words are left out ("will" counts)
FUNCTION = set("a an the is are was were be to of in on at for and or i my me you your it do does how what why when "
               "should can".split())


def stems(text, stop=STOP):
    out = set()
    for w in re.findall(r"[a-z0-9]+", text.lower()):
        if w in stop:
            continue
        for suf in ("ing", "ed", "s"):
            if len(w) > len(suf) + 2 and w.endswith(suf) and not w.endswith("ss"):
                w = w[:-len(suf)]
                break
        out.add(w[:5])
    return out


def overlap_bucket(query, relevant):
    q = stems(query)
    f = len(q & stems(relevant)) / max(1, len(q))
    return "much" if f >= 0.6 else "some" if f >= 0.25 else "none"


def norm(text):
    return " ".join(text.lower().split())


def words(text):
    return len(text.split())


def read_jsonl(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            assert line.strip(), f"{path}:{n}: blank line"
            rows.append(json.loads(line))
    return rows


class RetrievalDevTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.queries = read_jsonl(QUERIES)
        cls.hard = read_jsonl(HARD)

    def test_queries_shape_and_ids(self):
        self.assertGreaterEqual(len(self.queries), 170)
        ids = [q["id"] for q in self.queries]
        self.assertEqual(len(ids), len(set(ids)), [i for i, c in collections.Counter(ids).items() if c > 1])
        per_topic = collections.Counter()
        for q in self.queries:
            self.assertEqual(set(q), {"id", "query", "relevant"}, q)
            self.assertTrue(all(isinstance(v, str) and v == v.strip() and v for v in q.values()), q)
            m = re.fullmatch(r"([a-z]+)-(\d{2})", q["id"])
            self.assertIsNotNone(m, q["id"])
            self.assertIn(m.group(1), TOPICS, q["id"])
            per_topic[m.group(1)] += 1
        self.assertEqual(set(per_topic), TOPICS)
        for t, n in per_topic.items():
            self.assertTrue(8 <= n <= 11, (t, n))

    def test_lengths(self):
        bad = [(q["id"], "query", words(q["query"])) for q in self.queries
               if not QUERY_WORDS[0] <= words(q["query"]) <= QUERY_WORDS[1]]
        bad += [(q["id"], "relevant", words(q["relevant"])) for q in self.queries
                if not RELEVANT_WORDS[0] <= words(q["relevant"]) <= RELEVANT_WORDS[1]]
        bad += [(h["query"], "hard negative", words(h["text"])) for h in self.hard
                if not HARD_WORDS[0] <= words(h["text"]) <= HARD_WORDS[1]]
        self.assertEqual(bad, [])

    def test_no_duplicates(self):
        rel = [norm(q["relevant"]) for q in self.queries]
        self.assertEqual([r for r, c in collections.Counter(rel).items() if c > 1], [])
        qs = [norm(q["query"]) for q in self.queries]
        self.assertEqual([r for r, c in collections.Counter(qs).items() if c > 1], [])
        self.assertEqual(sorted(set(qs) & set(rel)), [])

    def test_hard_negatives(self):
        self.assertGreaterEqual(len(self.hard), 30)
        by_id = {q["id"]: q for q in self.queries}
        rel = {norm(q["relevant"]) for q in self.queries}
        qs = {norm(q["query"]) for q in self.queries}
        texts = [norm(h["text"]) for h in self.hard]
        self.assertEqual(len(texts), len(set(texts)))
        for h in self.hard:
            self.assertEqual(set(h), {"query", "text"}, h)
            self.assertIn(h["query"], by_id, h)
            self.assertNotIn(norm(h["text"]), rel, h)
            self.assertNotIn(norm(h["text"]), qs, h)
            # a hard negative shares words with its query (it is on the query's topic)
            self.assertTrue(stems(h["text"], FUNCTION) & stems(by_id[h["query"]]["query"], FUNCTION), h)

    def test_disjoint_from_the_test_set(self):
        test = read_jsonl(os.path.join(TEST, "queries.jsonl"))
        test_texts = {norm(t[k]) for t in test for k in ("query", "relevant")}
        with open(os.path.join(TEST, "distractors.txt"), encoding="utf-8") as f:
            test_texts |= {norm(line) for line in f if line.strip()}
        ours = [norm(q[k]) for q in self.queries for k in ("query", "relevant")] + [norm(h["text"]) for h in self.hard]
        self.assertEqual(sum(t in test_texts for t in ours), 0)

    def test_overlap_spread(self):
        # about a third each of much / some / almost no word overlap between query and relevant sentence
        b = collections.Counter(overlap_bucket(q["query"], q["relevant"]) for q in self.queries)
        for k in ("much", "some", "none"):
            self.assertGreaterEqual(b[k], len(self.queries) // 4, dict(b))


if __name__ == "__main__":
    unittest.main()
