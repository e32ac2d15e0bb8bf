"""CI check of the whole training -> export -> engine path, on the CPU in seconds (torch only).

    /usr/bin/python3 train/tiny_pipeline.py --work <dir>     (train/test_train.sh runs it)

1. trains a tiny UltraFastBERT (2 layers, hidden 64, 2 FFF trees of depth 3, the fixture's 512-token
   vocabulary) for a few MLM steps, then a few classification steps, on token ids (no `tokenizers` needed);
2. exports both checkpoints (classifier and MLM) in the published layout (own safetensors writer), and the MLM
   once more the way train/embed.py exports an embedding model (weights.q8.npz + results.json), turned into a
   checkpoint by `train/assemble2.py --embedding`;
3. `npx ufb convert <ckpt> <pkg> --dtype f32` and `npx ufb run <pkg> --input <in.json>`;
4. compares the engine with PyTorch: hidden states and logits (the embedding package: its mean-pooled
   vectors) to --tol (abs), every FFF path exactly; the embedding package's manifest says kind "embedding";
5. `npx ufb unpack` of the classifier package loads (`pipeline.load_packed`) into a fresh model with every
   tensor equal to the trained one, and `soup.py` averages it with its checkpoint back to the checkpoint.
Exits non-zero on any difference.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from pipeline import load_packed, quantized_state  # noqa: E402
from prepare_data import save_u16  # noqa: E402
from soup import make_soup  # noqa: E402
from ufb.export import arch_dict, export_checkpoint, load_checkpoint, read_safetensors  # noqa: E402
from ufb.model import UFBConfig, UFBForMLM, classifier_from_mlm  # noqa: E402
from ufb.wordpiece import WordPiece, load_vocab_from_tokenizer_json  # noqa: E402

TOKENIZER = os.path.join(ROOT, "test", "fixtures", "reference", "tiny", "tokenizer.json")
TEXTS = [  # a few labelled sentences, tokenized with the fixture's tiny vocabulary (pure-Python WordPiece)
    ("a charming and often affecting journey", 1), ("the movie is bleak and desperate", 0),
    ("it is a great film with a good story", 1), ("the worst film of the year", 0),
    ("an amazing, funny and smart comedy", 1), ("dull, boring and far too long", 0),
    ("one of the best films this year", 1), ("a bad movie with no wit", 0),
]


def run(cmd, **kw):
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, check=True, **kw)


def reference(model, ids, mask, positions=None):
    """float64 PyTorch reference: hidden [B,S,H], logits, paths [L,B,S,K,D+1], min |branching logit|."""
    m = model.double().eval()
    trace = []
    with torch.no_grad():
        h = m.encoder(ids, mask, use_sdpa=False, conditional=True, trace=trace)
        h_masked = m.encoder(ids, mask, use_sdpa=False)  # the training forward gives the same result
        assert (h - h_masked).abs().max() < 1e-9
        if hasattr(m, "head"):
            logits = m.head(m.pooler(h, mask))
        else:
            logits = torch.stack([h[b, s] @ m.decoder.weight.T for b, s in positions])
    paths = torch.stack([p for p, _ in trace])
    plogits = torch.stack([l for _, l in trace])
    real = mask.bool()[None, :, :, None, None].expand_as(plogits)
    margin = plogits[..., :-1][real[..., :-1]].abs().min().item()
    return h, logits, paths, margin


def compare(name, got, h, logits, paths, mask, tol):
    errors = []
    B, S = mask.shape
    gh, gl, gp = got.get("hidden"), got.get("logits"), got.get("paths")
    if gh is None or gl is None or gp is None:
        return [f"{name}: ufb run output lacks hidden/logits/paths (keys {sorted(got)})"]
    max_h = 0.0
    n_paths = bad_paths = 0
    for b in range(B):
        n = int(mask[b].sum())
        for s in range(n):
            d = (torch.tensor(gh[b][s], dtype=torch.float64) - h[b, s]).abs().max().item()
            max_h = max(max_h, d)
            for l in range(paths.shape[0]):
                n_paths += 1
                if gp[l][b][s] != paths[l, b, s].tolist():
                    bad_paths += 1
                    if bad_paths <= 5:
                        errors.append(f"{name}: path layer {l} row {b} pos {s}: engine {gp[l][b][s]} != torch {paths[l, b, s].tolist()}")
    max_l = (torch.tensor(gl, dtype=torch.float64) - logits).abs().max().item()
    print(f"{name}: max |Δ hidden| {max_h:.2e}, max |Δ logits| {max_l:.2e}, FFF paths equal {n_paths - bad_paths}/{n_paths}")
    if max_h > tol:
        errors.append(f"{name}: hidden differs by {max_h:.3e} > {tol}")
    if max_l > tol:
        errors.append(f"{name}: logits differ by {max_l:.3e} > {tol}")
    return errors


def clear_inputs(model, first, second, n_random, g, wp, vocab_size, positions=None):
    """Two real rows and one random row (a <cls> first), padded; retried until no branching logit is within 1e-4
    of 0 so the engine and PyTorch cannot take different FFF paths by rounding. Returns the reference too."""
    for attempt in range(50):
        rows = [first[:], second[:], torch.randint(7, vocab_size, (n_random,), generator=g).tolist()]
        rows[2][0] = wp.cls
        S = max(map(len, rows))
        ids_t = torch.tensor([r + [wp.pad] * (S - len(r)) for r in rows])
        mask_t = torch.tensor([[1] * len(r) + [0] * (S - len(r)) for r in rows])
        h, logits, paths, margin = reference(model, ids_t, mask_t, positions)
        if margin > 1e-4:
            break
    return ids_t, mask_t, h, logits, paths, margin, attempt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/ufb-tiny-pipeline")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--no-engine", action="store_true", help="stop after the export (Python side only)")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.manual_seed(0)
    wp = WordPiece(load_vocab_from_tokenizer_json(TOKENIZER))
    cfg = UFBConfig(vocab_size=len(wp.vocab), hidden_size=64, num_layers=2, num_heads=4, fff_trees=2, fff_depth=3,
                    max_seq_length=32)
    mlm = UFBForMLM(cfg)
    opt = torch.optim.AdamW(mlm.parameters(), lr=3e-3)
    special = torch.tensor(sorted({wp.pad, wp.unk, wp.cls, wp.sep, wp.mask}))
    for step in range(args.steps):  # MLM on random ids (the point is the plumbing, not the quality)
        ids = torch.randint(0, cfg.vocab_size, (8, 24))
        sel = (torch.rand(ids.shape) < 0.25) & ~torch.isin(ids, special)
        labels = torch.where(sel, ids, torch.full_like(ids, -100))
        loss = mlm.mlm_loss(torch.where(sel, torch.full_like(ids, wp.mask), ids), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"mlm: {args.steps} steps, loss {loss.item():.3f}")
    clf = classifier_from_mlm(mlm, num_labels=2, head_dim=48, pooler="zero_index")
    opt = torch.optim.AdamW(clf.parameters(), lr=1e-3)
    enc = [[wp.cls] + wp.encode_plain(t) + [wp.sep] for t, _ in TEXTS]
    L = max(map(len, enc))
    ids = torch.tensor([e + [wp.pad] * (L - len(e)) for e in enc])
    mask = torch.tensor([[1] * len(e) + [0] * (L - len(e)) for e in enc])
    y = torch.tensor([l for _, l in TEXTS])
    for step in range(args.steps):
        logits, _ = clf(ids, mask)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"classifier: {args.steps} steps, loss {loss.item():.3f}")
    clf.eval()
    mlm.eval()

    ck_clf, ck_mlm = os.path.join(args.work, "ckpt-clf"), os.path.join(args.work, "ckpt-mlm")
    export_checkpoint(clf, ck_clf, TOKENIZER, {0: "negative", 1: "positive"})
    export_checkpoint(mlm, ck_mlm, TOKENIZER)
    # round trip: the exported files load back to the same function
    for model, d in ((clf, ck_clf), (mlm, ck_mlm)):
        back = load_checkpoint(d)
        for k, v in model.state_dict().items():
            assert torch.equal(v, back.state_dict()[k]), k
    print("exported and re-imported:", ck_clf, ck_mlm)

    # engine inputs: 3 rows (one right-padded with a mask); pick ids whose branching logits are clear of 0
    g = torch.Generator().manual_seed(1)
    errors = []
    jobs = []
    for name, model, ckpt in (("classifier", clf, ck_clf), ("mlm", mlm, ck_mlm)):
        positions = [[0, 1], [1, 2], [2, 12]] if name == "mlm" else None
        ids_t, mask_t, h, logits, paths, margin, attempt = clear_inputs(model, enc[0], enc[3], 13, g, wp, cfg.vocab_size, positions)
        print(f"{name}: min |branching logit| {margin:.2e} (attempt {attempt + 1})")
        inp = {"ids": ids_t.tolist(), "mask": mask_t.tolist()}
        if positions:
            inp["positions"] = positions
        jobs.append((name, ckpt, inp, h, logits, paths, mask_t))
    # the embedding path: embed.py's export of an encoder (int8 npz + results.json) → assemble2.py --embedding
    emb_out, ck_emb = os.path.join(args.work, "embed-out"), os.path.join(args.work, "ckpt-embed")
    os.makedirs(emb_out, exist_ok=True)
    packed, _ = quantized_state(mlm)
    np.savez(os.path.join(emb_out, "weights.q8.npz"), **packed)
    emb_arch = arch_dict(dataclasses.replace(cfg, pooler="avg"))
    with open(os.path.join(emb_out, "results.json"), "w") as f:
        json.dump({"export": {"config": {"arch": emb_arch}, "kind": "mlm"}, "selected": {"stage": "tiny", "spearman_f32": None}}, f)
    run([sys.executable, os.path.join(HERE, "assemble2.py"), "--embedding", "--from", emb_out, "--out", args.work,
         "--name", "ckpt-embed", "--tokenizer", TOKENIZER])
    with open(os.path.join(ck_emb, "config.json")) as f:
        assert json.load(f)["sentence_embedding"] == {"pooler": "avg", "normalize": "l2"}
    emb = load_checkpoint(ck_emb)  # the int8 values times their scales, as the package will hold them
    ids_t, mask_t, h, _, paths, margin, attempt = clear_inputs(emb, enc[1], enc[4], 11, g, wp, cfg.vocab_size, [[0, 0]])
    print(f"embedding: min |branching logit| {margin:.2e} (attempt {attempt + 1})")
    m = mask_t[:, :, None].double()
    pooled = (h * m).sum(1) / m.sum(1)  # the engine's avg pooler: real tokens only
    jobs.append(("embedding", ck_emb, {"ids": ids_t.tolist(), "mask": mask_t.tolist()}, h, pooled, paths, mask_t))
    if args.no_engine:
        print("python side OK (--no-engine)")
        return 0
    for name, ckpt, inp, h, logits, paths, mask_t in jobs:
        pkg = os.path.join(args.work, f"pkg-{name}")
        run(["npx", "ufb", "convert", ckpt, pkg, "--dtype", "f32", "--force"], stdout=subprocess.DEVNULL)
        in_path = os.path.join(args.work, f"in-{name}.json")
        with open(in_path, "w") as f:
            json.dump(inp, f)
        out = json.loads(run(["npx", "ufb", "run", pkg, "--input", in_path], stdout=subprocess.PIPE).stdout)
        if name == "embedding":
            with open(os.path.join(pkg, "manifest.json")) as f:
                config = json.load(f)["config"]
            if (config["kind"], config["pooler"], config.get("normalize")) != ("embedding", "avg", "l2"):
                errors.append(f"embedding: manifest config says kind {config['kind']}, pooler {config['pooler']}, normalize {config.get('normalize')}")
            out["logits"] = out.pop("pooled", None)  # ufb run prints an embedding package's pooled vectors
        errors += compare(name, out, h, logits, paths, mask_t, args.tol)
    # a package as a distillation teacher: train/label.ts writes the engine's logits over a distill stream as .npy,
    # one row per <cls>-started sentence, in order (the clear inputs of the classifier, their padding dropped)
    _, _, inp, _, logits, _, _ = jobs[0]
    rows = [r[:sum(m)] for r, m in zip(inp["ids"], inp["mask"])]
    keep = [i for i, r in enumerate(rows) if r[0] == wp.cls and wp.cls not in r[1:]]
    stream, labelled = os.path.join(args.work, "distill.u16.xz"), os.path.join(args.work, "teacher-logits.npy")
    save_u16(stream, np.array([t for i in keep for t in rows[i]]))
    run(["npx", "node", os.path.join(HERE, "label.ts"), os.path.join(args.work, "pkg-classifier"), "--sentences", stream,
         "--out", labelled], stdout=subprocess.DEVNULL)
    got = np.load(labelled)
    want = logits[keep].numpy()
    if len(keep) < 2 or got.shape != want.shape or not np.allclose(got, want, atol=args.tol):
        errors.append(f"label.ts: {got.shape} logits over {len(keep)} sentences, PyTorch {want.shape}: "
                      f"max |diff| {np.abs(got - want).max() if got.shape == want.shape else 'shape'}")
    # the way back: `ufb unpack` of the f32 classifier package loads into a fresh model with the same weights
    unpacked = os.path.join(args.work, "unpacked-classifier")
    run(["npx", "ufb", "unpack", os.path.join(args.work, "pkg-classifier"), unpacked], stdout=subprocess.DEVNULL)
    back = classifier_from_mlm(UFBForMLM(cfg), num_labels=2, head_dim=48, pooler="zero_index", seed=99)
    load_packed(back, unpacked)
    for k, v in clf.state_dict().items():
        if not torch.equal(v, back.state_dict()[k]):
            errors.append(f"ufb unpack: {k} differs from the trained classifier after convert --dtype f32 and unpack")
    # ... and joins a soup with the checkpoint it came from (train/soup.py): f32 round trip, so the mean is the checkpoint
    souped = os.path.join(args.work, "soup-classifier")
    make_soup([ck_clf, unpacked], souped)
    want, got = (read_safetensors(os.path.join(d, "model.safetensors")) for d in (ck_clf, souped))
    if set(want) != set(got) or any(not np.array_equal(want[k], got[k]) for k in want):
        errors.append("soup.py: the checkpoint and its own unpacked package do not average to the checkpoint")
    if errors:
        print("FAIL\n" + "\n".join(errors))
        return 1
    print("OK: the engine reproduces PyTorch (hidden, logits within %g; every FFF path equal)" % args.tol)
    return 0


if __name__ == "__main__":
    sys.exit(main())
