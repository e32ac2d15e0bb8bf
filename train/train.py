"""Pretrain (MLM), fine-tune (SST-2), evaluate and export an UltraFastBERT classifier. Resumable across calls.

    python3 train/train.py --data .data/ufb --state .train-out --out $OUT      (see train/README.md)

Every invocation continues the warmup-stable-decay (WSD) pretraining from the last stable-phase checkpoint
(in --state, or the full-precision copy in /tmp when the machine is still the same), runs the stable phase
until --stable-seconds of cumulative pretraining or until only the reserve for the rest is left, and then
always finishes a complete model: LR decay branch -> SST-2 fine-tuning -> f32 dev evaluation -> export.
So each call returns a usable model, and the call that reaches --stable-seconds returns the final one.

Files written to --out (at most 8, each <= 15 MiB, as the GPU tool returns them):
    results.json                  config, throughput, MLM loss curve, fine-tuning runs, dev accuracy
    sst2-dev-predictions.json     per-example f32 logits/predictions on SST-2 dev
    stable.pt.NNN                 stable-phase checkpoint (bf16 weights + progress), for the next call
    model.safetensors.NNN         the exported classifier checkpoint, split (cat them back together)
"""
from __future__ import annotations

import argparse
import dataclasses
import glob
import io
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prepare_data import load_npz_xz, load_u16  # noqa: E402
from ufb.export import arch_dict, state_dict_numpy, write_safetensors  # noqa: E402
from ufb.model import UFBConfig, UFBForMLM, classifier_from_mlm  # noqa: E402

T0 = time.time()
PART = 15 * 1024 * 1024


def log(*a):
    print(f"[{time.time() - T0:7.1f}s]", *a, flush=True)


def save_split(data: bytes, prefix: str) -> list[str]:
    for old in glob.glob(prefix + ".*"):
        os.remove(old)
    names = []
    for i in range(0, max(1, math.ceil(len(data) / PART))):
        name = f"{prefix}.{i:03d}"
        with open(name, "wb") as f:
            f.write(data[i * PART:(i + 1) * PART])
        names.append(name)
    return names


def load_split(prefix: str) -> bytes | None:
    parts = sorted(glob.glob(prefix + ".[0-9][0-9][0-9]"))
    if not parts:
        return None
    return b"".join(open(p, "rb").read() for p in parts)


def tload(src, map_location):
    try:
        return torch.load(src, map_location=map_location, weights_only=False)
    except TypeError:  # torch < 1.13
        return torch.load(src, map_location=map_location)


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=".data/ufb")
    ap.add_argument("--state", default=".train-out", help="folder holding stable.pt.NNN from an earlier call")
    ap.add_argument("--tmp-state", default="/tmp/ufb-state", help="full-precision state kept on the machine")
    ap.add_argument("--out", default=os.environ.get("OUT", "out"))
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    # model
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--trees", type=int, default=16)
    ap.add_argument("--depth", type=int, default=5)
    ap.add_argument("--max-seq", type=int, default=128)
    ap.add_argument("--dropout", type=float, default=0.1)
    # pretraining
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--warmup-steps", type=int, default=800)
    ap.add_argument("--rewarm-steps", type=int, default=300, help="LR re-warmup when resuming without optimizer state")
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--mask-prob", type=float, default=0.2)
    ap.add_argument("--stable-seconds", type=float, default=750.0, help="cumulative stable-phase pretraining time")
    ap.add_argument("--stable-steps", type=int, default=0, help="if > 0: cumulative stable steps instead of seconds")
    ap.add_argument("--decay-seconds", type=float, default=90.0, help="LR decay branch length (converted to steps)")
    ap.add_argument("--decay-steps", type=int, default=0, help="if > 0: decay length in steps")
    ap.add_argument("--deadline", type=float, default=565.0, help="seconds this invocation may run")
    ap.add_argument("--reserve", type=float, default=0.0, help="seconds kept for decay+finetune+export (0: estimate)")
    ap.add_argument("--save-every", type=float, default=150.0)
    # fine-tuning
    ap.add_argument("--ft-lrs", default="1e-4", help="comma list; the first one is exported")
    ap.add_argument("--ft-epochs", type=int, default=3)
    ap.add_argument("--ft-batch", type=int, default=32)
    ap.add_argument("--ft-warmup", type=float, default=0.06)
    ap.add_argument("--ft-seconds", type=float, default=60.0, help="time estimate of one fine-tuning run")
    ap.add_argument("--pooler", default="zero_index")
    ap.add_argument("--head-dim", type=int, default=0, help="pooler width C (0: hidden size)")
    # export
    ap.add_argument("--export-dtype", default="f32", choices=["f32", "bf16"],
                    help="bf16: weights are rounded to bf16 values before evaluation and sent back half size")
    ap.add_argument("--no-stable-out", action="store_true", help="do not write stable.pt.NNN to --out")
    ap.add_argument("--val-blocks", type=int, default=512)
    ap.add_argument("--ft-limit", type=int, default=0, help="debug: use only the first N SST-2 training examples")
    return ap.parse_args()


