"""A second fine-tuning stage (pipeline.py --ft-from) and the file it starts from (pack_q8.py)."""
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import pack_q8  # noqa: E402
from pipeline import load_classifier_start, quantized_state, unpack_q8  # noqa: E402
from ufb.export import state_dict_numpy, write_safetensors  # noqa: E402
from ufb.model import UFBConfig, UFBForMLM, classifier_from_mlm  # noqa: E402


def tiny_classifier(seed):
    torch.manual_seed(seed)
    cfg = UFBConfig(vocab_size=64, hidden_size=16, num_layers=2, num_heads=2, fff_trees=2, fff_depth=3,
                    max_seq_length=16)
    return classifier_from_mlm(UFBForMLM(cfg), num_labels=2, head_dim=16, pooler="zero_index", seed=seed)


def checkpoint_folder(model, d):
    os.makedirs(d, exist_ok=True)
    write_safetensors(state_dict_numpy(model), os.path.join(d, "model.safetensors"))
    return d


class TestPackQ8(unittest.TestCase):
    def test_a_folder_becomes_its_int8_weights(self):
        clf = tiny_classifier(0)
        _, deq = quantized_state(clf)  # the package's q8 rule applied in memory
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "c.q8.npz.xz")
            self.assertEqual(pack_q8.main([checkpoint_folder(clf, os.path.join(d, "ckpt")), out]), 0)
            with open(out, "rb") as f:
                self.assertEqual(f.read(6), b"\xfd7zXZ\x00")  # xz, as a GPU call carries it
                f.seek(0)
                got = unpack_q8(f.read())
        self.assertEqual(sorted(got), sorted(deq))
        for k in deq:
            np.testing.assert_array_equal(got[k], np.asarray(deq[k], dtype=np.float32), err_msg=k)
        # the int8 matrices really are rounded: the f32 weights differ from what the file holds
        w = "encoder.layers.0.ffn.linear_in.weight"
        self.assertFalse(np.array_equal(got[w], clf.state_dict()[w].numpy()))

    def test_an_int8_rounded_checkpoint_packs_to_the_same_values(self):
        # a shipped package unpacked is already int8-rounded: packing it again must not move a weight
        with tempfile.TemporaryDirectory() as d:
            first = os.path.join(d, "1.q8.npz.xz")
            pack_q8.main([checkpoint_folder(tiny_classifier(1), os.path.join(d, "a")), first])
            with open(first, "rb") as f:
                rounded = unpack_q8(f.read())
            folder = os.path.join(d, "b")
            os.makedirs(folder)
            write_safetensors(rounded, os.path.join(folder, "model.safetensors"))
            second = os.path.join(d, "2.q8.npz.xz")
            pack_q8.main([folder, second])
            with open(second, "rb") as f:
                again = unpack_q8(f.read())
        for k in rounded:
            np.testing.assert_array_equal(again[k], rounded[k], err_msg=k)


class TestSecondStageStart(unittest.TestCase):
    def test_a_classifier_file_loads_the_head_too(self):
        src, dst = tiny_classifier(2), tiny_classifier(3)
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "c.q8.npz.xz")
            pack_q8.main([checkpoint_folder(src, os.path.join(d, "ckpt")), out])
            with open(out, "rb") as f:
                held = unpack_q8(f.read())
            load_classifier_start(dst, out)
        for k in ("head.weight", "head.bias", "pooler.dense.weight", "encoder.layers.1.ffn.linear_out.weight"):
            np.testing.assert_array_equal(dst.state_dict()[k].numpy(), held[k], err_msg=k)

    def test_an_mlm_file_is_refused_as_a_second_stage_start(self):
        # --ft-from an MLM by mistake would train a fresh head while claiming to continue one: it must fail
        torch.manual_seed(4)
        mlm = UFBForMLM(tiny_classifier(4).cfg)
        packed, _ = quantized_state(mlm)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "mlm.q8.npz")
            np.savez(path, **packed)
            with self.assertRaisesRegex(ValueError, "not a classifier of this shape; it lacks .*head.weight"):
                load_classifier_start(tiny_classifier(5), path)


if __name__ == "__main__":
    unittest.main()
