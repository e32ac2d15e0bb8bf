"""Sentence embeddings from a trained UltraFastBERT encoder: SimCSE, then supervised STS-B / MRPC (issue 14).

    python3 train/embed.py --init <weights.q8.npz.xz> --data .data/embed/embed.json.xz --work $OUT/embed

Starts from the encoder (and word embedding) of a package-shaped int8 export (train/pipeline.py), trains
    1. unsupervised SimCSE: every sentence twice through the encoder under dropout, mean pooling over all
       positions (the engine's "avg" pooler), cosine / temperature, in-batch negatives;
       plus, when the data has them, crop pairs (two sentences of one document, in-batch negatives);
    2. supervised: STS-B train (cosine regression to score / 5, as sentence-transformers' CosineSimilarityLoss)
       alternating with MRPC train paraphrases (in-batch negatives, MultipleNegativesRanking), title pairs
       (headline -> text, hypothesis -> premise), WordNet pairs (synset words -> definition, word swaps) and
       crop pairs, each when the data has them,
evaluates Spearman's rho of cosine vs gold on STS-B dev after each stage and supervised epoch (f32, and with
int8-rounded weights), keeps the best supervised epoch on STS-B dev, and exports it as an MLM-kind package
export (weights.q8.npz: the serving engine's avg pooler gives the vectors).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import lzma
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pipeline import load_packed, quantized_state, autocast, make_optimizer  # noqa: E402
from ufb.export import arch_dict, config_from_arch  # noqa: E402
from ufb.model import UFBForMLM  # noqa: E402

T0 = time.time()


def log(*a):
    print(f"[{time.time() - T0:7.1f}s]", *a, flush=True)


def pad(seqs, device, pad_id=0):
    L = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), L), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), L), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    return ids.to(device), mask.to(device)


def embed(model, seqs, device):
    ids, mask = pad(seqs, device)
    h = model.encoder(ids, mask)
    m = mask.unsqueeze(-1).to(h.dtype)
    return (h * m).sum(1) / m.sum(1)


def ranking_loss(model, pairs, g, batch, temperature, device):
    """In-batch negatives over (a, b) pairs, both directions (MultipleNegativesRanking, symmetric)."""
    idx = g.integers(0, len(pairs), batch)
    a = F.normalize(embed(model, [pairs[i]["a"] for i in idx], device).float(), dim=-1)
    b = F.normalize(embed(model, [pairs[i]["b"] for i in idx], device).float(), dim=-1)
    sim = a @ b.t() / temperature
    target = torch.arange(len(idx), device=device)
    return 0.5 * (F.cross_entropy(sim, target) + F.cross_entropy(sim.t(), target))


def rankdata(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    xs = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(a, b) -> float:
    ra, rb = rankdata(np.asarray(a, dtype=np.float64)), rankdata(np.asarray(b, dtype=np.float64))
    ra -= ra.mean()
    rb -= rb.mean()
    return float((ra * rb).sum() / np.sqrt((ra ** 2).sum() * (rb ** 2).sum()))


@torch.no_grad()
def sts_eval(model, pairs, device) -> float:
    was = model.training
    model.eval()
    sims = []
    for i in range(0, len(pairs), 256):
        chunk = pairs[i:i + 256]
        a = F.normalize(embed(model, [p["a"] for p in chunk], device).float(), dim=-1)
        b = F.normalize(embed(model, [p["b"] for p in chunk], device).float(), dim=-1)
        sims += (a * b).sum(-1).cpu().tolist()
    model.train(was)
    return spearman(sims, [p["score"] for p in pairs])


def int8_spearman(model, pairs, device) -> float:
    state = {k: v.clone() for k, v in model.state_dict().items()}
    _, deq = quantized_state(model)
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in deq.items()}, strict=False)
    rho = sts_eval(model, pairs, device)
    model.load_state_dict(state)
    return rho


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--init", required=True)
    ap.add_argument("--arch", required=True, help="results.json of the run that made --init (its export arch)")
    ap.add_argument("--data", default=".data/embed/embed.json.xz")
    ap.add_argument("--work", required=True)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--unsup-steps", type=int, default=1500)
    ap.add_argument("--unsup-batch", type=int, default=128)
    ap.add_argument("--unsup-lr", type=float, default=5e-5)
    ap.add_argument("--temperature", type=float, default=0.05)
    ap.add_argument("--pair-weight", type=float, default=0.5,
                    help="weight of the ranking losses over crop pairs (both stages) and title pairs (supervised)")
    ap.add_argument("--sup-epochs", type=int, default=4)
    ap.add_argument("--sup-batch", type=int, default=32)
    ap.add_argument("--sup-lr", type=float, default=5e-5)
    ap.add_argument("--seconds", type=float, default=200.0, help="training budget (both stages)")
    ap.add_argument("--smoke", type=int, default=0, help="debug: keep only this many pairs/sentences per split")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    device = args.device
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(args.seed)
    data = json.loads(lzma.decompress(open(args.data, "rb").read()))
    if args.smoke:
        data = {k: (v[:args.smoke] if isinstance(v, list) else v) for k, v in data.items()}
    arch = json.load(open(args.arch))["export"]["config"]["arch"]
    cfg = config_from_arch(arch)
    cfg = dataclasses.replace(cfg, num_labels=None, head_dim=None, pooler="avg")
    model = UFBForMLM(cfg).to(device)
    load_packed(model, args.init)  # the classifier's pooler/head are not part of the MLM and are dropped
    results = {"args": vars(args), "arch": arch_dict(cfg), "sts_dev": []}
    rho = sts_eval(model, data["sts_dev"], device)
    results["sts_dev"].append({"stage": "init", "spearman": rho})
    log(f"init: STS-B dev spearman {rho:.4f}")
    g = np.random.default_rng(args.seed)

    # ---- 1. unsupervised SimCSE
    model.train()
    opt = make_optimizer(model, args.unsup_lr, 0.01, betas=(0.9, 0.999), eps=1e-8)
    unsup = data["unsup"]
    crops = data.get("crop_pairs", [])
    titles = data.get("title_pairs", []) + data.get("wordnet_pairs", [])
    t_start = time.time()
    for step in range(args.unsup_steps):
        if time.time() - t_start > args.seconds * 0.5:
            log(f"SimCSE: time budget reached at step {step}")
            break
        idx = g.integers(0, len(unsup), args.unsup_batch)
        seqs = [unsup[i] for i in idx]
        for gr in opt.param_groups:
            gr["lr"] = args.unsup_lr * min(1.0, (step + 1) / 100)
        with autocast(device):
            z1 = F.normalize(embed(model, seqs, device).float(), dim=-1)
            z2 = F.normalize(embed(model, seqs, device).float(), dim=-1)
            loss = F.cross_entropy(z1 @ z2.t() / args.temperature, torch.arange(len(seqs), device=device))
            if crops:
                loss = loss + args.pair_weight * ranking_loss(model, crops, g, args.unsup_batch, args.temperature, device)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 250 == 0:
            log(f"SimCSE step {step} loss {float(loss):.4f}")
    rho = sts_eval(model, data["sts_dev"], device)
    results["sts_dev"].append({"stage": "simcse", "steps": step + 1, "spearman": rho})
    log(f"after SimCSE: STS-B dev spearman {rho:.4f}")

    # ---- 2. supervised: STS-B regression + MRPC in-batch negatives, best epoch on STS-B dev
    opt = make_optimizer(model, args.sup_lr, 0.01, betas=(0.9, 0.999), eps=1e-8)
    sts, mrpc = data["sts_train"], data["mrpc_pos"]
    best = (rho, {k: v.detach().clone() for k, v in model.state_dict().items()}, "simcse")
    steps_per_epoch = len(sts) // args.sup_batch
    total = steps_per_epoch * args.sup_epochs
    step = 0
    for ep in range(args.sup_epochs):
        perm = g.permutation(len(sts))
        for b in range(steps_per_epoch):
            if time.time() - t_start > args.seconds:
                break
            for gr in opt.param_groups:
                gr["lr"] = args.sup_lr * min(1.0, (step + 1) / 50) * max(0.0, 1 - step / total)
            chunk = [sts[i] for i in perm[b * args.sup_batch:(b + 1) * args.sup_batch]]
            pj = g.integers(0, len(mrpc), args.sup_batch)
            with autocast(device):
                a = F.normalize(embed(model, [p["a"] for p in chunk], device).float(), dim=-1)
                c = F.normalize(embed(model, [p["b"] for p in chunk], device).float(), dim=-1)
                gold = torch.tensor([p["score"] / 5.0 for p in chunk], device=device)
                loss = F.mse_loss((a * c).sum(-1), gold)
                pa = F.normalize(embed(model, [mrpc[i]["a"] for i in pj], device).float(), dim=-1)
                pb = F.normalize(embed(model, [mrpc[i]["b"] for i in pj], device).float(), dim=-1)
                loss = loss + 0.5 * F.cross_entropy(pa @ pb.t() / args.temperature, torch.arange(len(pj), device=device))
                if titles:
                    loss = loss + args.pair_weight * ranking_loss(model, titles, g, args.sup_batch * 2, args.temperature, device)
                if crops:
                    loss = loss + args.pair_weight * ranking_loss(model, crops, g, args.sup_batch * 2, args.temperature, device)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
        rho = sts_eval(model, data["sts_dev"], device)
        results["sts_dev"].append({"stage": f"supervised epoch {ep + 1}", "steps": step, "spearman": rho})
        log(f"supervised epoch {ep + 1}: STS-B dev spearman {rho:.4f}")
        if rho > best[0]:
            best = (rho, {k: v.detach().clone() for k, v in model.state_dict().items()}, f"supervised epoch {ep + 1}")
        if time.time() - t_start > args.seconds:
            log("supervised: time budget reached")
            break
    model.load_state_dict(best[1])
    model.eval()
    results["selected"] = {"stage": best[2], "spearman_f32": sts_eval(model, data["sts_dev"], device),
                           "spearman_int8_weights": int8_spearman(model, data["sts_dev"], device)}
    log("selected:", json.dumps(results["selected"]))
    packed, _ = quantized_state(model)
    np.savez(os.path.join(args.work, "weights.q8.npz"), **packed)
    results["export"] = {"config": {"arch": arch_dict(cfg)}, "kind": "mlm"}
    results["wall_seconds"] = round(time.time() - T0, 1)
    json.dump(results, open(os.path.join(args.work, "results.json"), "w"), indent=1)
    log("done")


if __name__ == "__main__":
    main()
