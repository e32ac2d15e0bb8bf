"""train/soup.py (weight averaging) and train/predict.py (CPU predictions of a checkpoint) on tiny classifiers."""
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

import predict  # noqa: E402
import soup  # noqa: E402
from ufb.export import export_checkpoint, load_checkpoint, read_safetensors, write_safetensors  # noqa: E402
from ufb.model import UFBConfig, UFBForMLM, classifier_from_mlm  # noqa: E402
from ufb.text_v2 import TokenizerV2  # noqa: E402

TOKENIZER = os.path.join(ROOT, "train", "tokenizer", "ufb-uncased-v2", "tokenizer.json")
VOCAB = len(json.load(open(TOKENIZER, encoding="utf-8"))["model"]["vocab"])


def tiny_classifier(seed: int, depth: int = 2, init_seed: int = 0):
    """A classifier fine-tuned (here: perturbed) from one shared random 'pretrained' encoder."""
    torch.manual_seed(init_seed)
    cfg = UFBConfig(vocab_size=VOCAB, hidden_size=16, num_layers=1, num_heads=2, fff_trees=2, fff_depth=depth,
                    max_seq_length=16)
    clf = classifier_from_mlm(UFBForMLM(cfg), num_labels=2, head_dim=8, pooler="zero_index")
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in clf.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    return clf.eval()


