"""Second-generation recipe: review-text MLM pretraining -> joint fine-tuning -> evaluation -> int8 export.

    python3 train/pipeline.py --name ufb-sst2-2x9 --trees 2 --depth 9 --data .data/ufb2 --work /tmp/ufb2/2x9

One process trains one variant; train/run_gpu2.sh runs several side by side on one GPU (same data, same
schedule, same wall-clock budget) and packs what comes back. Each process writes into --work:

    results.json        config, throughput, loss curve, MLM validation, fine-tuning, every evaluation
    predictions.json    per-example f32 logits on SST-2 dev and on the behaviour set
    weights.q8.npz      the exported classifier (with its tied MLM decoder = the word embedding): the large
                        matrices as int8 + one f32 scale per row with the package's q8 rule (docs/format.md),
                        everything else f32; train/assemble2.py turns it back into a checkpoint folder
    stable.pt           full-precision pretraining state (stays on the machine, for a following call)

Schedule: warmup -> constant -> linear decay over the last --decay-frac of the run, where the run's progress
is max(step / --steps, seconds / --seconds): whichever budget binds first ends the run on time.
Fine-tuning keeps a masked-LM loss on review text next to the classification loss, so the shipped encoder
still fills masks (one package serves classify, embed and fill-mask).
"""
from __future__ import annotations

import argparse
import io
import json
import lzma
import math
import os
import re
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prepare_data import load_u16  # noqa: E402
from train import autocast, batched_logits as classify, make_optimizer, padded_rows  # noqa: E402
from ufb.export import arch_dict, read_safetensors  # noqa: E402
from ufb.model import UFBConfig, UFBForMLM, classifier_from_mlm  # noqa: E402

T0 = time.time()


def log(*a):
    print(f"[{time.time() - T0:7.1f}s]", *a, flush=True)