# ------------------------------------------------------------------------------------------------ data

class PretrainData:
    def __init__(self, args, meta, device):
        self.device = device
        gut = load_u16(os.path.join(args.data, "gutenberg.u16.xz")).astype(np.int32)
        sst = load_u16(os.path.join(args.data, "sst2_text.u16.xz")).astype(np.int32)
        wiki = load_u16(os.path.join(args.data, "wikitext_val.u16.xz")).astype(np.int32)
        n_val = min(300_000, gut.size // 20)
        self.val_gut = torch.from_numpy(gut[-n_val:].copy())
        self.val_wiki = torch.from_numpy(wiki.copy())
        self.stream = torch.from_numpy(np.concatenate([gut[:-n_val], sst])).to(device)
        sp = meta["special_ids"]
        self.cls, self.sep, self.pad, self.mask_id, self.unk = sp["<cls>"], sp["<sep>"], sp["<pad>"], sp["<mask>"], sp["<unk>"]
        self.n_special = 7
        self.vocab_size = meta["vocab_size"]
        self.L = args.max_seq - 1
        self.batch = args.batch
        self.seed = args.seed
        self.mask_prob = args.mask_prob
        self.val_blocks = args.val_blocks
        self.blocks_per_epoch = (self.stream.numel() - self.L) // self.L
        self.batches_per_epoch = self.blocks_per_epoch // self.batch
        self._epoch = None

    def _prepare_epoch(self, epoch):
        g = torch.Generator().manual_seed(self.seed * 1000 + epoch)
        off = int(torch.randint(0, self.L, (1,), generator=g))
        n = self.blocks_per_epoch
        blocks = self.stream[off:off + n * self.L].view(n, self.L)
        perm = torch.randperm(n, generator=g).to(self.device)
        self._epoch = (epoch, blocks, perm)

    def batch_at(self, step):
        """Deterministic batch for a global step (so a resumed run sees the same data)."""
        epoch, pos = divmod(step, self.batches_per_epoch)
        if self._epoch is None or self._epoch[0] != epoch:
            self._prepare_epoch(epoch)
        _, blocks, perm = self._epoch
        x = blocks[perm[pos * self.batch:(pos + 1) * self.batch]]
        cls = torch.full((x.shape[0], 1), self.cls, dtype=x.dtype, device=x.device)
        ids = torch.cat([cls, x], 1).long()
        return self.mask(ids, seed=self.seed * 7919 + step)

    def mask(self, ids, seed):
        g = torch.Generator(device=ids.device).manual_seed(seed)
        r = torch.rand(ids.shape, generator=g, device=ids.device)
        special = ids < self.n_special
        sel = (r < self.mask_prob) & ~special
        labels = torch.where(sel, ids, torch.full_like(ids, -100))
        r2 = torch.rand(ids.shape, generator=g, device=ids.device)
        rnd = torch.randint(self.n_special, self.vocab_size, ids.shape, generator=g, device=ids.device)
        out = torch.where(sel & (r2 < 0.8), torch.full_like(ids, self.mask_id), ids)
        out = torch.where(sel & (r2 >= 0.8) & (r2 < 0.9), rnd, out)
        return out, labels

    def val_batches(self, which, n_blocks=512, bs=128):
        s = (self.val_gut if which == "gutenberg" else self.val_wiki)
        n = min(n_blocks, (s.numel() - 1) // self.L)
        blocks = s[:n * self.L].view(n, self.L).to(self.device)
        for i in range(0, n, bs):
            x = blocks[i:i + bs]
            ids = torch.cat([torch.full((x.shape[0], 1), self.cls, device=x.device, dtype=x.dtype), x], 1).long()
            yield self.mask(ids, seed=424242 + i)


# ------------------------------------------------------------------------------------------------ helpers

def make_optimizer(model, lr, wd, betas=(0.9, 0.98), eps=1e-6):
    decay, no_decay = [], []
    seen = set()
    for n, p in model.named_parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        (no_decay if (p.ndim < 2 or "norm" in n) else decay).append(p)
    kw = {}
    if next(model.parameters()).is_cuda and tuple(int(x) for x in torch.__version__.split(".")[:2]) >= (2, 0):
        kw["fused"] = True
    return torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}],
                             lr=lr, betas=betas, eps=eps, **kw)


