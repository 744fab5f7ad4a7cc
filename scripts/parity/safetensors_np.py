"""The .safetensors format with json + numpy, for the PyTorch reference scripts (no third-party
safetensors package is installed from Debian): an 8-byte little-endian header length, the JSON
header ({name: {dtype, shape, data_offsets}}, optional "__metadata__"), then the raw tensors.

read_safetensors widens F16 and BF16 to float32 (BF16 by bit shifting) and keeps other dtypes;
write_safetensors writes float32/float64/int64/int32 tensors in the given order with the header
space-padded to 8 bytes, as the TypeScript writer (src/main/core/engine/safetensors.ts) does.

Scripts import it with scripts/parity on sys.path (those under scripts/reference add it first).
"""
import json
import struct

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32, "U8": np.uint8}
NP_TO_ST = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64", np.dtype(np.int32): "I32"}


def read_safetensors(path):
    """{name: torch.Tensor} in file order."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        buf = raw[base + b : base + e]
        if info["dtype"] == "BF16":
            arr = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=np.dtype(DTYPES[info["dtype"]]).newbyteorder("<"))
        arr = arr.reshape(info["shape"]).astype(arr.dtype.newbyteorder("="), copy=True)
        if arr.dtype == np.float16:
            arr = arr.astype(np.float32)
        out[name] = torch.from_numpy(arr)
    return out


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: torch.Tensor} in the given order; header padded with spaces to 8 bytes."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    chunks = []
    offset = 0
    for name, t in tensors.items():
        # .copy(order="C"), not np.ascontiguousarray: the latter turns a 0-d tensor (num_batches_tracked) into shape [1].
        arr = t.detach().cpu().numpy().copy(order="C")
        kind = NP_TO_ST[np.dtype(arr.dtype.name)]
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": kind, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)
