"""pipeline.load_packed's partial warm start (another FFF shape) and embed.py's retrieval measure and pair sources."""
import os
import sys
import tempfile
import unittest

from dataclasses import replace as dataclass_replace

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from embed import parse_sources, retrieval_eval  # noqa: E402
from pipeline import load_packed, load_sentences, quantized_state, stacked  # noqa: E402
from prepare_data import save_u16  # noqa: E402
from ufb.model import UFBConfig, UFBForMLM  # noqa: E402


def tiny(trees, depth, seed):
    torch.manual_seed(seed)
    cfg = UFBConfig(vocab_size=64, hidden_size=16, num_layers=2, num_heads=2, fff_trees=trees, fff_depth=depth,
                    max_seq_length=16)
    return UFBForMLM(cfg)


def packed_file(model, d):
    packed, _ = quantized_state(model)
    path = os.path.join(d, "w.q8.npz")
    np.savez(path, **packed)
    return path


class TestPartialWarmStart(unittest.TestCase):
    def test_other_tree_shape_keeps_fresh_trees_and_loads_the_rest(self):
        src, dst = tiny(2, 3, 0), tiny(1, 4, 1)
        fresh_before = {k: v.clone() for k, v in dst.state_dict().items()}
        with tempfile.TemporaryDirectory() as d:
            path = packed_file(src, d)
            fresh = load_packed(dst, path, partial=True)
            _, deq = quantized_state(src)  # what the file holds, dequantised
        self.assertEqual(sorted(fresh), sorted(f"encoder.layers.{i}.ffn.{n}" for i in range(2)
                                              for n in ("linear_in.weight", "linear_in.bias", "linear_out.weight")))
        sd = dst.state_dict()
        for k, v in sd.items():
            if k in fresh:
                self.assertTrue(torch.equal(v, fresh_before[k]), k)  # left at its own initialisation
            elif k != "decoder.weight":
                np.testing.assert_array_equal(v.numpy(), np.asarray(deq[k], dtype=np.float32), err_msg=k)
        # the MLM decoder stays tied to the (loaded) word embedding
        self.assertIs(dst.decoder.weight, dst.encoder.embedding.word_embedding.weight)

    def test_shape_mismatch_without_partial_is_an_error(self):
        src, dst = tiny(2, 3, 0), tiny(1, 4, 1)
        with tempfile.TemporaryDirectory() as d:
            path = packed_file(src, d)
            with self.assertRaises(Exception):
                load_packed(dst, path)


class TestStackedWarmStart(unittest.TestCase):
    def test_deeper_model_repeats_the_stack(self):
        src = tiny(2, 3, 0)
        dst = UFBForMLM(dataclass_replace(src.cfg, num_layers=4))
        with tempfile.TemporaryDirectory() as d:
            path = packed_file(src, d)
            fresh = load_packed(dst, path, stack=True)
        self.assertEqual(fresh, [])
        sd = dst.state_dict()
        for k, v in sd.items():
            if k.startswith("encoder.layers.2.") or k.startswith("encoder.layers.3."):
                twin = k.replace("layers.2.", "layers.0.").replace("layers.3.", "layers.1.")
                self.assertTrue(torch.equal(v, sd[twin]), k)
        # the two source layers differ, so the check above compares real copies
        self.assertFalse(torch.equal(sd["encoder.layers.0.ffn.linear_in.weight"], sd["encoder.layers.1.ffn.linear_in.weight"]))

    def test_a_deeper_file_is_never_cut_to_the_model(self):
        src = UFBForMLM(dataclass_replace(tiny(2, 3, 0).cfg, num_layers=4))
        with tempfile.TemporaryDirectory() as d:
            path = packed_file(src, d)
            with self.assertRaises(ValueError):
                load_packed(tiny(2, 3, 1), path)

    def test_depth_must_be_a_multiple(self):
        with self.assertRaises(ValueError):
            stacked({"encoder.layers.0.x": 0, "encoder.layers.1.x": 1}, 3)


