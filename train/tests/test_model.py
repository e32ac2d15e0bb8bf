"""Python-side tests (CPU, torch only; no `tokenizers`, no `safetensors`):

    cd train && /usr/bin/python3 -m unittest discover -s tests -v
"""
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
ROOT = os.path.dirname(os.path.dirname(HERE))

from ufb.export import config_from_arch, export_checkpoint, load_checkpoint, read_safetensors, write_safetensors  # noqa: E402
from ufb.model import UFBConfig, UFBForMLM, UFBForSequenceClassification, classifier_from_mlm  # noqa: E402
from ufb.wordpiece import WordPiece, load_vocab_from_tokenizer_json  # noqa: E402

FIXTURES = os.path.join(ROOT, "test", "fixtures", "reference")


def run_with_paths(model, ids, mask=None):
    trace = []
    h = model.encoder(ids, mask, use_sdpa=False, conditional=True, trace=trace)
    return h, trace


class TestFixtures(unittest.TestCase):
    """Our model reproduces the upstream reference model's outputs (hidden states, MLM logits, FFF paths)."""

    def check_fixture(self, name):
        d = os.path.join(FIXTURES, name)
        model = load_checkpoint(d).double()
        with open(os.path.join(d, "expected.json")) as f:
            exp = json.load(f)
        for case in exp["cases"]:
            ids = torch.tensor(case["input_ids"])
            mask = torch.tensor(case["attention_mask"]) if case["attention_mask"] is not None else None
            with torch.no_grad():
                h_dense = model.encoder(ids, mask, use_sdpa=False)
                h, trace = run_with_paths(model, ids, mask)
            want = torch.tensor(case["hidden_states"], dtype=torch.float64)
            self.assertLess((h - want).abs().max().item(), 1e-4, case["name"])
            self.assertLess((h_dense - h).abs().max().item(), 1e-9, case["name"])
            for (b, s), logits in zip(case["mlm_positions"], case["mlm_logits"]):
                got = h[b, s] @ model.decoder.weight.T
                self.assertLess((got - torch.tensor(logits, dtype=torch.float64)).abs().max().item(), 1e-4)
            paths = torch.stack([p for p, _ in trace])  # [L, B, S, K, D+1]
            self.assertEqual(paths.tolist(), case["fff_paths"], case["name"])
            plog = torch.stack([l for _, l in trace])
            self.assertLess((plog - torch.tensor(case["fff_path_logits"], dtype=torch.float64)).abs().max().item(), 1e-4)

    def test_tiny(self):
        self.check_fixture("tiny")

    def test_trees(self):
        self.check_fixture("trees")

    def test_sinusoid(self):
        with open(os.path.join(FIXTURES, "tiny", "expected.json")) as f:
            exp = json.load(f)
        model = load_checkpoint(os.path.join(FIXTURES, "tiny"))
        pe = model.encoder.embedding.pos_embedding.pe
        self.assertEqual(pe.tolist(), exp["sinusoid_table"])


class TestFFF(unittest.TestCase):
    def test_conditional_equals_masked(self):
        torch.manual_seed(0)
        for K, D in ((1, 0), (1, 5), (3, 3), (8, 2)):
            cfg = UFBConfig(vocab_size=50, hidden_size=32, num_layers=2, num_heads=4, fff_trees=K, fff_depth=D, max_seq_length=16)
            m = UFBForMLM(cfg).double().eval()
            for p in m.parameters():  # larger, non-trivial weights and biases
                torch.nn.init.normal_(p, std=0.3)
            x = torch.randn(5, 7, 32, dtype=torch.float64)
            ffn = m.encoder.layers[0].ffn
            y_mask = ffn(x)
            y_cond, paths, _ = ffn.forward_conditional(x)
            self.assertLess((y_mask - y_cond).abs().max().item(), 1e-10)
            self.assertEqual(paths.shape, (35, K, D + 1))
            # paths are valid heap walks: level d node in [2^d-1, 2^(d+1)-2], child of the previous one
            for d in range(1, D + 1):
                prev, cur = paths[..., d - 1], paths[..., d]
                self.assertTrue(bool(((cur == 2 * prev + 1) | (cur == 2 * prev + 2)).all()))
            # whole model
            ids = torch.randint(0, 50, (3, 9))
            mask = torch.ones(3, 9, dtype=torch.long)
            mask[1, 6:] = 0
            with torch.no_grad():
                a = m.encoder(ids, mask, use_sdpa=False)
                b = m.encoder(ids, mask, use_sdpa=False, conditional=True)
            self.assertLess((a - b).abs().max().item(), 1e-10)

    def test_gathered_equals_masked_values_and_gradients(self):
        """The trainable path-only forward gives the masked forward's outputs and every gradient."""
        torch.manual_seed(2)
        for K, D, dense in ((1, 0, 6), (1, 5, 1), (2, 5, 3), (3, 4, 6), (2, 7, 2)):
            cfg = UFBConfig(vocab_size=50, hidden_size=16, num_layers=1, num_heads=2, fff_trees=K, fff_depth=D,
                            max_seq_length=16, fff_dense_levels=dense)
            ffn = UFBForMLM(cfg).double().encoder.layers[0].ffn
            for p in ffn.parameters():
                torch.nn.init.normal_(p, std=0.5)
            x = torch.randn(4, 9, 16, dtype=torch.float64)
            upstream = torch.randn(4, 9, 16, dtype=torch.float64)
            outs, grads = [], []
            for mode in ("masked", "gathered"):
                ffn.train_mode = mode
                ffn.zero_grad()
                xi = x.clone().requires_grad_(True)
                y = ffn(xi)
                (y * upstream).sum().backward()
                outs.append(y.detach())
                grads.append([xi.grad] + [p.grad.clone() for p in (ffn.linear_in.weight, ffn.linear_in.bias, ffn.linear_out.weight)])
            self.assertLess((outs[0] - outs[1]).abs().max().item(), 1e-10, (K, D, dense))
            for name, a, b in zip(("x", "W_in", "b_in", "W_out"), grads[0], grads[1]):
                self.assertLess((a - b).abs().max().item(), 1e-10, (K, D, dense, name))
            # off-path rows get no gradient: at most (D+1) rows per token and tree are touched
            touched = int((grads[1][1].abs().sum(1) > 0).sum())
            self.assertLessEqual(touched, min(K * cfg.fff_nodes, 36 * K * (D + 1)))

    def test_padding_invariance(self):
        torch.manual_seed(1)
        cfg = UFBConfig(vocab_size=50, hidden_size=32, num_layers=2, num_heads=4, fff_trees=2, fff_depth=3,
                        max_seq_length=16, num_labels=2, head_dim=24)
        m = UFBForSequenceClassification(cfg).double().eval()
        ids = torch.randint(0, 50, (1, 6))
        padded = torch.cat([ids, torch.zeros(1, 4, dtype=torch.long)], 1)
        mask = torch.cat([torch.ones(1, 6), torch.zeros(1, 4)], 1).long()
        with torch.no_grad():
            a, _ = m(ids, use_sdpa=False)
            b, _ = m(padded, mask, use_sdpa=False)
        self.assertLess((a - b).abs().max().item(), 1e-9)


