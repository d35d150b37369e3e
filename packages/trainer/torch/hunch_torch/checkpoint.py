"""The checkpoint contract of packages/trainer/src/checkpoint.ts and next-item/checkpoint.ts:

  config.json          Hugging Face GPT2Config (model_type gpt2, tied embeddings, gelu_new)
  model.safetensors    every tensor under its Hugging Face / model-contract name
  hunch-train.json     {"format": "hunch-checkpoint", vocabulary, itemCounts, training, nextItem: {heads}}

`hunch export` reads it and refuses, naming the tensor, anything else.
"""
import json
import os
import shutil
import tempfile

import torch

from . import safetensors
from .model import Config, Heads, NextItemGPT2


def hf_config(config, bos, pad):
    """config.json, field for field what checkpoint.ts hfConfig writes."""
    return {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "vocab_size": config.vocab_size,
        "n_positions": config.n_positions,
        "n_ctx": config.n_positions,
        "n_embd": config.n_embd,
        "n_layer": config.n_layer,
        "n_head": config.n_head,
        "n_inner": None,
        "activation_function": "gelu_new",
        "resid_pdrop": 0,
        "embd_pdrop": 0,
        "attn_pdrop": 0,
        "layer_norm_epsilon": config.layer_norm_epsilon,
        "initializer_range": 0.02,
        "bos_token_id": bos,
        "eos_token_id": bos,
        "pad_token_id": pad,
        "tie_word_embeddings": True,
        "use_cache": False,
    }


def heads_json(heads):
    """nextItem.heads as heads.ts HeadOptions spells it."""
    out = {"itemBias": heads.item_bias, "repeat": heads.repeat}
    if heads.cosine_scale:
        out["cosineScale"] = heads.cosine_scale
    return out


def write_checkpoint(directory, model, manifest, training):
    """Writes the three files to a temporary sibling, then renames it into place."""
    state = {name: t for name, t in model.state_dict().items()}
    metadata = {
        "format": "hunch-checkpoint",
        "vocabulary": manifest["vocabulary"],
        **({"merges": manifest["merges"]} if manifest.get("merges") else {}),
        "itemCounts": manifest.get("itemCounts", {}),
        "training": training,
        "nextItem": {"heads": heads_json(model.heads)},
    }
    parent = os.path.dirname(os.path.abspath(directory))
    os.makedirs(parent, exist_ok=True)
    temp = tempfile.mkdtemp(prefix=".hunch-torch-", dir=parent)
    with open(os.path.join(temp, "config.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(hf_config(model.config, manifest["bos"], manifest["pad"]), indent=2) + "\n")
    with open(os.path.join(temp, "model.safetensors"), "wb") as f:
        f.write(safetensors.encode(state))
    with open(os.path.join(temp, "hunch-train.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(metadata, indent=2) + "\n")
    if os.path.exists(directory):
        shutil.rmtree(directory)
    os.rename(temp, directory)


def read_checkpoint(directory):
    """(model, hunch-train.json) of a checkpoint directory; strict: every tensor, by name and shape."""
    with open(os.path.join(directory, "config.json"), encoding="utf-8") as f:
        raw = json.load(f)
    with open(os.path.join(directory, "hunch-train.json"), encoding="utf-8") as f:
        metadata = json.load(f)
    with open(os.path.join(directory, "model.safetensors"), "rb") as f:
        tensors = safetensors.decode(f.read())
    config = Config(raw["vocab_size"], raw["n_positions"], raw["n_embd"], raw["n_layer"], raw["n_head"], raw.get("layer_norm_epsilon", 1e-5))
    recorded = metadata.get("nextItem", {}).get("heads")
    if recorded is None:
        scale = tensors.get("hunch.cosine.scale")
        recorded = {"itemBias": "lm_head.bias" in tensors, "repeat": "hunch.repeat.weight" in tensors, "cosineScale": float(scale[0]) if scale is not None else 0}
    heads = Heads(bool(recorded.get("itemBias")), bool(recorded.get("repeat")), float(recorded.get("cosineScale") or 0))
    model = NextItemGPT2(config, heads)
    model.load_state_dict(tensors, strict=True)
    return model, metadata