def parse_args(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--data", default=".data/ufb2")
    ap.add_argument("--work", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--trees", type=int, required=True)
    ap.add_argument("--depth", type=int, required=True)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--max-seq", type=int, default=128)
    ap.add_argument("--fff-train", default="masked", choices=["masked", "gathered"],
                    help="FFF training forward: every node then a mask (the paper's code), or the path rows only "
                         "(same values and gradients; train/bench_fff.py measures the speed)")
    ap.add_argument("--fff-dense-levels", type=int, default=6, help="gathered: tree levels computed as one matmul")
    # pretraining
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=400)
    ap.add_argument("--steps", type=int, default=100000, help="step budget")
    ap.add_argument("--seconds", type=float, default=400.0, help="wall-clock budget of the pretraining")
    ap.add_argument("--decay-frac", type=float, default=0.2)
    ap.add_argument("--call-seconds", type=float, default=0.0,
                    help="> 0: this invocation pretrains at most this long, saves stable.pt and exits with the "
                         "MLM (continue with --resume in the next call)")
    ap.add_argument("--mask-prob", type=float, default=0.2)
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--resume", default="", help="stable.pt of an earlier call (same machine) to continue from")
    ap.add_argument("--stage", default="all", choices=["all", "pretrain", "finetune"],
                    help="pretrain: stop after pretraining and export the MLM; finetune: start from --init")
    ap.add_argument("--init-step", type=int, default=0, help="pretrain with --init: the step it was saved at")
    ap.add_argument("--init-seconds", type=float, default=0.0)
    ap.add_argument("--init-stack", action="store_true",
                    help="pretrain with --init of fewer layers: layer i starts as layer i mod L (a deeper teacher)")
    ap.add_argument("--init-partial", action="store_true",
                    help="pretrain with --init of another FFF shape: load the tensors whose shape matches "
                         "(embeddings, attention, norms), start the others fresh")
    ap.add_argument("--stream", default="reviews.u16.xz", help="MLM token stream in --data")
    ap.add_argument("--init", default="", help="the weights.q8.npz (or .npz.xz) of an earlier stage, or a folder "
                    "`npx ufb unpack <package> <dir>` wrote (a shipped package as a checkpoint)")
    # fine-tuning
    ap.add_argument("--ft-sources", default="sst2_train,aug,kotzias,blitzer")
    ap.add_argument("--ft-epochs", type=float, default=2.0)
    ap.add_argument("--ft-batch", type=int, default=64)
    ap.add_argument("--ft-lr", type=float, default=1.5e-4)
    ap.add_argument("--ft-mlm-weight", type=float, default=0.5)
    ap.add_argument("--ft-mlm-batch", type=int, default=16)
    ap.add_argument("--ft-seconds", type=float, default=150.0, help="fine-tuning stops after this many seconds")
    ap.add_argument("--ft-from", default="",
                    help="finetune: start from this fine-tuned classifier (its weights.q8.npz[.xz] or an unpacked "
                         "package folder, head included) instead of a fresh head on --init: a second stage")
    ap.add_argument("--distill", default="",
                    help="finetune: teacher logits (.npy, [N, 2]) over the sentences of --distill-data: a KL term "
                         "between the student's and the teacher's tempered distributions beside the labelled loss")
    ap.add_argument("--distill-data", default="distill.u16.xz", help="in --data: the unlabelled sentences, each "
                    "tokenized with <cls> … <sep>, concatenated (node train/prepare_reviews.ts distill)")
    ap.add_argument("--distill-weight", type=float, default=1.0)
    ap.add_argument("--distill-batch", type=int, default=64)
    ap.add_argument("--distill-temperature", type=float, default=2.0)
    ap.add_argument("--label", action="store_true",
                    help="finetune: afterwards write the classifier's f32 logits over --distill-data to "
                         "teacher-logits.npy (this model as a teacher)")
    ap.add_argument("--no-export", action="store_true")
    return ap.parse_args(argv)


# ------------------------------------------------------------------------------------------------ data

def load_classification(path: str) -> dict:
    """cls.json.xz: {"splits": {name: {"ids": [[...]], "labels": [...], ...}}} (ids with specials)."""
    with open(path, "rb") as f:
        return json.loads(lzma.decompress(f.read()))["splits"]


def pad_split(split: dict, pad: int, device: str):
    ids = split["ids"]
    L = max(len(x) for x in ids)
    arr = np.full((len(ids), L), pad, dtype=np.int64)
    for i, x in enumerate(ids):
        arr[i, :len(x)] = x
    lengths = np.array([len(x) for x in ids], dtype=np.int64)
    labels = np.array(split["labels"], dtype=np.int64)
    return tuple(torch.from_numpy(a).to(device) for a in (arr, lengths, labels))


def load_sentences(path: str, cls_id: int, pad: int, device: str):
    """distill.u16.xz -> a padded split (ids, lengths, dummy labels): sentences start at each <cls>."""
    stream = load_u16(path).astype(np.int64)
    starts = np.flatnonzero(stream == cls_id)
    ends = np.append(starts[1:], stream.size)
    return pad_split({"ids": [stream[a:b].tolist() for a, b in zip(starts, ends)], "labels": [0] * starts.size},
                     pad, device)


class MaskedLM:
    """Blocks of a token stream, <cls> first, masked with the 80/10/10 rule (special ids are never masked)."""

    def __init__(self, stream: np.ndarray, meta: dict, args, device: str):
        self.device = device
        self.L = args.max_seq - 1
        sp = meta["special_ids"]
        self.cls, self.mask_id = sp["<cls>"], sp["<mask>"]
        self.specials = torch.tensor(sorted(sp.values()), device=device)
        self.vocab = meta["vocab_size"]
        self.stream = torch.from_numpy(stream.astype(np.int64)).to(device)
        self.n_blocks = (self.stream.numel() - self.L) // self.L
        self.seed = args.seed
        self.epoch = None

    def blocks(self, step: int, batch: int):
        per_epoch = self.n_blocks // batch
        epoch, pos = divmod(step, per_epoch)
        if self.epoch is None or self.epoch[0] != epoch:
            g = torch.Generator().manual_seed(self.seed * 1000 + epoch)
            off = int(torch.randint(0, self.L, (1,), generator=g))
            n = (self.stream.numel() - off) // self.L
            view = self.stream[off:off + n * self.L].view(n, self.L)
            self.epoch = (epoch, view, torch.randperm(n, generator=g).to(self.device))
        _, view, perm = self.epoch
        x = view[perm[pos * batch:(pos + 1) * batch]]
        return torch.cat([torch.full((x.shape[0], 1), self.cls, dtype=x.dtype, device=x.device), x], 1)

    def mask(self, ids, seed: int, prob: float, only_mask_token: bool = False):
        g = torch.Generator(device=ids.device).manual_seed(seed)
        r = torch.rand(ids.shape, generator=g, device=ids.device)
        special = torch.isin(ids, self.specials)
        sel = (r < prob) & ~special
        labels = torch.where(sel, ids, torch.full_like(ids, -100))
        if only_mask_token:
            return torch.where(sel, torch.full_like(ids, self.mask_id), ids), labels
        r2 = torch.rand(ids.shape, generator=g, device=ids.device)
        rnd = torch.randint(len(self.specials), self.vocab, ids.shape, generator=g, device=ids.device)
        out = torch.where(sel & (r2 < 0.8), torch.full_like(ids, self.mask_id), ids)
        out = torch.where(sel & (r2 >= 0.8) & (r2 < 0.9), rnd, out)
        return out, labels


# ------------------------------------------------------------------------------------------------ helpers

def mlm_logits(encoder_out: torch.Tensor, embedding: torch.Tensor, labels: torch.Tensor):
    sel = labels != -100
    return encoder_out[sel] @ embedding.t(), labels[sel]


@torch.no_grad()
def mlm_eval(encoder, embedding, data: MaskedLM, stream: np.ndarray, device, n_blocks=400, prob=0.15):
    """Loss (80/10/10 at 20 %) and fill-mask top-1/top-5 (every selected token replaced by <mask>, 15 %)."""
    was = encoder.training
    encoder.eval()
    L = data.L
    s = torch.from_numpy(stream.astype(np.int64)).to(device)
    n = min(n_blocks, (s.numel() - 1) // L)
    blocks = s[:n * L].view(n, L)
    blocks = torch.cat([torch.full((n, 1), data.cls, dtype=blocks.dtype, device=device), blocks], 1)
    tot = k_tot = top1 = top5 = k_fill = 0.0
    for i in range(0, n, 100):
        x = blocks[i:i + 100]
        ids, labels = data.mask(x, seed=424242 + i, prob=0.2)
        with autocast(device):
            logits, y = mlm_logits(encoder(ids), embedding, labels)
        tot += float(F.cross_entropy(logits.float(), y, reduction="sum"))
        k_tot += y.numel()
        ids, labels = data.mask(x, seed=777 + i, prob=prob, only_mask_token=True)
        with autocast(device):
            logits, y = mlm_logits(encoder(ids), embedding, labels)
        best = logits.float().topk(5, dim=-1).indices
        top1 += float((best[:, 0] == y).sum())
        top5 += float((best == y[:, None]).any(-1).sum())
        k_fill += y.numel()
    encoder.train(was)
    return {"loss": tot / k_tot, "fill_top1": top1 / k_fill, "fill_top5": top5 / k_fill, "masked_tokens": int(k_fill)}


def q8_rows(w: np.ndarray):
    """The package's q8 rule per row: scale = f32(amax / 127), q = round half away from zero (docs/format.md)."""
    w = w.astype(np.float32)
    amax = np.abs(w).max(axis=1)
    scale = (amax / np.float32(127.0)).astype(np.float32)
    safe = np.where(scale == 0, np.float32(1.0), scale)
    r = w / safe[:, None]
    q = np.clip(np.sign(r) * np.floor(np.abs(r) + 0.5), -127, 127).astype(np.int8)
    q[scale == 0] = 0
    return q, scale


def q8_axis(name: str) -> int | None:
    """Which rows the package quantizes a matrix by: 0 per row, 1 per column (the FFF output records), None: f32."""
    if name.endswith("ffn.linear_out.weight"):
        return 1
    if name.endswith(("word_embedding.weight", "query_key_value.weight", "attn.dense.weight", "ffn.linear_in.weight")):
        return 0
    return None


def q8_targets(sd: dict) -> dict:
    """name -> q8_axis for the 2-D tensors the package quantizes."""
    return {k: q8_axis(k) for k, v in sd.items() if v.ndim == 2 and q8_axis(k) is not None}


def unpack_q8(raw: bytes) -> dict:
    """A weights.q8.npz (bytes, optionally xz) -> float32 state: int8 matrices times their row scales."""
    if raw[:6] == b"\xfd7zXZ\x00":
        raw = lzma.decompress(raw)
    z = np.load(io.BytesIO(raw))
    out = {}
    for k in z.files:
        if k.endswith("::scale"):
            continue
        if k.endswith("::q8"):
            name = k[:-4]
            d = z[k].astype(np.float32) * z[name + "::scale"][:, None]
            out[name] = d.T.copy() if q8_axis(name) == 1 else d
        else:
            out[k] = z[k]
    return out


def quantized_state(model) -> tuple[dict, dict]:
    """(npz dict with int8 matrices + scales and f32 rest, dequantized state dict) — what the int8 package holds."""
    return quantized_arrays({k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()})


def quantized_arrays(sd: dict) -> tuple[dict, dict]:
    """quantized_state for tensors already in hand as arrays (a checkpoint folder's model.safetensors)."""
    # the MLM decoder is tied to the word embedding: stored once
    sd = {k: v for k, v in sd.items() if k != "decoder.weight"}
    targets = q8_targets(sd)
    packed, deq = {}, {}
    for k, v in sd.items():
        if k in targets:
            rows = v.T if targets[k] == 1 else v
            q, s = q8_rows(rows)
            packed[k + "::q8"] = q
            packed[k + "::scale"] = s
            d = q.astype(np.float32) * s[:, None]
            deq[k] = d.T if targets[k] == 1 else d
        else:
            packed[k] = v.astype(np.float32)
            deq[k] = v
    return packed, deq


def accuracy(logits, split) -> float:
    return float((logits.argmax(-1) == split[2]).float().mean())


def per_phenomenon(logits, split, phenomena: list[str]) -> dict:
    ok = (logits.argmax(-1) == split[2]).cpu().numpy()
    table = {}
    for name in sorted(set(phenomena)):
        idx = [i for i, p in enumerate(phenomena) if p == name]
        table[name] = {"n": len(idx), "accuracy": round(float(ok[idx].mean()), 4)}
    table["all"] = {"n": len(ok), "accuracy": round(float(ok.mean()), 4)}
    return table


# ------------------------------------------------------------------------------------------------ main

def main():
    args = parse_args()
    os.makedirs(args.work, exist_ok=True)
    device = args.device
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = False  # f32 evaluation must be real f32
        torch.backends.cudnn.allow_tf32 = False
        log("device", torch.cuda.get_device_name(0), "torch", torch.__version__)
    with open(os.path.join(args.data, "pretrain-meta.json")) as f:
        meta = json.load(f)
    pad = meta["special_ids"]["<pad>"]
    results = {"name": args.name, "args": vars(args), "loss_curve": [], "evaluations": {}}

    cfg = UFBConfig(vocab_size=meta["vocab_size"], hidden_size=args.hidden, num_layers=args.layers,
                    num_heads=args.heads, fff_trees=args.trees, fff_depth=args.depth, max_seq_length=args.max_seq,
                    dropout=args.dropout, attn_dropout=args.dropout, fff_train=args.fff_train,
                    fff_dense_levels=args.fff_dense_levels)
    torch.manual_seed(args.seed)
    model = UFBForMLM(cfg).to(device)
    n_params = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
    nodes = args.trees * cfg.fff_nodes
    visited = args.trees * (args.depth + 1)
    results["model"] = {"arch": arch_dict(cfg), "mlm_parameters": n_params, "fff_nodes_per_layer": nodes,
                        "fff_neurons_per_token_and_layer": visited, "fff_fraction": visited / nodes}
    log(f"{args.name}: {args.layers}x{args.hidden}, FFF {args.trees}x{args.depth} ({visited}/{nodes} neurons = "
        f"{100 * visited / nodes:.2f} %), vocab {cfg.vocab_size}, {n_params / 1e6:.2f} M parameters")

    train_stream = load_u16(os.path.join(args.data, args.stream))
    val_reviews = load_u16(os.path.join(args.data, "val_reviews.u16.xz"))
    val_wiki = load_u16(os.path.join(args.data, "wikitext_val.u16.xz"))
    data = MaskedLM(train_stream, meta, args, device)
    log(f"pretraining stream {train_stream.size} tokens ({data.n_blocks} blocks)")

    if args.stage == "finetune":
        load_packed(model, args.init)
        results["init"] = args.init
        emb = model.encoder.embedding.word_embedding.weight
        results["evaluations"]["init_mlm"] = {"reviews": mlm_eval(model.encoder, emb, data, val_reviews, device)}
        log(f"init from {args.init}: {json.dumps(results['evaluations']['init_mlm'])}")
    else:
        pretrain(model, data, args, results, device, val_reviews, val_wiki)
        if args.stage == "pretrain" or results.get("pretraining_paused"):
            packed, _ = quantized_state(model)
            np.savez(os.path.join(args.work, "weights.q8.npz"), **packed)
            results["export"] = {"config": {"arch": arch_dict(model.cfg)}, "kind": "mlm"}
            results["wall_seconds"] = round(time.time() - T0, 1)
            with open(os.path.join(args.work, "results.json"), "w") as f:
                json.dump(results, f, indent=1)
            log("done (pretrain stage)")
            return
    finetune_and_export(model, data, args, results, device, val_reviews, pad)


def stacked(sd: dict, layers: int) -> dict:
    """A state of L encoder layers spread over `layers` (a multiple of L): layer i takes layer i mod L, the whole
    stack repeated on top of itself (progressive stacking, Gong et al. 2019) — a deeper teacher's warm start."""
    src = sorted({int(m.group(1)) for k in sd for m in [re.match(r"encoder\.layers\.(\d+)\.", k)] if m})
    if not src or layers % len(src):
        raise ValueError(f"cannot stack {len(src)} layers into {layers}")
    out = {k: v for k, v in sd.items() if not k.startswith("encoder.layers.")}
    for k, v in sd.items():
        m = re.match(r"encoder\.layers\.(\d+)\.(.*)", k)
        if m:
            for i in range(int(m.group(1)), layers, len(src)):
                out[f"encoder.layers.{i}.{m.group(2)}"] = v
    return out


def load_packed(model, path: str, partial: bool = False, stack: bool = False) -> list[str]:
    """Loads a weights.q8.npz[.xz] (or a folder `npx ufb unpack` wrote) into `model`; tensors the model has no place for (a classifier's head when
    loading an MLM) are left out. `partial`: a warm start of another shape (a 1 x 11 FFF from a 2 x 9 model):
    tensors whose shape differs keep the model's fresh initialisation. `stack`: the file's layers repeated to the
    model's depth (`stacked`). Returns the names left at their init."""
    if os.path.isdir(path):  # `npx ufb unpack <package> <dir>`: a shipped package's weights as f32 tensors
        sd = read_safetensors(os.path.join(path, "model.safetensors"))
    else:
        with open(path, "rb") as f:
            sd = unpack_q8(f.read())
    if stack:
        sd = stacked(sd, model.cfg.num_layers)
    state = model.state_dict()
    # a head the model lacks is fine to leave out; encoder tensors it lacks mean a deeper file: never cut silently
    extra = [k for k in sd if k.startswith("encoder.") and k not in state]
    if extra:
        raise ValueError(f"{path} has encoder tensors this model lacks (a deeper or other model?): {extra[:3]} …")
    sd = {k: v for k, v in sd.items() if k in state and (not partial or tuple(v.shape) == tuple(state[k].shape))}
    missing = [k for k in state if k not in sd]
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}, strict=False)
    if hasattr(model, "decoder"):
        model.decoder.weight = model.encoder.embedding.word_embedding.weight
    # attention's norm_factor is a constant of the shape (1/sqrt(head size)) that packages do not store
    fresh = [k for k in missing if k != "decoder.weight" and not k.endswith(".norm_factor")]
    assert partial or not fresh, fresh
    return fresh


