#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/seeds/ (committed; rerun only to change them).

Small valid files of every kind the fuzz targets read, derived from ../shared/fixtures and from models
kvscope-cli makes, so that libFuzzer starts from inputs that reach deep into each reader:
    tests/fuzz/make_seeds.py build/app/cli/kvscope-cli
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "..", "shared", "fixtures")
SEEDS = os.path.join(ROOT, "tests", "fuzz", "seeds")


def put(target, name, data):
    os.makedirs(os.path.join(SEEDS, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(SEEDS, target, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def proto_fields(data):
    """(field number, wire type, raw bytes of the whole field) of one protobuf message."""
    at = 0
    while at < len(data):
        start = at
        key, shift = 0, 0
        while True:
            b = data[at]
            at += 1
            key |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        number, wire = key >> 3, key & 7
        if wire == 0:
            while data[at] & 0x80:
                at += 1
            at += 1
        elif wire == 1:
            at += 8
        elif wire == 5:
            at += 4
        elif wire == 2:
            n, shift = 0, 0
            while True:
                b = data[at]
                at += 1
                n |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            at += n
        yield number, wire, data[start:at]


def safetensors(tensors):
    header, blob = {}, b""
    for name, shape, values in tensors:
        raw = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + blob


def main():
    cli = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "app", "cli", "kvscope-cli")
    shutil.rmtree(SEEDS, ignore_errors=True)

    # config.json: the fixtures' (llama, qwen2, gpt2), and one with the nulls real configs carry.
    for model in ("tiny-gpt2", "tiny-llama-gqa", "tiny-qwen2"):
        put("hf_config", model + ".json", read(os.path.join(FIXTURES, model, "config.json")))
    put("hf_config", "gpt2-nulls.json", json.dumps({
        "model_type": "gpt2", "n_embd": 8, "n_layer": 1, "n_head": 2, "n_positions": 16, "n_inner": None,
        "vocab_size": 32, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"}))

    # tokenizer.json: a byte-level BPE with merges, an added token and a BOS template.
    vocab = {chr(c): i for i, c in enumerate(range(ord("a"), ord("z") + 1))}
    vocab.update({"Ġ": 26, "ab": 27, "Ġa": 28, "abc": 29})
    tok = {
        "version": "1.0",
        "added_tokens": [{"id": 30, "content": "<|endoftext|>", "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}}],
                           "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [30]}}},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "byte_fallback": False,
                  "vocab": vocab, "merges": ["a b", "Ġ a", ["ab", "c"]]},
    }
    put("tokenizer_json", "byte-bpe.json", json.dumps(tok, ensure_ascii=False))
    tok_seq = json.loads(json.dumps(tok))
    tok_seq["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True}]}
    tok_seq["normalizer"] = {"type": "NFC"}
    put("tokenizer_json", "sequence.json", json.dumps(tok_seq, ensure_ascii=False))

    # vocab.json NUL merges.txt
    small_vocab = json.dumps(dict(vocab, **{"<|endoftext|>": 30}), ensure_ascii=False).encode()
    put("vocab_merges", "gpt2-style", small_vocab + b"\0#version: 0.2\na b\n\xc4\xa0 a\nab c\n")

    # tokenizer.bin and tokenizer.model: Llama 2's, cut to the first 300 pieces (the readers need no more).
    tb = read(os.path.join(FIXTURES, "tokenizers", "llama2", "tokenizer.bin"))
    at = 4
    for _ in range(300):
        (length,) = struct.unpack_from("<i", tb, at + 4)
        at += 8 + length
    put("tokenizer_bin", "llama2-300", tb[:at])
    tm = read(os.path.join(FIXTURES, "tokenizers", "llama2", "tokenizer.model"))
    kept, pieces = b"", 0
    for number, _, raw in proto_fields(tm):
        if number == 1:
            pieces += 1
            if pieces > 300:
                continue
        kept += raw
    put("tokenizer_model", "llama2-300", kept)

    # llama2.c: legacy (shared classifier) and version 1 (own classifier), dim 8, 2 heads, 1 layer.
    dim, hidden, layers, heads, kv_heads, vocab_n, seq = 8, 16, 1, 2, 1, 12, 4
    head = dim // heads
    kv_dim = dim * kv_heads // heads

    def weights(own_classifier, version1):
        n = {"emb": vocab_n * dim, "rms_att": layers * dim, "wq": layers * dim * dim,
             "wk": layers * kv_dim * dim, "wv": layers * kv_dim * dim, "wo": layers * dim * dim,
             "rms_ffn": layers * dim, "w1": layers * hidden * dim, "w2": layers * dim * hidden,
             "w3": layers * hidden * dim, "rms_final": dim, "freq": seq * head // 2 * 2,
             "cls": vocab_n * dim if own_classifier else 0}
        if version1:
            n["freq"] = 0
        total = sum(n.values())
        return struct.pack("<%df" % total, *[((i * 37) % 17 - 8) / 64.0 for i in range(total)])

    legacy = struct.pack("<7i", dim, hidden, layers, heads, kv_heads, vocab_n, seq) + weights(False, False)
    put("llama2c", "legacy.bin", legacy)
    v1 = struct.pack("<Ii7iB", 0x616B3432, 1, dim, hidden, layers, heads, kv_heads, vocab_n, seq, 0)
    v1 += b"\0" * (256 - len(v1))
    put("llama2c", "version1.bin", v1 + weights(True, True))

    # safetensors: a few tensors, and a tiny model's whole file (made by kvscope-cli).
    put("safetensors", "three.safetensors", safetensors([
        ("a.weight", [2, 3], [0.5] * 6), ("b.bias", [3], [1.0, 2.0, 3.0]), ("c", [], [7.0])]))
    with tempfile.TemporaryDirectory() as tmp:
        for arch in ("llama", "gpt2"):
            folder = os.path.join(tmp, arch)
            subprocess.run([cli, "make-model", folder, "--arch", arch, "--layers", "1", "--d-model", "8",
                            "--heads", "2", "--vocab", "31", "--context", "8"] +
                           (["--kv-heads", "1"] if arch == "llama" else []),
                           check=True, stdout=subprocess.DEVNULL)
            put("safetensors", arch + ".safetensors", read(os.path.join(folder, "model.safetensors")))
            shutil.copy(os.path.join(SEEDS, "tokenizer_json", "byte-bpe.json"),
                        os.path.join(folder, "tokenizer.json"))
            out = os.path.join(tmp, arch + ".gguf")
            subprocess.run([cli, "convert", folder, out] + (["--type", "q8_0"] if arch == "llama" else []),
                           check=True, stdout=subprocess.DEVNULL)
            put("gguf", arch + ".gguf", read(out))

    # Encoder inputs: plain text, whitespace runs, digits, accents, emoji, special-looking text.
    texts = ["Hello, world!", "  two  spaces\tand\na newline", "12345 67", "caf\u00e9 na\u00efve \u00c5ngstr\u00f6m",
             "\U0001F600 \u4e2d\u6587", "<|endoftext|> <s> </s>", "ROMEO: But soft, what light"]
    for i, t in enumerate(texts):
        put("bpe_encode", "text%d" % i, t)
        put("spm_encode", "text%d" % i, t)


if __name__ == "__main__":
    main()