class TestSoup(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def export(self, name, model, tokenizer=TOKENIZER):
        path = os.path.join(self.d, name)
        export_checkpoint(model, path, tokenizer, {0: "negative", 1: "positive"})
        return path

    def test_uniform_soup_is_the_mean_of_every_tensor(self):
        a, b = self.export("a", tiny_classifier(1)), self.export("b", tiny_classifier(2))
        record = soup.make_soup([a, b], os.path.join(self.d, "s"))
        ta, tb = (read_safetensors(os.path.join(p, "model.safetensors")) for p in (a, b))
        ts = read_safetensors(os.path.join(self.d, "s", "model.safetensors"))
        self.assertEqual(set(ts), set(ta))
        for k in ta:
            np.testing.assert_allclose(ts[k], (ta[k].astype(np.float64) + tb[k]) / 2, rtol=0, atol=1e-7, err_msg=k)
        self.assertFalse(np.array_equal(ts["head.weight"], ta["head.weight"]))
        self.assertEqual([i["checkpoint"] for i in record["ingredients"]], ["a", "b"])
        with open(os.path.join(self.d, "s", "SOUP.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f), record)
        with open(os.path.join(a, "config.json")) as fa, open(os.path.join(self.d, "s", "config.json")) as fs:
            self.assertEqual(json.load(fa), json.load(fs))
        load_checkpoint(os.path.join(self.d, "s"))  # a checkpoint folder like any other

    def test_weights_are_normalised(self):
        a, b = self.export("a", tiny_classifier(1)), self.export("b", tiny_classifier(2))
        soup.make_soup([a, b], os.path.join(self.d, "s"), [3.0, 1.0])
        ta, tb = (read_safetensors(os.path.join(p, "model.safetensors")) for p in (a, b))
        ts = read_safetensors(os.path.join(self.d, "s", "model.safetensors"))
        k = "encoder.layers.0.ffn.linear_in.weight"
        np.testing.assert_allclose(ts[k], 0.75 * ta[k].astype(np.float64) + 0.25 * tb[k], rtol=0, atol=1e-7)

    def test_soup_of_one_is_the_checkpoint(self):
        a = self.export("a", tiny_classifier(1))
        soup.make_soup([a], os.path.join(self.d, "s"))
        ta = read_safetensors(os.path.join(a, "model.safetensors"))
        ts = read_safetensors(os.path.join(self.d, "s", "model.safetensors"))
        for k in ta:
            self.assertTrue(np.array_equal(ta[k], ts[k]), k)

    def test_refuses_what_cannot_be_averaged(self):
        a = self.export("a", tiny_classifier(1))
        deeper = self.export("deeper", tiny_classifier(2, depth=3))
        with self.assertRaises(SystemExit):
            soup.make_soup([a, deeper], os.path.join(self.d, "s1"))
        other_tok = os.path.join(self.d, "tok.json")
        with open(TOKENIZER, encoding="utf-8") as f:
            tok = json.load(f)
        tok["normalizer"] = None
        with open(other_tok, "w", encoding="utf-8") as f:
            json.dump(tok, f)
        b = self.export("b", tiny_classifier(2), other_tok)
        with self.assertRaises(SystemExit):
            soup.make_soup([a, b], os.path.join(self.d, "s2"))
        with self.assertRaises(SystemExit):
            soup.make_soup([a, a], os.path.join(self.d, "s3"), [1.0])
        self.assertFalse(any(os.path.exists(os.path.join(self.d, s)) for s in ("s1", "s2", "s3")))


    def unpacked(self, name, model, heads=None, tokenizer=TOKENIZER, labels=("negative", "positive")):
        """The layout `npx ufb unpack` writes (the end-to-end run through the CLI is in tiny_pipeline.py)."""
        path = os.path.join(self.d, name)
        os.makedirs(path)
        state = {k: v.detach().numpy() for k, v in model.state_dict().items() if not k.endswith(".norm_factor")}
        write_safetensors(state, os.path.join(path, "model.safetensors"))
        cfg = model.cfg
        config = {"hiddenSize": cfg.hidden_size, "numLayers": cfg.num_layers, "numHeads": heads or cfg.num_heads,
                  "fffTrees": cfg.fff_trees, "fffDepth": cfg.fff_depth, "vocabSize": cfg.vocab_size,
                  "maxSeqLength": cfg.max_seq_length, "kind": "classifier", "labels": list(labels)}
        with open(os.path.join(path, "package-config.json"), "w", encoding="utf-8") as f:
            json.dump({"name": name, "config": config}, f)
        if tokenizer:
            with open(tokenizer, "rb") as src, open(os.path.join(path, "tokenizer.json"), "wb") as dst:
                dst.write(src.read())
        return path

    def test_an_unpacked_package_joins_after_a_checkpoint(self):
        a = self.export("a", tiny_classifier(1))
        p = self.unpacked("p", tiny_classifier(2))
        record = soup.make_soup([a, p], os.path.join(self.d, "s"), [1.0, 3.0])
        ta, tp = (read_safetensors(os.path.join(x, "model.safetensors")) for x in (a, p))
        ts = read_safetensors(os.path.join(self.d, "s", "model.safetensors"))
        self.assertEqual(set(ts), set(ta))
        self.assertTrue(set(ta) - set(tp) and all(k.endswith(".norm_factor") for k in set(ta) - set(tp)))
        for k in ta:
            want = 0.25 * ta[k].astype(np.float64) + 0.75 * tp[k] if k in tp else ta[k]  # a constant of the shape
            np.testing.assert_allclose(ts[k], want, rtol=0, atol=1e-7, err_msg=k)
        self.assertEqual([i.get("unpacked_package", False) for i in record["ingredients"]], [False, True])
        self.assertFalse(os.path.exists(os.path.join(self.d, "s", "package-config.json")))
        load_checkpoint(os.path.join(self.d, "s"))

    def test_an_unpacked_package_of_another_model_is_refused(self):
        a = self.export("a", tiny_classifier(1))
        cases = {
            "heads": self.unpacked("heads", tiny_classifier(2), heads=1),  # same tensor shapes, other attention
            "labels": self.unpacked("labels", tiny_classifier(2), labels=("neg", "pos")),
            "no-tokenizer": self.unpacked("no-tokenizer", tiny_classifier(2), tokenizer=None),
            "deeper": self.unpacked("deeper", tiny_classifier(2, depth=3)),
        }
        for why, p in cases.items():
            with self.assertRaises(SystemExit, msg=why):
                soup.make_soup([a, p], os.path.join(self.d, "s-" + why))
            self.assertFalse(os.path.exists(os.path.join(self.d, "s-" + why)), why)
        with self.assertRaises(SystemExit):  # the soup's config files come from the first ingredient
            soup.make_soup([self.unpacked("first", tiny_classifier(3)), a], os.path.join(self.d, "s-first"))


class TestPredict(unittest.TestCase):
    def test_matches_the_training_forward_one_sentence_at_a_time(self):
        texts = ["a gentle , funny film", "not good at all .", "I didn't hate it", "😍😍", "the plot is thin but the cast is great"]
        with tempfile.TemporaryDirectory() as d:
            ckpt = os.path.join(d, "c")
            export_checkpoint(tiny_classifier(5), ckpt, TOKENIZER, {0: "negative", 1: "positive"})
            tsv = os.path.join(d, "dev.tsv")
            with open(tsv, "w", encoding="utf-8") as f:
                f.write("sentence\tlabel\n" + "".join(f"{t}\t{i % 2}\n" for i, t in enumerate(texts)))
            out = predict.predict(ckpt, tsv, batch=2)
            model = load_checkpoint(ckpt)
        tok = TokenizerV2.from_file(TOKENIZER)
        self.assertEqual(out["n"], len(texts))
        correct = 0
        for i, t in enumerate(texts):
            ids = torch.tensor([tok.encode(t)])
            with torch.no_grad():
                z, _ = model(ids, use_sdpa=False)  # the masked (training) FFF, no padding
            e = out["examples"][i]
            self.assertEqual((e["i"], e["label"]), (i, i % 2))
            np.testing.assert_allclose(e["logits"], z[0].tolist(), rtol=0, atol=2e-5)
            self.assertEqual(e["pred"], int(z[0, 1] > z[0, 0]))
            correct += e["pred"] == i % 2
        self.assertAlmostEqual(out["accuracy"], round(correct / len(texts), 6))
        self.assertEqual(out["labels_names"], ["negative", "positive"])


if __name__ == "__main__":
    unittest.main()
