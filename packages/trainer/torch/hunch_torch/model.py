"""The next-item GPT-2 (packages/trainer/src/model.ts and next-item/heads.ts), readable top
to bottom like nanoGPT. Module names are the Hugging Face GPT2LMHeadModel's and the model
contract's (core model-contract.ts), so `state_dict()` is the checkpoint as it is:

  transformer.wte/wpe, transformer.h.{i}.ln_1/attn.c_attn/attn.c_proj/ln_2/mlp.c_fc/mlp.c_proj,
  transformer.ln_f                         GPT-2; linear weights [in, out] (HF Conv1D)
  lm_head.bias [V]                         item popularity bias (HF GPT-2 has none)
  hunch.repeat.weight [D], .bias [1]       bonus for items already in the prefix
  hunch.cosine.scale [1]                   cosine scoring's fixed τ (a buffer: never trained)

Score of item c after a prefix whose last hidden state is h (e = L2-normalised rows of wte
with cosine scoring, input and output alike; wte itself without):
  s(c) = τ (h/|h|) · e[c] + lm_head.bias[c] + [c in prefix] (h · repeat.weight + repeat.bias)
"""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab_size: int
    n_positions: int
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 2
    layer_norm_epsilon: float = 1e-5


@dataclass
class Heads:
    item_bias: bool = True
    repeat: bool = True
    cosine_scale: float = 0.0  # > 0: cosine scoring with this τ


class Conv1D(nn.Module):
    """HF GPT-2's linear layer: y = x @ weight + bias, weight [in, out]."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


class Attention(nn.Module):
    def __init__(self, config, attn_dropout=0.0):
        super().__init__()
        self.n_head = config.n_head
        # On the attention weights (HF GPT-2's attn_pdrop), training only; none at 0, so no random draws either.
        self.attn_drop = nn.Dropout(attn_dropout) if attn_dropout > 0 else nn.Identity()
        self.c_attn = Conv1D(config.n_embd, 3 * config.n_embd)
        self.c_proj = Conv1D(config.n_embd, config.n_embd)

    def forward(self, x):
        B, T, D = x.shape
        q, k, v = self.c_attn(x).split(D, dim=2)
        heads = lambda t: t.view(B, T, self.n_head, D // self.n_head).transpose(1, 2)  # [B, H, T, hd]
        q, k, v = heads(q), heads(k), heads(v)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(D // self.n_head)
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        scores = scores.masked_fill(~causal, -1e9)
        y = self.attn_drop(F.softmax(scores, dim=-1)) @ v
        return self.c_proj(y.transpose(1, 2).reshape(B, T, D))


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = Conv1D(config.n_embd, 4 * config.n_embd)
        self.c_proj = Conv1D(4 * config.n_embd, config.n_embd)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))  # GPT-2's gelu_new


class Block(nn.Module):
    """Pre-LayerNorm: attention, then MLP, each added to the residual after dropout."""

    def __init__(self, config, dropout, attn_dropout=0.0):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.attn = Attention(config, attn_dropout)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.mlp = MLP(config)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        x = x + self.drop(self.attn(self.ln_1(x)))
        return x + self.drop(self.mlp(self.ln_2(x)))


class ItemBias(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(vocab_size))


class Repeat(nn.Module):
    def __init__(self, n_embd):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_embd))
        self.bias = nn.Parameter(torch.zeros(1))


class Cosine(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.register_buffer("scale", torch.tensor([float(scale)]))


class NextItemGPT2(nn.Module):
    def __init__(self, config, heads, dropout=0.0, attn_dropout=0.0):
        super().__init__()
        self.config = config
        self.heads = heads
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.n_positions, config.n_embd),
                drop=nn.Dropout(dropout),
                h=nn.ModuleList(Block(config, dropout, attn_dropout) for _ in range(config.n_layer)),
                ln_f=nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon),
            )
        )
        if heads.item_bias:
            self.lm_head = ItemBias(config.vocab_size)
        if heads.repeat or heads.cosine_scale:
            self.hunch = nn.ModuleDict()
            if heads.repeat:
                self.hunch["repeat"] = Repeat(config.n_embd)
            if heads.cosine_scale:
                self.hunch["cosine"] = Cosine(heads.cosine_scale)
        self.init_weights()

    def init_weights(self):
        """GPT-2's: N(0, 0.02), residual projections scaled by 1/sqrt(2 n_layer); LN gain 1; biases and heads 0."""
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * self.config.n_layer))
            elif name.endswith(("wte.weight", "wpe.weight", "c_attn.weight", "c_fc.weight")):
                nn.init.normal_(p, 0.0, 0.02)

    def item_table(self):
        """The item vectors e: wte's rows, L2-normalised with cosine scoring."""
        wte = self.transformer.wte.weight
        return normalize_rows(wte) if self.heads.cosine_scale else wte

    def hidden(self, ids, table=None):
        """Last hidden states [B, T, D] for token ids [B, T] (causal; padding only after real tokens)."""
        T = ids.shape[1]
        if T > self.config.n_positions:
            raise ValueError(f"sequence of {T} tokens exceeds the context of {self.config.n_positions}")
        table = self.item_table() if table is None else table
        x = F.embedding(ids, table) + self.transformer.wpe.weight[:T]
        x = self.transformer.drop(x)
        for block in self.transformer.h:
            x = block(x)
        return self.transformer.ln_f(x)

    def query(self, hidden):
        """h as it meets the item vectors: τ h/|h| with cosine scoring."""
        if self.heads.cosine_scale:
            return normalize_rows(hidden) * self.hunch["cosine"].scale
        return hidden

    def repeat_bonus(self, hidden):
        """[..., 1]: the bonus of items already in the prefix (0 without the repeat head)."""
        if not self.heads.repeat:
            return hidden.new_zeros(hidden.shape[:-1] + (1,))
        r = self.hunch["repeat"]
        return hidden @ r.weight.unsqueeze(1) + r.bias

    def item_bias(self):
        return self.lm_head.bias if self.heads.item_bias else None

    def lm_logits(self, ids):
        """GPT2LMHeadModel's logits [B, T, V]: h · wteᵀ, tied, without the heads (model.ts GPT2.forward)."""
        wte = self.transformer.wte.weight
        return self.hidden(ids, wte) @ wte.t()


def normalize_rows(x):
    """Row-wise L2 normalisation, as heads.ts (eps keeps all-zero rows finite)."""
    return x / (x.square().sum(-1, keepdim=True) + 1e-12).sqrt()