def load_classifier_start(clf, path: str) -> None:
    """--ft-from: every tensor of `clf`, head included, from a fine-tuned classifier's file. An MLM's file (no head) or
    another shape would leave tensors at their fresh initialisation while the run claims to continue a classifier."""
    fresh = load_packed(clf, path, partial=True)
    if fresh:
        raise ValueError(f"--ft-from {path}: not a classifier of this shape; it lacks {', '.join(fresh[:4])}"
                         + (" …" if len(fresh) > 4 else ""))


def pretrain(model, data, args, results, device, val_reviews, val_wiki):
    opt = make_optimizer(model, args.lr, args.wd)
    step, seconds = 0, 0.0
    if args.resume and os.path.exists(args.resume):
        obj = torch.load(args.resume, map_location=device, weights_only=False)
        model.load_state_dict(obj["model"])
        opt.load_state_dict(obj["opt"])
        step, seconds = obj["step"], obj["seconds"]
        results["loss_curve"] = obj.get("loss_curve", [])
        results["resumed_at_step"] = step
        log(f"resumed from {args.resume} at step {step}")
    elif args.init:  # the machine is a new one: continue from the returned int8 MLM, fresh optimizer, re-warmup
        fresh = load_packed(model, args.init, partial=args.init_partial, stack=args.init_stack)
        step, seconds = args.init_step, args.init_seconds
        results["resumed_at_step"] = step
        results["resumed_from_int8"] = args.init
        if args.init_partial:
            results["warm_start_fresh_tensors"] = fresh
        log(f"continuing from {args.init} at step {step} with a fresh optimizer"
            + (f"; fresh (shape differs): {', '.join(fresh)}" if fresh else ""))
    start_step = step
    emb = model.encoder.embedding.word_embedding.weight

    def progress():
        return max(step / args.steps, seconds / args.seconds)

    def lr_now():
        warm = min(1.0, (step + 1) / args.warmup)
        if args.init and not (args.resume and os.path.exists(args.resume)):
            warm *= min(1.0, (step - start_step + 1) / 200)
        p = progress()
        stable_end = 1.0 - args.decay_frac
        return args.lr * warm * (1.0 if p < stable_end else max(0.0, (1.0 - p) / args.decay_frac))

    def save_state():
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "seconds": seconds,
                    "loss_curve": results["loss_curve"]}, os.path.join(args.work, "stable.pt"))
        log(f"saved stable.pt at step {step}")

    model.train()
    t_log, tok_since, t_since = time.time(), 0, time.time()
    t_call = time.time()
    saved_before_decay = False
    while progress() < 1.0:
        if args.call_seconds > 0 and time.time() - t_call > args.call_seconds:
            log(f"call budget reached at step {step} (progress {progress():.3f}): saving to continue later")
            results["pretraining_paused"] = True
            break
        t = time.time()
        if not saved_before_decay and progress() >= 1.0 - args.decay_frac:
            # the end of the stable phase: a later call can resume here with a larger budget (WSD branch)
            save_state()
            saved_before_decay = True
        x = data.blocks(step, args.batch)
        ids, labels = data.mask(x, seed=args.seed * 7919 + step, prob=args.mask_prob)
        lr = lr_now()
        for g in opt.param_groups:
            g["lr"] = lr
        with autocast(device):
            logits, y = mlm_logits(model.encoder(ids), emb, labels)
            loss = F.cross_entropy(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tok_since += ids.numel()
        if step % 25 == 0 and device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds += time.time() - t
        if time.time() - t_log > 20:
            rate = tok_since / (time.time() - t_since)
            log(f"step {step} loss {float(loss):.4f} lr {lr:.2e} gnorm {float(gn):.2f} {rate / 1e6:.2f}M tok/s "
                f"epoch {step * args.batch / data.n_blocks:.2f} progress {progress():.3f}")
            results["loss_curve"].append({"step": step, "seconds": round(seconds, 1), "loss": round(float(loss), 4),
                                          "lr": lr, "tokens_per_s": round(rate)})
            t_log, tok_since, t_since = time.time(), 0, time.time()
    if results.get("pretraining_paused"):
        save_state()
    results["pretraining"] = {"steps": step, "seconds": round(seconds, 1), "batch": [args.batch, args.max_seq],
                              "tokens_seen": step * args.batch * args.max_seq,
                              "epochs": round(step * args.batch / data.n_blocks, 2)}
    del opt
    model.float()
    ev = {"reviews": mlm_eval(model.encoder, emb, data, val_reviews, device),
          "wikitext": mlm_eval(model.encoder, emb, data, val_wiki, device)}
    results["evaluations"]["pretrained_mlm"] = ev
    log(f"pretrained: {json.dumps(ev)}")


def finetune_and_export(model, data, args, results, device, val_reviews, pad):
    cls = load_classification(os.path.join(args.data, "cls.json.xz"))
    log("classification splits: " + ", ".join(f"{k} {len(v['labels'])}" for k, v in cls.items()))
    sources = [s for s in args.ft_sources.split(",") if s and s in cls]
    ft = {"ids": [], "labels": []}
    for s in sources:
        ft["ids"] += cls[s]["ids"]
        ft["labels"] += cls[s]["labels"]
    train = pad_split(ft, pad, device)
    dev = pad_split(cls["sst2_dev"], pad, device)
    behaviour = pad_split(cls["behaviour"], pad, device) if "behaviour" in cls else None
    cls_id = data.cls
    distill = teacher = None
    if args.distill:
        distill = load_sentences(os.path.join(args.data, args.distill_data), cls_id, pad, device)
        teacher = torch.from_numpy(np.load(args.distill).astype(np.float32)).to(device)
        assert teacher.shape == (distill[0].shape[0], 2), (teacher.shape, distill[0].shape)
        log(f"distillation: {teacher.shape[0]} sentences, weight {args.distill_weight}, T {args.distill_temperature}")
    clf = classifier_from_mlm(model, num_labels=2, head_dim=args.hidden, pooler="zero_index", seed=args.seed + 17)
    del model
    if args.ft_from:
        load_classifier_start(clf, args.ft_from)
        log(f"second stage: starting from the classifier {args.ft_from}")
    clf.train()
    opt = make_optimizer(clf, args.ft_lr, 0.01, betas=(0.9, 0.999), eps=1e-8)
    n = train[0].shape[0]
    steps_per_epoch = n // args.ft_batch
    total = int(steps_per_epoch * args.ft_epochs)
    warm = max(1, int(0.06 * total))
    g = torch.Generator().manual_seed(args.seed)
    perm = torch.cat([torch.randperm(n, generator=g) for _ in range(math.ceil(args.ft_epochs))]).to(device)
    emb = clf.encoder.embedding.word_embedding.weight
    t_ft = time.time()
    run = {"sources": sources, "examples": n, "planned_steps": total, "dev_acc_bf16": []}
    if args.ft_from:
        run["from_classifier"] = args.ft_from
    if distill is not None:
        run["distill"] = {"teacher": args.distill, "sentences": int(teacher.shape[0]), "weight": args.distill_weight,
                          "temperature": args.distill_temperature, "batch": args.distill_batch}
    fstep = 0
    for fstep in range(total):
        # whichever budget binds first (steps or --ft-seconds) ends the linear decay, so a slower machine still
        # finishes its schedule instead of stopping at a high learning rate
        progress = max(fstep / total, (time.time() - t_ft) / args.ft_seconds)
        if progress >= 1.0:
            run["stopped_early_at_step"] = fstep
            log(f"fine-tuning: time budget reached at step {fstep}/{total}")
            break
        idx = perm[fstep * args.ft_batch:(fstep + 1) * args.ft_batch]
        ids, mask = padded_rows(train[0], train[1], idx)
        frac = fstep / warm if fstep < warm else max(0.0, (1.0 - progress) / (1.0 - warm / total))
        for gr in opt.param_groups:
            gr["lr"] = args.ft_lr * frac
        with autocast(device):
            logits, _ = clf(ids, mask)
            loss = F.cross_entropy(logits.float(), train[2][idx])
            if distill is not None:
                j = torch.randint(0, distill[0].shape[0], (args.distill_batch,), generator=g).to(device)
                student, _ = clf(*padded_rows(distill[0], distill[1], j))
                T = args.distill_temperature
                loss = loss + args.distill_weight * T * T * F.kl_div(
                    F.log_softmax(student.float() / T, -1), F.softmax(teacher[j] / T, -1), reduction="batchmean")
            if args.ft_mlm_weight > 0:
                x = data.blocks(10_000_000 + fstep, args.ft_mlm_batch)
                mids, mlabels = data.mask(x, seed=99991 + fstep, prob=args.mask_prob)
                ml, my = mlm_logits(clf.encoder(mids), emb, mlabels)
                loss = loss + args.ft_mlm_weight * F.cross_entropy(ml.float(), my)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(clf.parameters(), 1.0)
        opt.step()
        if (fstep + 1) % steps_per_epoch == 0:
            acc = accuracy(classify(clf, dev, device, f32=False), dev)
            run["dev_acc_bf16"].append(round(acc, 4))
            log(f"fine-tuning epoch {(fstep + 1) // steps_per_epoch}: dev acc (bf16) {acc:.4f}")
    run["steps"] = fstep + 1
    run["seconds"] = round(time.time() - t_ft, 1)
    results["finetune"] = run

    # ---------------------------------------------------------------- evaluation (f32) and export
    # training's cached blocks go back to the GPU first: jobs share one GPU, and evaluating beside the others' caches
    # ran out of its memory (eighth generation, call 3)
    del opt
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    clf = clf.float().eval()
    dev_logits = classify(clf, dev, device)
    dev_cond = classify(clf, dev, device, conditional=True)
    evs = {"sst2_dev_f32": accuracy(dev_logits, dev), "sst2_dev_f32_conditional": accuracy(dev_cond, dev),
           "conditional_agreement": float((dev_logits.argmax(-1) == dev_cond.argmax(-1)).float().mean())}
    packed, deq = quantized_state(clf)
    f32_state = {k: v.clone() for k, v in clf.state_dict().items()}
    clf.load_state_dict({k: torch.from_numpy(v) for k, v in deq.items()})
    dev_q = classify(clf, dev, device)
    evs["sst2_dev_int8_weights"] = accuracy(dev_q, dev)
    preds = {"sst2_dev": {"labels": dev[2].cpu().tolist(), "f32": dev_logits.cpu().tolist(),
                          "int8_weights": dev_q.cpu().tolist()}}
    if behaviour is not None:
        phen = cls["behaviour"]["phenomenon"]
        b_logits = classify(clf, behaviour, device)
        clf.load_state_dict(f32_state)
        b32 = classify(clf, behaviour, device)
        evs["behaviour_f32"] = per_phenomenon(b32, behaviour, phen)
        evs["behaviour_int8_weights"] = per_phenomenon(b_logits, behaviour, phen)
        preds["behaviour"] = {"ids": cls["behaviour"].get("case_ids"), "f32": b32.cpu().tolist()}
    clf.load_state_dict(f32_state)
    if args.label:
        sentences = distill if distill is not None else load_sentences(os.path.join(args.data, args.distill_data), cls_id, pad, device)
        t_label = time.time()
        np.save(os.path.join(args.work, "teacher-logits.npy"), classify(clf, sentences, device).cpu().numpy())
        evs["labelled"] = {"sentences": int(sentences[0].shape[0]), "seconds": round(time.time() - t_label, 1)}
    evs["finetuned_mlm"] = {"reviews": mlm_eval(clf.encoder, clf.encoder.embedding.word_embedding.weight, data,
                                                val_reviews, device)}
    results["evaluations"].update(evs)
    log("evaluation:", json.dumps(evs))
    results["export"] = {"config": {"arch": arch_dict(clf.cfg)},
                         "classifier_parameters": sum(p.numel() for p in clf.parameters())}
    if not args.no_export:
        np.savez(os.path.join(args.work, "weights.q8.npz"), **packed)
    with open(os.path.join(args.work, "predictions.json"), "w") as f:
        json.dump(preds, f, separators=(",", ":"))
    results["wall_seconds"] = round(time.time() - T0, 1)
    with open(os.path.join(args.work, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    log("done")


if __name__ == "__main__":
    main()