def set_lr(opt, lr):
    for g in opt.param_groups:
        g["lr"] = lr


def autocast(device):
    if device.startswith("cuda"):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=False)


@torch.no_grad()
def mlm_val(model, data, device):
    model.eval()
    out = {}
    for which in ("gutenberg", "wikitext"):
        tot, n = 0.0, 0
        for ids, labels in data.val_batches(which, n_blocks=data.val_blocks):
            with autocast(device):
                loss = model.mlm_loss(ids, labels)
            k = int((labels != -100).sum())
            tot += float(loss) * k
            n += k
        out[which] = tot / max(n, 1)
    model.train()
    return out


def bf16_round_(model):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(torch.bfloat16).to(p.dtype))


# ------------------------------------------------------------------------------------------------ phases

def pretrain_loop(model, opt, data, args, st, until_step_fn, lr_fn, results, device, label):
    """Runs steps while until_step_fn(st) is True. st: dict with step, seconds (cumulative), etc."""
    model.train()
    t_last_log = time.time()
    tokens_since = 0
    t_since = time.time()
    first = True
    while until_step_fn(st):
        t_step = time.time()
        ids, labels = data.batch_at(st["step"])
        lr = lr_fn(st)
        set_lr(opt, lr)
        with autocast(device):
            loss = model.mlm_loss(ids, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        st["step"] += 1
        st["phase_steps"] = st.get("phase_steps", 0) + 1
        tokens_since += ids.numel()
        if first or st["step"] % 50 == 0:
            if device.startswith("cuda"):
                torch.cuda.synchronize()
        now = time.time()
        st["seconds"] += now - t_step
        st["wall_in_call"] = now - T0
        if first:
            first = False
            log(f"[{label}] first step done (loss {float(loss):.3f})")
            t_since, tokens_since = time.time(), 0
        if now - t_last_log > (10 if st["phase_steps"] < 400 else 30):
            rate = tokens_since / max(now - t_since, 1e-9)
            st["tokens_per_s"] = rate
            st["steps_per_s"] = rate / ids.numel()
            l = float(loss)
            log(f"[{label}] step {st['step']} loss {l:.4f} lr {lr:.2e} gnorm {float(gn):.2f} "
                f"{rate / 1e6:.2f}M tok/s ({st['steps_per_s']:.1f} it/s) epoch {st['step'] / data.batches_per_epoch:.2f} "
                f"pretrain {st['seconds']:.0f}s")
            results["loss_curve"].append({"step": st["step"], "seconds": round(st["seconds"], 1), "loss": round(l, 4),
                                          "lr": lr, "phase": label})
            t_last_log = now
        if st.get("save_fn") and now - st.get("last_save", T0) > args.save_every:
            st["save_fn"]()
            st["last_save"] = time.time()


def finetune(encoder_src, args, lr, train, dev, device, seed, deadline, results_runs):
    t0 = time.time()
    torch.manual_seed(seed)
    clf = classifier_from_mlm(encoder_src, num_labels=2, head_dim=args.head_dim or args.hidden, pooler=args.pooler,
                              seed=seed, classifier_dropout=0.1)
    clf.train()
    opt = make_optimizer(clf, lr, 0.01, betas=(0.9, 0.999), eps=1e-8)
    ids_all, len_all, y_all = train
    n = ids_all.shape[0]
    bs = args.ft_batch
    steps_per_epoch = n // bs
    total = steps_per_epoch * args.ft_epochs
    warm = max(1, int(args.ft_warmup * total))
    g = torch.Generator().manual_seed(seed)
    run = {"lr": lr, "epochs": args.ft_epochs, "batch": bs, "dev_acc_per_epoch_bf16": [], "train_loss_per_epoch": []}
    step = 0
    for ep in range(args.ft_epochs):
        perm = torch.randperm(n, generator=g).to(device)
        tl, tn = 0.0, 0
        for b in range(steps_per_epoch):
            idx = perm[b * bs:(b + 1) * bs]
            ids, mask = padded_rows(ids_all, len_all, idx)
            frac = step / warm if step < warm else max(0.0, (total - step) / max(1, total - warm))
            set_lr(opt, lr * frac)
            with autocast(device):
                logits, _ = clf(ids, mask)
                loss = F.cross_entropy(logits.float(), y_all[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(clf.parameters(), 1.0)
            opt.step()
            step += 1
            if b % 200 == 0:
                tl += float(loss)
                tn += 1
        acc = evaluate(clf, dev, device, f32=False)["accuracy"]
        run["dev_acc_per_epoch_bf16"].append(round(acc, 4))
        run["train_loss_per_epoch"].append(round(tl / max(tn, 1), 4))
        log(f"  finetune lr {lr:g} epoch {ep + 1}: train loss {tl / max(tn, 1):.4f}, dev acc (bf16) {acc:.4f} "
            f"[{time.time() - t0:.0f}s]")
        if time.time() - T0 > deadline and ep + 1 < args.ft_epochs:
            log("  finetune: deadline reached, stopping early")
            run["stopped_early"] = True
            break
    run["seconds"] = round(time.time() - t0, 1)
    results_runs.append(run)
    return clf, run


@torch.no_grad()
def padded_rows(ids_all, len_all, idx):
    """Rows `idx` (index tensor or slice) of a right-padded split, cut to their longest, and their attention mask."""
    lens = len_all[idx]
    L = int(lens.max())
    return ids_all[idx, :L], (torch.arange(L, device=ids_all.device)[None, :] < lens[:, None]).long()


def batched_logits(clf, split, device, f32=True, conditional=False):
    """Logits of a padded split (ids, lengths, labels) in batches of 128, each cut to its longest sequence;
    f32 (optionally the conditional walk) or bf16 autocast."""
    was = clf.training
    clf.eval()
    ids_all, len_all, _ = split
    out = []
    for i in range(0, ids_all.shape[0], 128):
        ids, mask = padded_rows(ids_all, len_all, slice(i, i + 128))
        if f32:
            logits, _ = clf(ids, mask, conditional=conditional, use_sdpa=not conditional)
        else:
            with autocast(device):
                logits, _ = clf(ids, mask)
        out.append(logits.float())
    clf.train(was)
    return torch.cat(out)


def evaluate(clf, dev, device, f32=True, conditional=False):
    logits = batched_logits(clf, dev, device, f32, conditional)
    pred = logits.argmax(-1)
    return {"accuracy": float((pred == dev[2]).float().mean()), "logits": logits.cpu(), "pred": pred.cpu()}


# ------------------------------------------------------------------------------------------------ main

def main():
    args = parse_args()
    os.makedirs(args.out, exist_ok=True)
    device = args.device
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = False  # f32 evaluation must be real f32
        torch.backends.cudnn.allow_tf32 = False
        log("device", torch.cuda.get_device_name(0), "torch", torch.__version__)
    with open(os.path.join(args.data, "meta.json")) as f:
        meta = json.load(f)
    results = {"args": vars(args), "loss_curve": [], "mlm_val": [], "finetune_runs": [], "calls": []}
    prev_results = os.path.join(args.state, "results.json")
    if os.path.exists(prev_results):
        with open(prev_results) as f:
            old = json.load(f)
        results["loss_curve"] = old.get("loss_curve", [])
        results["mlm_val"] = old.get("mlm_val", [])
        results["calls"] = old.get("calls", [])
        results["previous_finetune_runs"] = old.get("finetune_runs", []) + old.get("previous_finetune_runs", [])

    # tokenizer cross-check with the Python `tokenizers` library (GPU machine only)
    tok_path = os.path.join(args.data, "tokenizer.json")
    dev_np = load_npz_xz(os.path.join(args.data, "sst2_dev.npz.xz"))
    train_np = load_npz_xz(os.path.join(args.data, "sst2_train.npz.xz"))
    try:
        from tokenizers import Tokenizer
        import tokenizers
        tk = Tokenizer.from_file(tok_path)
        with open(os.path.join(args.data, "sst2_dev_sentences.json")) as f:
            dev_texts = json.load(f)
        hf_dev = [e.ids for e in tk.encode_batch(dev_texts)]
        mism = sum(1 for i, ids in enumerate(hf_dev) if ids != dev_np["ids"][i, :dev_np["lengths"][i]].tolist())
        extra = []
        for fx in ("tiny", "trees"):
            p = os.path.join("test", "fixtures", "reference", fx, "tokenizer-expected.json")
            if os.path.exists(p):
                with open(p) as f:
                    extra += [c["text"] for c in json.load(f)["cases"]]
        results["tokenizer_check"] = {"library": f"tokenizers {tokenizers.__version__}", "dev_texts": len(dev_texts),
                                      "dev_mismatches_vs_pretokenized": mism, "dev_ids": hf_dev,
                                      "extra_texts": extra, "extra_ids": [e.ids for e in tk.encode_batch(extra)]}
        log(f"tokenizers {tokenizers.__version__}: SST-2 dev {len(dev_texts)} texts, {mism} mismatches vs pre-tokenized ids")
    except ImportError:
        log("python `tokenizers` not installed: tokenizer cross-check skipped")
    except Exception as e:  # never let the check stop the training
        log(f"tokenizer cross-check failed: {e!r}")
        results["tokenizer_check"] = {"error": repr(e)}

    cfg = UFBConfig(vocab_size=meta["vocab_size"], hidden_size=args.hidden, num_layers=args.layers, num_heads=args.heads,
                    fff_trees=args.trees, fff_depth=args.depth, max_seq_length=args.max_seq, dropout=args.dropout,
                    attn_dropout=args.dropout)
    torch.manual_seed(args.seed)
    model = UFBForMLM(cfg).to(device)
    n_params = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
    log(f"model: {args.layers} layers, hidden {args.hidden}, {args.heads} heads, FFF {args.trees}x{args.depth} "
        f"({cfg.fff_nodes} nodes/tree, {args.trees * (args.depth + 1)} neurons/token/layer), vocab {cfg.vocab_size}; "
        f"{n_params / 1e6:.2f}M parameters (MLM, tied)")
    results["model"] = {"arch": arch_dict(cfg), "mlm_parameters": n_params}
    data = PretrainData(args, meta, device)
    log(f"pretraining stream {data.stream.numel()} tokens, {data.batches_per_epoch} batches/epoch of {args.batch}x{args.max_seq}")
    dev = tuple(torch.from_numpy(dev_np[k]).to(device).long() for k in ("ids", "lengths", "labels"))
    train = tuple(torch.from_numpy(train_np[k]).to(device).long() for k in ("ids", "lengths", "labels"))
    if args.ft_limit:
        train = tuple(t[:args.ft_limit] for t in train)

    # ---- resume
    opt = make_optimizer(model, args.lr, args.wd)
    st = {"step": 0, "seconds": 0.0, "stable_done": False}
    resumed = "scratch"
    full = os.path.join(args.tmp_state, "stable_full.pt")
    carried = load_split(os.path.join(args.state, "stable.pt"))
    carried_st = None
    if carried is not None:
        carried_obj = tload(io.BytesIO(carried), "cpu")
        carried_st = carried_obj["st"]
    if os.path.exists(full):
        obj = tload(full, device)
        if carried_st is None or obj["st"]["step"] >= carried_st["step"]:
            model.load_state_dict(obj["model"])
            opt.load_state_dict(obj["opt"])
            st.update(obj["st"])
            resumed = f"full state in {full} (step {st['step']})"
    if resumed == "scratch" and carried is not None:
        model.load_state_dict({k: v.float() for k, v in carried_obj["model"].items()}, strict=False)
        model.decoder.weight = model.encoder.embedding.word_embedding.weight
        st.update(carried_st)
        st["rewarm_from"] = st["step"]
        resumed = f"bf16 weights from {args.state} (step {st['step']}), fresh optimizer, re-warmup {args.rewarm_steps} steps"
    log("resume:", resumed)
    st.pop("save_fn", None)

    def stable_lr(s):
        lr = args.lr * min(1.0, (s["step"] + 1) / args.warmup_steps)
        if "rewarm_from" in s:
            lr *= min(1.0, (s["step"] - s["rewarm_from"] + 1) / args.rewarm_steps)
        return lr

    def save_stable():
        os.makedirs(args.tmp_state, exist_ok=True)
        keep = {k: v for k, v in st.items() if k not in ("save_fn",)}
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "st": keep}, full + ".tmp")
        os.replace(full + ".tmp", full)
        if not args.no_stable_out:
            buf = io.BytesIO()
            sd = {k: v.to(torch.bfloat16) if v.is_floating_point() and v.ndim > 0 else v
                  for k, v in model.state_dict().items() if k != "decoder.weight"}
            torch.save({"model": sd, "st": keep}, buf)
            save_split(buf.getvalue(), os.path.join(args.out, "stable.pt"))
        log(f"saved stable checkpoint at step {st['step']} ({st['seconds']:.0f}s of pretraining)")

    n_ft = len(args.ft_lrs.split(","))
    reserve = args.reserve or (args.decay_seconds + n_ft * args.ft_seconds + 30.0)
    results["calls"].append({"resumed": resumed, "start_step": st["step"], "start_seconds": round(st["seconds"], 1)})

    # ---- stable phase
    if not st["stable_done"]:
        def keep_going(s):
            if args.stable_steps > 0 and s["step"] >= args.stable_steps:
                return False
            if args.stable_steps <= 0 and s["seconds"] >= args.stable_seconds:
                return False
            return time.time() - T0 < args.deadline - reserve
        st["save_fn"] = save_stable
        st["last_save"] = time.time()
        pretrain_loop(model, opt, data, args, st, keep_going, stable_lr, results, device, "stable")
        st.pop("save_fn", None)
        reached = (args.stable_steps > 0 and st["step"] >= args.stable_steps) or \
                  (args.stable_steps <= 0 and st["seconds"] >= args.stable_seconds)
        st["stable_done"] = bool(reached)
        save_stable()
        v = mlm_val(model, data, device)
        results["mlm_val"].append({"step": st["step"], "phase": "stable", **{k: round(x, 4) for k, x in v.items()}})
        log(f"MLM val loss at step {st['step']} (stable): {v}")
    final = st["stable_done"]
    results["calls"][-1].update({"end_stable_step": st["step"], "stable_seconds": round(st["seconds"], 1), "final": final})

    # ---- decay branch (model weights change; the stable checkpoint is already saved)
    rate = st.get("steps_per_s") or 10.0
    n_decay = args.decay_steps or max(1, int(args.decay_seconds * rate))
    left = args.deadline - (time.time() - T0) - n_ft * args.ft_seconds - 30.0
    if not args.decay_steps and n_decay > left * rate:
        n_decay = max(1, int(max(left, 5.0) * rate))
    start = st["step"]
    peak = args.lr * min(1.0, (start + 1) / args.warmup_steps)

    def decay_lr(s):
        lr = peak * max(0.0, 1.0 - (s["step"] - start) / n_decay)
        if "rewarm_from" in s:  # fresh optimizer state: keep re-warming
            lr *= min(1.0, (s["step"] - s["rewarm_from"] + 1) / args.rewarm_steps)
        return lr
    log(f"decay branch: {n_decay} steps from lr {peak:.2e} to 0")
    dst = dict(st, phase_steps=0)
    pretrain_loop(model, opt, data, args, dst, lambda s: s["step"] < start + n_decay, decay_lr, results, device, "decay")
    v = mlm_val(model, data, device)
    results["mlm_val"].append({"step": dst["step"], "phase": "decayed", **{k: round(x, 4) for k, x in v.items()}})
    results["pretraining"] = {"stable_steps": st["step"], "decay_steps": n_decay, "total_steps": dst["step"],
                              "pretrain_seconds": round(dst["seconds"], 1), "batch": [args.batch, args.max_seq],
                              "tokens_seen": dst["step"] * args.batch * args.max_seq,
                              "epochs": round(dst["step"] / data.batches_per_epoch, 2),
                              "tokens_per_s": dst.get("tokens_per_s"), "final": final}
    log(f"MLM val loss after decay (step {dst['step']}): {v}")
    del opt
    model.eval()

    # ---- fine-tuning (first lr is the exported one)
    lrs = [float(x) for x in args.ft_lrs.split(",")]
    chosen = None
    for i, lr in enumerate(lrs):
        need = args.ft_seconds if not results["finetune_runs"] else results["finetune_runs"][-1]["seconds"]
        if i > 0 and time.time() - T0 + need + 25 > args.deadline:
            log(f"skip finetune lr {lr:g}: not enough time")
            continue
        clf, run = finetune(model, args, lr, train, dev, device, args.seed + 17, args.deadline - 25, results["finetune_runs"])
        if i == 0:
            chosen = clf
        else:
            del clf

    # ---- f32 evaluation of the exported weights + export
    clf = chosen.float().eval()
    if args.export_dtype == "bf16":
        bf16_round_(clf)
    ev = evaluate(clf, dev, device, f32=True)
    ev_c = evaluate(clf, dev, device, f32=True, conditional=True)
    agree = float((ev["pred"] == ev_c["pred"]).float().mean())
    maxdiff = float((ev["logits"] - ev_c["logits"]).abs().max())
    log(f"SST-2 dev accuracy (PyTorch f32, exported weights): {ev['accuracy']:.4f}; conditional per-token FFF walk: "
        f"{ev_c['accuracy']:.4f} (prediction agreement {agree:.4f}, max |logit diff| {maxdiff:.2e})")
    results["sst2_dev"] = {"accuracy_f32": ev["accuracy"], "accuracy_f32_conditional_walk": ev_c["accuracy"],
                           "n": int(dev[0].shape[0]), "finetune_lr": lrs[0], "weights": args.export_dtype,
                           "final_model": final, "pooler": args.pooler}
    labels = dev[2].cpu().tolist()
    preds = {"format": "ufb-sst2-dev-predictions-v1", "labels_names": ["negative", "positive"],
             "accuracy": round(ev["accuracy"], 6), "n": len(labels),
             "examples": [{"i": i, "label": labels[i], "pred": int(ev["pred"][i]),
                           "logits": [round(float(x), 5) for x in ev["logits"][i]],
                           "ids": dev[0][i, :int(dev[1][i])].tolist()} for i in range(len(labels))]}
    with open(os.path.join(args.out, "sst2-dev-predictions.json"), "w") as f:
        json.dump(preds, f, separators=(",", ":"))
    sd = state_dict_numpy(clf)
    buf_path = os.path.join(args.tmp_state, "model.safetensors")
    os.makedirs(args.tmp_state, exist_ok=True)
    if args.export_dtype == "f32":
        write_safetensors(sd, buf_path)
        with open(buf_path, "rb") as f:
            save_split(f.read(), os.path.join(args.out, "model.safetensors"))
    else:  # bf16 values, sent as bf16; rebuilt as F32 safetensors locally (train/assemble.py)
        buf = io.BytesIO()
        torch.save({k: (v.to(torch.bfloat16) if v.is_floating_point() and v.ndim > 0 else v)
                    for k, v in clf.state_dict().items()}, buf)
        save_split(buf.getvalue(), os.path.join(args.out, "model_bf16.pt"))
    results["export"] = {"config": {"arch": arch_dict(clf.cfg)}, "dtype": args.export_dtype,
                         "classifier_parameters": sum(p.numel() for p in clf.parameters())}
    results["calls"][-1]["end_seconds_in_call"] = round(time.time() - T0, 1)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    log("done; files:", sorted(os.listdir(args.out)))


if __name__ == "__main__":
    main()
