"""UltraFastBERT (crammedBERT with fast-feedforward trees), written from docs/ultrafastbert-spec.md.

Module names reproduce the published checkpoint's state-dict keys exactly:

    encoder.embedding.word_embedding.weight            [V, H]
    encoder.embedding.pos_embedding.scale_factor       [1]
    encoder.embedding.norm.{weight,bias}               [H]
    encoder.layers.{i}.norm1/norm2.{weight,bias}       [H]
    encoder.layers.{i}.attn.self_attention.norm_factor []       (buffer, 1/sqrt(head_dim))
    encoder.layers.{i}.attn.self_attention.query_key_value.weight [3H, H]  per-head interleaved q|k|v
    encoder.layers.{i}.attn.dense.weight               [H, H]
    encoder.layers.{i}.ffn.linear_in.{weight,bias}     [K*N, H], [K*N]
    encoder.layers.{i}.ffn.linear_out.weight           [H, K*N]
    encoder.final_norm.{weight,bias}                   [H]
    decoder.weight                                     [V, H]   (MLM model; tied to the word embedding)
    pooler.dense.{weight,bias}, head.{weight,bias}     [C, H], [C], [L, C], [L]   (classifier)

Training computes every FFF node and masks the activations off the hard root-to-leaf path (as the paper's
code does), or, with `fff_train="gathered"`, the same values and gradients from the path rows alone
(`FFF.forward_gathered`); `FFF.forward_conditional` is the engine's per-token walk and is used to check that
they agree.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


@dataclasses.dataclass
class UFBConfig:
    vocab_size: int = 10240
    hidden_size: int = 512
    num_layers: int = 4
    num_heads: int = 8
    fff_trees: int = 16          # K (crammedBERT "intermed_size" for intermed_type "fff")
    fff_depth: int = 5           # D: branching decisions per tree; D+1 levels, 2^(D+1)-1 nodes
    max_seq_length: int = 128
    norm_eps: float = 1e-12
    dropout: float = 0.1         # hidden (embedding, attention output, FFF output) dropout
    attn_dropout: float = 0.1
    init_std: float = 0.02
    # training FFF forward: "masked" computes every node and masks off the path (the paper's code);
    # "gathered" computes the top `fff_dense_levels` levels densely and gathers the path rows below
    # (same values and gradients, cost per token ~ levels instead of nodes: deep trees train like shallow ones)
    fff_train: str = "masked"
    fff_dense_levels: int = 6
    # classification head
    num_labels: Optional[int] = None
    head_dim: Optional[int] = None   # pooler dense width C
    pooler: str = "zero_index"       # "zero_index" (first token, <cls>) or "avg"
    classifier_dropout: float = 0.1

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.num_heads

    @property
    def fff_nodes(self) -> int:
        return 2 ** (self.fff_depth + 1) - 1


def sinusoid_table(max_len: int, dim: int) -> torch.Tensor:
    """Interleaved sin/cos table built in float32 exactly as crammedBERT's SinusoidalPositional."""
    pe = torch.zeros(max_len, dim)
    position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, dim, 2).float() * (-math.log(10000.0) / dim))
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe


class ScaledSinusoidal(nn.Module):
    def __init__(self, dim: int, max_len: int):
        super().__init__()
        self.scale_factor = nn.Parameter(torch.tensor([1.0 / dim ** 0.5]))
        self.register_buffer("pe", sinusoid_table(max_len, dim), persistent=False)

    def forward(self, seq_len: int) -> torch.Tensor:
        return self.scale_factor * self.pe[:seq_len]


class Embedding(nn.Module):
    def __init__(self, cfg: UFBConfig):
        super().__init__()
        self.word_embedding = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.pos_embedding = ScaledSinusoidal(cfg.hidden_size, cfg.max_seq_length)
        self.norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.norm_eps)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        e = self.word_embedding(ids) + self.pos_embedding(ids.shape[1])
        return self.dropout(self.norm(e))


class SelfAttention(nn.Module):
    def __init__(self, cfg: UFBConfig):
        super().__init__()
        self.num_heads = cfg.num_heads
        self.head_size = cfg.head_size
        self.query_key_value = nn.Linear(cfg.hidden_size, 3 * cfg.hidden_size, bias=False)
        self.register_buffer("norm_factor", torch.tensor(1.0 / math.sqrt(cfg.head_size)))
        self.attn_dropout = cfg.attn_dropout

    def forward(self, x: torch.Tensor, mask_bias: Optional[torch.Tensor], use_sdpa: bool = True) -> torch.Tensor:
        B, S, H = x.shape
        qkv = self.query_key_value(x).view(B, S, self.num_heads, 3, self.head_size)
        q, k, v = (qkv[:, :, :, i].transpose(1, 2) for i in range(3))  # [B, nh, S, hd]
        p = self.attn_dropout if self.training else 0.0
        if use_sdpa and HAS_SDPA:
            m = mask_bias.to(q.dtype) if mask_bias is not None else None
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=m, dropout_p=p,
                                                 scale=float(self.norm_factor))
        else:
            scores = torch.matmul(q, k.transpose(-1, -2)) * self.norm_factor
            if mask_bias is not None:
                scores = scores + mask_bias
            probs = F.dropout(torch.softmax(scores, dim=-1), p=p, training=self.training)
            ctx = torch.matmul(probs, v)
        return ctx.transpose(1, 2).reshape(B, S, H)