class TestDistillSentences(unittest.TestCase):
    def test_sentences_start_at_each_cls(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "distill.u16.xz")
            save_u16(path, np.array([2, 50, 51, 3, 2, 60, 3, 2, 70, 71, 72, 3]))
            ids, lengths, labels = load_sentences(path, cls_id=2, pad=0, device="cpu")
        self.assertEqual(lengths.tolist(), [4, 3, 5])
        self.assertEqual(ids.tolist(), [[2, 50, 51, 3, 0], [2, 60, 3, 0, 0], [2, 70, 71, 72, 3]])
        self.assertEqual(labels.tolist(), [0, 0, 0])


class TestRetrievalEval(unittest.TestCase):
    def test_recall_and_ties(self):
        # token id -> a fixed direction through a stub encoder: the mean-pooled vector of [t] is e_t
        class Stub(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = lambda ids, mask: torch.nn.functional.one_hot(ids, 4).float()

        corpus = [[0], [1], [2], [1]]  # index 1 and 3 are the same sentence
        rset = {"queries": [{"q": [1], "rel": 3},   # ties with index 1, which comes first: rank 1 (not a hit at 1)
                            {"q": [2], "rel": 2},   # exact: rank 0
                            {"q": [0], "rel": 1}],  # orthogonal to its relevant, which sentence 0 outscores: rank 1
                "corpus": corpus}
        got = retrieval_eval(Stub(), rset, "cpu")
        self.assertAlmostEqual(got["recall_at_1"], 1 / 3)
        self.assertAlmostEqual(got["recall_at_10"], 1.0)
        self.assertEqual((got["queries"], got["corpus"]), (3, 4))


class TestParseSources(unittest.TestCase):
    def test_weights_and_unknown_names(self):
        avail = {"qnli": [], "mrpc": []}
        self.assertEqual(parse_sources("qnli,mrpc:2.5", avail), [("qnli", 1.0), ("mrpc", 2.5)])
        self.assertEqual(parse_sources("", avail), [])
        with self.assertRaises(SystemExit):
            parse_sources("qqp", avail)


if __name__ == "__main__":
    unittest.main()


class EnsembleLogitsTest(unittest.TestCase):
    def test_mean_of_log_probabilities(self):
        from ensemble_logits import ensemble
        a = np.array([[0.0, 2.0], [1.0, 1.0]], dtype=np.float32)
        b = np.array([[3.0, 3.0], [5.0, 1.0]], dtype=np.float32)  # a shift of a row's logits changes nothing
        got = ensemble([a, b])
        # hand-computed: row 0: log-probs a (-2.127, -0.127), b (-0.693, -0.693); row 1: a (-0.693, -0.693),
        # b (-0.0181, -4.0181)
        want = np.array([[(-2.126928 - 0.693147) / 2, (-0.126928 - 0.693147) / 2],
                         [(-0.693147 - 0.018150) / 2, (-0.693147 - 4.018150) / 2]])
        np.testing.assert_allclose(got, want, atol=1e-5)
        self.assertEqual(got.dtype, np.float32)
        np.testing.assert_allclose(ensemble([a + 7.0]), ensemble([a]), atol=1e-6)

    def test_refuses_teachers_of_different_sentences(self):
        from ensemble_logits import ensemble
        with self.assertRaises(ValueError):
            ensemble([np.zeros((3, 2)), np.zeros((4, 2))])


class PaddedRowsTest(unittest.TestCase):
    def test_rows_cut_to_their_longest_with_mask(self):
        from train import padded_rows
        ids = torch.tensor([[2, 5, 6, 3, 0], [2, 7, 3, 0, 0], [2, 8, 9, 10, 3]])
        lens = torch.tensor([4, 3, 5])
        got_ids, got_mask = padded_rows(ids, lens, torch.tensor([1, 0]))
        self.assertEqual(got_ids.tolist(), [[2, 7, 3, 0], [2, 5, 6, 3]])
        self.assertEqual(got_mask.tolist(), [[1, 1, 1, 0], [1, 1, 1, 1]])
        got_ids, got_mask = padded_rows(ids, lens, slice(1, 3))
        self.assertEqual(got_ids.tolist(), [[2, 7, 3, 0, 0], [2, 8, 9, 10, 3]])
        self.assertEqual(got_mask.tolist(), [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
