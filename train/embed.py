"""Sentence embeddings from a trained UltraFastBERT encoder: SimCSE, then supervised STS-B / MRPC (issue 14).

    python3 train/embed.py --init <weights.q8.npz.xz> --data .data/embed/embed.json.xz --work $OUT/embed

Starts from the encoder (and word embedding) of a package-shaped int8 export (train/pipeline.py), trains
    1. unsupervised SimCSE: every sentence twice through the encoder under dropout, mean pooling over all
       positions (the engine's "avg" pooler), cosine / temperature, in-batch negatives;
       plus ranking over the pair sources named by --unsup-pair-sources, if any;
    2. supervised: STS-B train (cosine regression to score / 5, as sentence-transformers' CosineSimilarityLoss)
       next to a ranking loss (in-batch negatives, MultipleNegativesRanking, symmetric) over the pair sources
       named by --pair-sources, one source per batch (the data's "pairs": MRPC paraphrases, QNLI question ->
       sentence, AG News headline -> text, RTE hypothesis -> premise, STS-B pairs scored >= 4, WordNet
       synonyms and definitions, crops of one document; train/prepare_reviews.ts embed writes them),
evaluates Spearman's rho of cosine vs gold on STS-B dev, and recall on the data's retrieval dev set
(train/retrieval-dev, not the test set in test/data/retrieval), after each stage and supervised epoch, keeps the
best supervised epoch by --select, and exports it as an MLM-kind package export (weights.q8.npz: the serving
engine's avg pooler gives the vectors), with STS-B dev for f32 and int8-rounded weights.
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


def parse_sources(spec: str, available: dict) -> list[tuple[str, float]]:
    """"qnli,agnews:2" -> [("qnli", 1.0), ("agnews", 2.0)]: pair sources of the data and their sampling weights."""
    out = []
    for item in filter(None, spec.split(",")):
        name, _, w = item.partition(":")
        if name not in available:
            raise SystemExit(f"--pair-sources: {name!r} is not in the data (has {', '.join(sorted(available))})")
        out.append((name, float(w or 1.0)))
    return out


@torch.no_grad()
def retrieval_eval(model, rset, device) -> dict:
    """Recall@1/@10 over a retrieval set {queries: [{q, rel}], corpus: [ids]}: cosine of L2-normalised vectors,
    ties broken by corpus order as `ufb eval` does (a relevant sentence must beat an equal distractor)."""
    was = model.training
    model.eval()

    def vectors(seqs):
        return torch.cat([F.normalize(embed(model, seqs[i:i + 256], device).float(), dim=-1)
                          for i in range(0, len(seqs), 256)])

    corpus = vectors(rset["corpus"])
    queries = vectors([q["q"] for q in rset["queries"]])
    sims = queries @ corpus.t()
    rel = torch.tensor([q["rel"] for q in rset["queries"]], device=sims.device)
    target = sims.gather(1, rel[:, None])
    idx = torch.arange(corpus.shape[0], device=sims.device)[None, :]
    # rank = corpus entries scoring higher, or equal and earlier
    rank = ((sims > target) | ((sims == target) & (idx < rel[:, None]))).sum(1)
    model.train(was)
    return {"recall_at_1": float((rank < 1).float().mean()), "recall_at_10": float((rank < 10).float().mean()),
            "queries": len(rset["queries"]), "corpus": int(corpus.shape[0])}


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
    ap.add_argument("--pair-sources", default="mrpc",
                    help="supervised stage: ranking (in-batch negatives) over these pair sources of the data, "
                         "one source per batch, drawn by weight: 'qnli,agnews:2,mrpc'")
    ap.add_argument("--unsup-pair-sources", default="",
                    help="SimCSE stage: ranking over these pair sources too (same syntax)")
    ap.add_argument("--pair-weight", type=float, default=0.5, help="weight of the ranking loss next to STS-B regression")
    ap.add_argument("--pair-batch", type=int, default=32)
    ap.add_argument("--sup-epochs", type=int, default=4)
    ap.add_argument("--sup-batch", type=int, default=32)
    ap.add_argument("--sup-lr", type=float, default=5e-5)
    ap.add_argument("--select", default="sts", choices=["sts", "sts+retrieval"],
                    help="which supervised epoch to keep: best STS-B dev Spearman, or best Spearman + dev recall@10")
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
        data["pairs"] = {k: v[:args.smoke] for k, v in data.get("pairs", {}).items()}
        if data.get("retrieval_dev"):
            r = data["retrieval_dev"]
            qs = r["queries"][:args.smoke]
            data["retrieval_dev"] = {"queries": [{"q": q["q"], "rel": args.smoke + i} for i, q in enumerate(qs)],
                                     "corpus": r["corpus"][:args.smoke] + [r["corpus"][q["rel"]] for q in qs]}
    pairs = data.get("pairs", {})
    sup_sources = parse_sources(args.pair_sources, pairs)
    unsup_sources = parse_sources(args.unsup_pair_sources, pairs)
    rset = data.get("retrieval_dev")
    arch = json.load(open(args.arch))["export"]["config"]["arch"]
    cfg = config_from_arch(arch)
    cfg = dataclasses.replace(cfg, num_labels=None, head_dim=None, pooler="avg")
    model = UFBForMLM(cfg).to(device)
    load_packed(model, args.init)  # the classifier's pooler/head are not part of the MLM and are dropped
    results = {"args": vars(args), "arch": arch_dict(cfg), "sts_dev": [],
               "pair_sources": {name: len(pairs[name]) for name, _ in sup_sources + unsup_sources}}

    def evaluate(stage: str, **extra) -> dict:
        row = {"stage": stage, **extra, "spearman": sts_eval(model, data["sts_dev"], device)}
        if rset:
            row["retrieval_dev"] = retrieval_eval(model, rset, device)
        results["sts_dev"].append(row)
        log(f"{stage}: STS-B dev spearman {row['spearman']:.4f}"
            + (f", retrieval dev R@1 {row['retrieval_dev']['recall_at_1']:.3f} R@10 {row['retrieval_dev']['recall_at_10']:.3f}"
               if rset else ""))
        return row

    def score(row: dict) -> float:
        if args.select == "sts+retrieval" and "retrieval_dev" in row:
            return row["spearman"] + row["retrieval_dev"]["recall_at_10"]
        return row["spearman"]

    def ranking(sources, batch):
        names = [n for n, _ in sources]
        w = np.array([x for _, x in sources])
        name = names[g.choice(len(names), p=w / w.sum())]
        return ranking_loss(model, pairs[name], g, batch, args.temperature, device)

    evaluate("init")
    g = np.random.default_rng(args.seed)

    # ---- 1. unsupervised SimCSE
    model.train()
    opt = make_optimizer(model, args.unsup_lr, 0.01, betas=(0.9, 0.999), eps=1e-8)
    unsup = data["unsup"]
    t_start = time.time()
    step = -1
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
            if unsup_sources:
                loss = loss + args.pair_weight * ranking(unsup_sources, args.unsup_batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 250 == 0:
            log(f"SimCSE step {step} loss {float(loss):.4f}")
    row = evaluate("simcse", steps=step + 1)

    # ---- 2. supervised: STS-B regression + ranking over the pair sources; the best epoch by --select
    opt = make_optimizer(model, args.sup_lr, 0.01, betas=(0.9, 0.999), eps=1e-8)
    sts = data["sts_train"]
    best = (score(row), {k: v.detach().clone() for k, v in model.state_dict().items()}, "simcse")
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
            with autocast(device):
                a = F.normalize(embed(model, [p["a"] for p in chunk], device).float(), dim=-1)
                c = F.normalize(embed(model, [p["b"] for p in chunk], device).float(), dim=-1)
                gold = torch.tensor([p["score"] / 5.0 for p in chunk], device=device)
                loss = F.mse_loss((a * c).sum(-1), gold)
                if sup_sources:
                    loss = loss + args.pair_weight * ranking(sup_sources, args.pair_batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
        row = evaluate(f"supervised epoch {ep + 1}", steps=step)
        if score(row) > best[0]:
            best = (score(row), {k: v.detach().clone() for k, v in model.state_dict().items()}, f"supervised epoch {ep + 1}")
        if time.time() - t_start > args.seconds:
            log("supervised: time budget reached")
            break
    model.load_state_dict(best[1])
    model.eval()
    results["selected"] = {"stage": best[2], "spearman_f32": sts_eval(model, data["sts_dev"], device),
                           "spearman_int8_weights": int8_spearman(model, data["sts_dev"], device)}
    if rset:
        results["selected"]["retrieval_dev_f32"] = retrieval_eval(model, rset, device)
    log("selected:", json.dumps(results["selected"]))
    packed, _ = quantized_state(model)
    np.savez(os.path.join(args.work, "weights.q8.npz"), **packed)
    results["export"] = {"config": {"arch": arch_dict(cfg)}, "kind": "mlm"}
    results["wall_seconds"] = round(time.time() - T0, 1)
    json.dump(results, open(os.path.join(args.work, "results.json"), "w"), indent=1)
    log("done")


if __name__ == "__main__":
    main()
