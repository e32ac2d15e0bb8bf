"""The Python twin of the ufb-uncased-v2 tokenizer still gives the committed ids (stdlib only):

    cd train && /usr/bin/python3 -m unittest tests.test_text_v2 -v
"""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
ROOT = os.path.dirname(os.path.dirname(HERE))

from ufb.text_v2 import TokenizerV2  # noqa: E402

CASES = os.path.join(ROOT, "test", "fixtures", "tokenizer-v2", "cases.json")


class TextV2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(CASES, encoding="utf-8") as f:
            cls.cases = json.load(f)
        cls.tok = TokenizerV2.from_file(os.path.join(ROOT, cls.cases["tokenizer"]))

    def test_committed_ids(self):
        c = self.cases
        self.assertGreaterEqual(len(c["texts"]), 300)
        self.assertEqual(self.tok.rules.version, c["rules_version"])
        bad = []
        for t, ids, n in zip(c["texts"], c["ids"], c["content_tokens"]):
            got = self.tok.encode(t)
            if got != ids or self.tok.content_tokens(t) != n:
                bad.append((t, got, ids))
        self.assertEqual(bad, [])

    def test_names_and_no_content(self):
        tok = self.tok
        self.assertEqual(" ".join(tok.tokens(tok.encode("👎 :) ★★★★☆"))),
                         "<cls> thumbs down slightly smiling face four out of five stars <sep>")
        for t in ["", " \t", "\u200b\u200d", "\ufeff\u2060", "\x00\x07"]:
            self.assertEqual(tok.content_tokens(t), 0, repr(t))
        for t in ["中", "😍", "я", "<unk>"]:
            self.assertGreater(tok.content_tokens(t), 0, repr(t))

    def test_js_whitespace_not_python_isspace(self):
        # U+001C is a space for str.isspace but a control character for the JS library: deleted, so the
        # two letters join; U+0085 likewise
        self.assertEqual(self.tok.encode("a\x1cb"), self.tok.encode("ab"))
        self.assertEqual(self.tok.encode("a\x85b"), self.tok.encode("ab"))


if __name__ == "__main__":
    unittest.main()
