"""Checkpoint export/import in the published crammedBERT layout (no `safetensors` package needed).

A checkpoint folder holds model.safetensors (F32), config.json (arch dict nested under "arch"),
model_config.json (the bare arch dict) and tokenizer.json: what `npx ufb convert <dir> <out>` reads.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
from typing import Dict

import numpy as np
import torch

from .model import UFBConfig, UFBForMLM, UFBForSequenceClassification

_DT = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}
_DT_NAME = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int64): "I64", np.dtype(np.int32): "I32"}


def write_safetensors(tensors: Dict[str, np.ndarray], path: str, metadata: Dict[str, str] | None = None) -> None:
    """Standard safetensors: u64-LE header length, JSON header (space-padded to a multiple of 8), raw LE data."""
    header: dict = {"__metadata__": metadata or {"format": "pt"}}
    blobs = []
    off = 0
    for name in sorted(tensors):
        a = np.asarray(tensors[name])  # (np.ascontiguousarray would turn 0-dim tensors into 1-dim ones)
        if not a.flags.c_contiguous:
            a = a.copy(order="C")
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        b = a.tobytes()
        header[name] = {"dtype": _DT_NAME[a.dtype.newbyteorder("=")], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path: str) -> Dict[str, np.ndarray]:
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        s, e = info["data_offsets"]
        dt = np.dtype(_DT[info["dtype"]]).newbyteorder("<")
        out[name] = np.frombuffer(data[base + s:base + e], dtype=dt).reshape(info["shape"]).astype(dt.newbyteorder("="))
    return out


def state_dict_numpy(model: torch.nn.Module) -> Dict[str, np.ndarray]:
    sd = {}
    for k, v in model.state_dict().items():
        sd[k] = v.detach().to("cpu", torch.float32).numpy().copy() if v.is_floating_point() else v.cpu().numpy()
    return sd


def arch_dict(cfg: UFBConfig) -> dict:
    """The cramming `arch` dict, same fields and defaults as the published model_config.json."""
    return {
        "architectures": ["ScriptableCrammedBERT"],
        "num_transformer_layers": cfg.num_layers,
        "intermed_type": "fff",
        "hidden_size": cfg.hidden_size,
        "intermed_size": cfg.fff_trees,
        "intermed_depth": cfg.fff_depth,
        "hidden_dropout_prob": cfg.dropout,
        "norm": "LayerNorm",
        "norm_eps": cfg.norm_eps,
        "norm_scheme": "pre",
        "nonlin": "GELU",
        "tie_weights": True,
        "decoder_bias": False,
        "sparse_prediction": 0.25,
        "loss": "cross-entropy",
        "objective_layout": "MLM",
        "embedding": {"vocab_size": cfg.vocab_size, "pos_embedding": "scaled-sinusoidal", "dropout_prob": cfg.dropout,
                      "pad_token_id": 0, "max_seq_length": cfg.max_seq_length, "embedding_dim": cfg.hidden_size,
                      "normalization": True, "stable_low_precision": False},
        "attention": {"type": "self-attention", "causal_attention": False, "num_attention_heads": cfg.num_heads,
                      "dropout_prob": cfg.attn_dropout, "skip_output_projection": False, "qkv_bias": False,
                      "rotary_embedding": False, "seq_op_in_fp32": False, "sequence_op": "torch-softmax"},
        "init": {"type": "normal", "std": cfg.init_std},
        "ffn_layer_frequency": 1,
        "skip_head_transform": True,
        "use_bias": False,
        "final_norm": True,
        "num_labels": cfg.num_labels,
        "classification_head": {"pooler": cfg.pooler, "include_ff_layer": True,
                                "head_dim": cfg.head_dim if cfg.head_dim else 1024,
                                "nonlin": "Tanh", "classifier_dropout": cfg.classifier_dropout},
    }


def config_from_arch(arch: dict) -> UFBConfig:
    head = arch.get("classification_head") or {}
    return UFBConfig(
        vocab_size=arch["embedding"]["vocab_size"], hidden_size=arch["hidden_size"],
        num_layers=arch["num_transformer_layers"], num_heads=arch["attention"]["num_attention_heads"],
        fff_trees=arch["intermed_size"], fff_depth=arch["intermed_depth"],
        max_seq_length=arch["embedding"]["max_seq_length"], norm_eps=arch["norm_eps"],
        dropout=arch.get("hidden_dropout_prob", 0.1), attn_dropout=arch["attention"].get("dropout_prob", 0.1),
        num_labels=arch.get("num_labels"), head_dim=head.get("head_dim") if arch.get("num_labels") else None,
        pooler=head.get("pooler", "zero_index"), classifier_dropout=head.get("classifier_dropout", 0.1),
    )


def export_checkpoint(model: torch.nn.Module, out_dir: str, tokenizer_json: str | None,
                      id2label: Dict[int, str] | None = None, extra: dict | None = None) -> None:
    os.makedirs(out_dir, exist_ok=True)
    cfg: UFBConfig = model.cfg
    sd = state_dict_numpy(model)
    is_clf = isinstance(model, UFBForSequenceClassification)
    if not is_clf:
        # tied decoder: the published file holds both copies (cloned when saved)
        sd["decoder.weight"] = sd["encoder.embedding.word_embedding.weight"].copy()
    write_safetensors(sd, os.path.join(out_dir, "model.safetensors"))
    arch = arch_dict(cfg)
    config = {"arch": arch, "model_type": "crammedBERT", "torch_dtype": "float32",
              "architectures": ["ScriptableLMForSequenceClassification" if is_clf else "ScriptableLMForPreTraining"]}
    if is_clf:
        id2label = id2label or {i: f"LABEL_{i}" for i in range(cfg.num_labels)}
        config["num_labels"] = cfg.num_labels
        config["id2label"] = {str(i): l for i, l in sorted(id2label.items())}
        config["label2id"] = {l: i for i, l in sorted(id2label.items())}
        config["problem_type"] = "single_label_classification"
    if extra:
        config.update(extra)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(out_dir, "model_config.json"), "w") as f:
        json.dump(arch, f)
    if tokenizer_json:
        shutil.copyfile(tokenizer_json, os.path.join(out_dir, "tokenizer.json"))


def load_checkpoint(ckpt_dir: str) -> torch.nn.Module:
    with open(os.path.join(ckpt_dir, "config.json")) as f:
        config = json.load(f)
    cfg = config_from_arch(config["arch"])
    sd = {k: torch.from_numpy(v.copy()) for k, v in read_safetensors(os.path.join(ckpt_dir, "model.safetensors")).items()}
    if "head.weight" in sd:
        model = UFBForSequenceClassification(cfg)
    else:
        model = UFBForMLM(cfg)
        if "encoder.embedding.word_embedding.weight" not in sd:
            sd["encoder.embedding.word_embedding.weight"] = sd["decoder.weight"]
        sd.pop("decoder.weight", None)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not unexpected, unexpected
    assert not [m for m in missing if m != "decoder.weight"], missing
    return model.eval()