class TestExport(unittest.TestCase):
    def test_safetensors_roundtrip_fixture(self):
        src = os.path.join(FIXTURES, "trees", "model.safetensors")
        t = read_safetensors(src)
        self.assertEqual(t["encoder.layers.0.attn.self_attention.norm_factor"].shape, ())
        with tempfile.TemporaryDirectory() as d:
            write_safetensors(t, os.path.join(d, "m.safetensors"))
            t2 = read_safetensors(os.path.join(d, "m.safetensors"))
        self.assertEqual(sorted(t), sorted(t2))
        for k in t:
            self.assertTrue(np.array_equal(t[k], t2[k]), k)

    def test_classifier_export_import(self):
        torch.manual_seed(2)
        cfg = UFBConfig(vocab_size=60, hidden_size=32, num_layers=2, num_heads=2, fff_trees=2, fff_depth=2, max_seq_length=16)
        mlm = UFBForMLM(cfg)
        clf = classifier_from_mlm(mlm, num_labels=2, head_dim=20, pooler="zero_index").eval()
        tok = os.path.join(FIXTURES, "tiny", "tokenizer.json")
        with tempfile.TemporaryDirectory() as d:
            export_checkpoint(clf, d, tok, {0: "negative", 1: "positive"})
            keys = sorted(read_safetensors(os.path.join(d, "model.safetensors")))
            with open(os.path.join(d, "config.json")) as f:
                config = json.load(f)
            back = load_checkpoint(d)
        self.assertIn("pooler.dense.weight", keys)
        self.assertIn("head.bias", keys)
        self.assertNotIn("decoder.weight", keys)
        self.assertIn("encoder.layers.1.attn.self_attention.norm_factor", keys)
        self.assertEqual(config["id2label"], {"0": "negative", "1": "positive"})
        self.assertEqual(config["arch"]["classification_head"]["pooler"], "zero_index")
        self.assertEqual(config["arch"]["classification_head"]["head_dim"], 20)
        self.assertEqual(config["arch"]["num_labels"], 2)
        self.assertEqual(config_from_arch(config["arch"]), clf.cfg)
        ids = torch.randint(0, 60, (2, 7))
        with torch.no_grad():
            a, _ = clf(ids, use_sdpa=False)
            b, _ = back(ids, use_sdpa=False)
        self.assertTrue(torch.equal(a, b))
        for k, v in clf.state_dict().items():
            self.assertTrue(torch.equal(v, back.state_dict()[k]), k)

    def test_mlm_export_has_both_copies(self):
        cfg = UFBConfig(vocab_size=40, hidden_size=16, num_layers=1, num_heads=2, fff_trees=1, fff_depth=2, max_seq_length=8)
        m = UFBForMLM(cfg)
        with tempfile.TemporaryDirectory() as d:
            export_checkpoint(m, d, None)
            t = read_safetensors(os.path.join(d, "model.safetensors"))
            back = load_checkpoint(d)
        self.assertTrue(np.array_equal(t["decoder.weight"], t["encoder.embedding.word_embedding.weight"]))
        self.assertIs(back.decoder.weight, back.encoder.embedding.word_embedding.weight)


class TestTokenizer(unittest.TestCase):
    def test_fixture_tokenizer_cases(self):
        for name in ("tiny", "trees"):
            wp = WordPiece(load_vocab_from_tokenizer_json(os.path.join(FIXTURES, name, "tokenizer.json")))
            with open(os.path.join(FIXTURES, name, "tokenizer-expected.json")) as f:
                exp = json.load(f)
            for c in exp["cases"]:  # fixture template: single "$A <sep>"
                self.assertEqual(wp.encode_plain(c["text"]) + [wp.sep], c["ids"], c["name"])


if __name__ == "__main__":
    unittest.main()
