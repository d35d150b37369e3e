"""Hunch's PyTorch trainer: the next-item GPT-2 of packages/trainer/src, trained with DDP.

Reads the token shards `hunch shards` writes (shards.py), trains the same model (model.py)
with the same loss (loss.py), and writes the same checkpoint (checkpoint.py) that
`hunch export` turns into the model the browser loads.
"""