class Attention(nn.Module):
    def __init__(self, cfg: UFBConfig):
        super().__init__()
        self.self_attention = SelfAttention(cfg)
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size, bias=False)

    def forward(self, x, mask_bias, use_sdpa=True):
        return self.dense(self.self_attention(x, mask_bias, use_sdpa))


class FFF(nn.Module):
    """K parallel binary trees of depth D; node n of tree t is row/column t*N + n."""

    def __init__(self, cfg: UFBConfig):
        super().__init__()
        self.H = cfg.hidden_size
        self.K = cfg.fff_trees
        self.D = cfg.fff_depth
        self.N = cfg.fff_nodes
        self.linear_in = nn.Linear(self.H, self.K * self.N, bias=True)
        self.linear_out = nn.Linear(self.K * self.N, self.H, bias=False)
        self.train_mode = cfg.fff_train
        self.dense_levels = cfg.fff_dense_levels

    def path_mask(self, logits: torch.Tensor) -> torch.Tensor:
        """logits [T, K, N] -> {0,1} mask [T, K, N] of the nodes on each token's root-to-leaf path."""
        T = logits.shape[0]
        with torch.no_grad():
            node = torch.zeros(T, self.K, 1, dtype=torch.long, device=logits.device)
            mask = torch.zeros_like(logits)
            mask.scatter_(2, node, 1.0)
            for _ in range(self.D):
                right = (torch.gather(logits, 2, node) > 0).long()
                node = 2 * node + 1 + right
                mask.scatter_(2, node, 1.0)
        return mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.train_mode == "gathered":
            return self.forward_gathered(x)
        shape = x.shape
        x = x.reshape(-1, self.H)
        logits = self.linear_in(x).view(-1, self.K, self.N)
        act = F.gelu(logits) * self.path_mask(logits)
        return self.linear_out(act.view(-1, self.K * self.N)).view(shape)

    def forward_gathered(self, x: torch.Tensor) -> torch.Tensor:
        """The masked forward's values and gradients at a cost that grows with the depth, not the node count.

        The top `dense_levels` levels (2^L - 1 nodes per tree, few) are one matmul and a mask, as in `forward`;
        below them each token's one node per level is gathered (F.embedding: its backward is a scatter-add into
        the rows the batch visited) and computed as a dot product."""
        shape = x.shape
        x = x.reshape(-1, self.H)
        T, K, N, H = x.shape[0], self.K, self.N, self.H
        L = max(1, min(self.dense_levels, self.D + 1))
        top = 2 ** L - 1
        W_in, b_in, W_out = self.linear_in.weight, self.linear_in.bias, self.linear_out.weight
        rows = (torch.arange(K, device=x.device)[:, None] * N + torch.arange(top, device=x.device)[None, :]).reshape(-1)
        logits = F.linear(x, W_in[rows], b_in[rows]).view(T, K, top)
        with torch.no_grad():
            node = torch.zeros(T, K, 1, dtype=torch.long, device=x.device)
            mask = torch.zeros_like(logits)
            mask.scatter_(2, node, 1.0)
            for _ in range(L - 1):
                node = 2 * node + 1 + (torch.gather(logits, 2, node) > 0).long()
                mask.scatter_(2, node, 1.0)
            node = node.squeeze(2)                               # [T, K]: the path's node on the last dense level
        y = F.linear((F.gelu(logits) * mask).view(T, K * top), W_out[:, rows])
        if L == self.D + 1:
            return y.view(shape)
        with torch.no_grad():
            last = torch.gather(logits.detach(), 2, node[:, :, None]).squeeze(2)
            node = 2 * node + 1 + (last > 0).long()
        W_out_rows = W_out.t()
        offset = torch.arange(K, device=x.device)[None, :] * N   # [1, K]
        for level in range(L, self.D + 1):
            row = node + offset                                  # [T, K] global rows
            w = F.embedding(row, W_in)                           # [T, K, H]
            logit = torch.einsum("th,tkh->tk", x, w) + F.embedding(row, b_in[:, None]).squeeze(2)
            y = y + torch.einsum("tk,tkh->th", F.gelu(logit), F.embedding(row, W_out_rows))
            if level < self.D:
                node = 2 * node + 1 + (logit.detach() > 0).long()
        return y.view(shape)

    @torch.no_grad()
    def forward_conditional(self, x: torch.Tensor):
        """The engine's semantics: per token and tree, walk D+1 nodes from the root; only those are computed.

        Returns (y, paths [T, K, D+1] local node indices, path_logits [T, K, D+1])."""
        shape = x.shape
        x = x.reshape(-1, self.H)
        T = x.shape[0]
        W_in, b_in, W_out = self.linear_in.weight, self.linear_in.bias, self.linear_out.weight
        y = torch.zeros_like(x)
        paths = torch.zeros(T, self.K, self.D + 1, dtype=torch.long, device=x.device)
        plog = torch.zeros(T, self.K, self.D + 1, dtype=x.dtype, device=x.device)
        for t in range(self.K):
            node = torch.zeros(T, dtype=torch.long, device=x.device)
            for level in range(self.D + 1):
                row = t * self.N + node
                logit = (x * W_in[row]).sum(-1) + b_in[row]
                y = y + F.gelu(logit)[:, None] * W_out[:, row].T
                paths[:, t, level] = node
                plog[:, t, level] = logit
                node = 2 * node + 1 + (logit > 0).long()
        return y.view(shape), paths, plog


