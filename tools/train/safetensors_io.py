"""safetensors_io.py — reading and writing Hugging Face's safetensors format with numpy alone.

File layout (all little-endian):
    u64    N          length of the JSON header in bytes
    u8[N]  header     {"<name>": {"dtype": "F32"|"F16"|..., "shape": [...], "data_offsets": [begin, end]},
                       ..., "__metadata__": {"<key>": "<string>"}}   (metadata optional)
    u8[]   data       tensors back to back; offsets count from the first byte after the header
The header is padded with spaces to a multiple of 8 bytes, as the reference library does, so that
every tensor can be read in place with its natural alignment.
"""

from __future__ import annotations

import json
import struct

import numpy as np

_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32,
           "U8": np.uint8}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}


def write_safetensors(path: str, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> None:
    """Writes `tensors` (name -> C-contiguous little-endian array) in the given order."""
    header: dict = {}
    if metadata:
        header["__metadata__"] = metadata
    offset = 0
    blobs = []
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        if array.dtype not in _NAMES:
            raise ValueError(f"{name}: dtype {array.dtype} cannot be stored in safetensors here")
        blob = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _NAMES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path: str) -> dict[str, np.ndarray]:
    """Reads every tensor of a safetensors file into numpy arrays (copies, in header order)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<")
        out[name] = np.frombuffer(data[base + begin:base + end], dtype=dtype).reshape(entry["shape"]).copy()
    return out
