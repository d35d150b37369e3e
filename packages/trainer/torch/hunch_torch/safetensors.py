"""safetensors, float32 only (what Hugging Face and `hunch export` read): an 8-byte
little-endian header length, a JSON header (dtype, shape, byte range of each tensor), then
the raw little-endian data. Written by hand: Debian has no python3-safetensors."""
import json
import struct

import torch


def encode(tensors, metadata=None):
    """Bytes of a safetensors file holding `tensors` (name -> tensor), in the order given."""
    header = {"__metadata__": metadata or {"format": "pt"}}
    blobs = []
    offset = 0
    for name, tensor in tensors.items():
        data = tensor.detach().to(torch.float32).contiguous().cpu().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    # Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def decode(data):
    """name -> float32 tensor, from a safetensors file's bytes."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    start = 8 + length
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            raise ValueError(f"safetensors: tensor {name} has dtype {entry['dtype']}; only F32 is supported")
        begin, end = entry["data_offsets"]
        values = torch.frombuffer(bytearray(data[start + begin : start + end]), dtype=torch.float32)
        out[name] = values.reshape(entry["shape"]).clone()
    return out