class TransformerLayer(nn.Module):
    def __init__(self, cfg: UFBConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.hidden_size, eps=cfg.norm_eps)
        self.attn = Attention(cfg)
        self.norm2 = nn.LayerNorm(cfg.hidden_size, eps=cfg.norm_eps)
        self.ffn = FFF(cfg)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, h, mask_bias, use_sdpa=True, conditional=False, trace=None):
        h = h + self.dropout(self.attn(self.norm1(h), mask_bias, use_sdpa))
        x = self.norm2(h)
        if conditional:
            y, paths, plog = self.ffn.forward_conditional(x)
            if trace is not None:
                trace.append((paths.view(*x.shape[:2], *paths.shape[1:]), plog.view(*x.shape[:2], *plog.shape[1:])))
        else:
            y = self.ffn(x)
        return h + self.dropout(y)


class Encoder(nn.Module):
    def __init__(self, cfg: UFBConfig):
        super().__init__()
        self.embedding = Embedding(cfg)
        self.layers = nn.ModuleList([TransformerLayer(cfg) for _ in range(cfg.num_layers)])
        self.final_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.norm_eps)

    def forward(self, ids, mask=None, use_sdpa=True, conditional=False, trace=None):
        mask_bias = None
        if mask is not None:
            # additive key mask (1 - mask) * -10000, broadcast over heads and queries
            mask_bias = ((1.0 - mask.to(torch.float32)) * -10000.0)[:, None, None, :]
        h = self.embedding(ids)
        for layer in self.layers:
            h = layer(h, mask_bias, use_sdpa, conditional, trace)
        return self.final_norm(h)


def _init_weights(model: nn.Module, std: float) -> None:
    for name, m in model.named_modules():
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=std)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class UFBForMLM(nn.Module):
    def __init__(self, cfg: UFBConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        _init_weights(self, cfg.init_std)
        self.decoder.weight = self.encoder.embedding.word_embedding.weight  # tied

    def forward(self, ids, mask=None, **kw):
        return self.encoder(ids, mask, **kw)

    def mlm_loss(self, ids, labels, ignore: int = -100):
        """Sparse prediction: the decoder runs only at positions whose label is not `ignore`."""
        h = self.encoder(ids)
        sel = labels != ignore
        logits = self.decoder(h[sel])
        return F.cross_entropy(logits.float(), labels[sel])


class Pooler(nn.Module):
    def __init__(self, cfg: UFBConfig):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.head_dim)
        self.scheme = cfg.pooler
        self.dropout = nn.Dropout(cfg.classifier_dropout)

    def forward(self, h, mask=None):
        if self.scheme == "zero_index":
            v = h[:, 0]
        elif self.scheme == "avg":
            v = h.mean(dim=1)  # spec: mean over all S positions (the engine never pads)
        else:
            raise ValueError(self.scheme)
        return self.dropout(torch.tanh(self.dense(v)))


class UFBForSequenceClassification(nn.Module):
    def __init__(self, cfg: UFBConfig):
        super().__init__()
        assert cfg.num_labels and cfg.head_dim
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.pooler = Pooler(cfg)
        self.head = nn.Linear(cfg.head_dim, cfg.num_labels)
        _init_weights(self, cfg.init_std)

    def forward(self, ids, mask=None, **kw):
        h = self.encoder(ids, mask, **kw)
        return self.head(self.pooler(h, mask)), h


def classifier_from_mlm(mlm: UFBForMLM, num_labels: int, head_dim: int, pooler: str, seed: int = 0,
                        classifier_dropout: float = 0.1) -> UFBForSequenceClassification:
    cfg = dataclasses.replace(mlm.cfg, num_labels=num_labels, head_dim=head_dim, pooler=pooler,
                              classifier_dropout=classifier_dropout)
    torch.manual_seed(seed)
    clf = UFBForSequenceClassification(cfg)
    clf.encoder.load_state_dict(mlm.encoder.state_dict())
    return clf.to(next(mlm.parameters()).device)
