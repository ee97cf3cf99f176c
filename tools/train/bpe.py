"""bpe.py — a byte-level BPE tokenizer in the GPT-2 style: training, encoding, decoding, saving.

How GPT-2's byte-level BPE works, in the order the code below follows it:
  1. Pre-tokenize: the GPT-2 regex splits text into chunks ("words"): contractions, a letter run with
     at most one leading space, a digit run, a punctuation run, whitespace. Merges never cross chunks.
  2. Bytes, not characters: each chunk is UTF-8 encoded; every byte is one initial token, so any text
     can be encoded and nothing is ever unknown.
  3. Printable pieces: for storage (vocab.json, merges.txt, tokenizer.json) every byte is shown as a
     printable Unicode character (bytes_to_unicode below); a space becomes "Ġ", a newline "Ċ".
  4. Training: repeatedly merge the most frequent adjacent pair of tokens into one new token.
     Ties are broken deterministically (the pair whose byte strings sort first), so the same corpus
     always gives the same merges.
  5. Encoding: inside each chunk, apply the learned merges lowest rank first until none applies.

Ids: 0..255 are the single bytes in GPT-2's order (the order of bytes_to_unicode, so "!" is 0 as in
GPT-2's vocab.json), then the merged tokens in the order they were learned, then the special token
"<|endoftext|>" as the last id.

This file writes the three formats the C++ side and llama.cpp read:
  vocab.json   {"piece": id, ...}
  merges.txt   "#version: 0.2" then one "left right" pair per line, by rank
  tokenizer.json  the Hugging Face `tokenizers` serialisation of the same model (type BPE,
                  ByteLevel pre-tokenizer and decoder, the special token in added_tokens).
"""

from __future__ import annotations

import collections
import json
import os

import regex  # Debian: python3-regex. Python's `re` has no \p{L} / \p{N} classes.

# The pre-tokenizer of GPT-2 (and of Hugging Face's ByteLevel pre-tokenizer with use_regex=true).
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
_GPT2_SPLIT = regex.compile(GPT2_PATTERN)

END_OF_TEXT = "<|endoftext|>"


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from the 256 byte values to printable characters.

    Bytes that are already printable Latin-1 characters stand for themselves; the others (control
    characters, space, some Latin-1 blanks) are moved to code points 256, 257, ... in byte order.
    The dict's insertion order (printable ones first) is the order of ids 0..255.
    """
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) +
                 list(range(ord("®"), ord("ÿ") + 1)))
    mapping = {b: chr(b) for b in printable}
    next_code_point = 256
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(next_code_point)
            next_code_point += 1
    return mapping


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def pretokenize(text: str) -> list[str]:
    """Splits text into the chunks that BPE merges stay inside of (GPT-2 regex)."""
    return _GPT2_SPLIT.findall(text)


def piece_of(token_bytes: bytes) -> str:
    """The printable piece that stands for a token's bytes in vocab.json / merges.txt."""
    return "".join(BYTE_TO_CHAR[b] for b in token_bytes)


class ByteBPE:
    """A trained tokenizer: the bytes of every id and the merges by rank."""

    def __init__(self, token_bytes: list[bytes], merges: list[tuple[int, int]]):
        self.token_bytes = token_bytes                     # id -> bytes ("<|endoftext|>" as its text)
        self.merges = merges                               # rank -> (left id, right id)
        self.eot_id = len(token_bytes) - 1                 # the special token is the last id
        assert token_bytes[self.eot_id] == END_OF_TEXT.encode(), "the last id must be <|endoftext|>"
        bytes_to_id = {b: i for i, b in enumerate(token_bytes[:self.eot_id])}
        # (left, right) -> (rank, id of the merged token). Two merges may make the same bytes
        # (e.g. "a"+"bc" and "ab"+"c"); they then share one id, as in Hugging Face's BPE.
        self.merge_rank = {pair: (rank, bytes_to_id[token_bytes[pair[0]] + token_bytes[pair[1]]])
                           for rank, pair in enumerate(merges)}
        self._byte_id = [bytes_to_id[bytes([b])] for b in range(256)]  # byte value -> id
        self._cache: dict[str, list[int]] = {}

    @property
    def vocab_size(self) -> int:
        return len(self.token_bytes)

    # ---------------------------------------------------------------------------------------------
    # encoding / decoding

    def _encode_chunk(self, chunk: str) -> list[int]:
        ids = [self._byte_id[b] for b in chunk.encode("utf-8")]
        while len(ids) > 1:
            # The applicable merge of lowest rank; all its occurrences in the chunk are merged at once
            # (left to right), exactly as GPT-2's and Hugging Face's BPE do.
            best = min((self.merge_rank.get(p, (len(self.merges), -1)), p) for p in zip(ids, ids[1:]))
            (rank, merged_id), pair = best
            if rank == len(self.merges):
                break
            out, i = [], 0
            while i < len(ids):
                if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
                    out.append(merged_id)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            ids = out
        return ids

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`; no BOS/EOS is added, and "<|endoftext|>" in the text is plain text."""
        ids: list[int] = []
        for chunk in pretokenize(text):
            cached = self._cache.get(chunk)
            if cached is None:
                cached = self._cache[chunk] = self._encode_chunk(chunk)
            ids.extend(cached)
        return ids

    def decode_bytes(self, ids) -> bytes:
        return b"".join(self.token_bytes[i] for i in ids)

    def decode(self, ids) -> str:
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    # ---------------------------------------------------------------------------------------------
    # files

    def save(self, folder: str) -> None:
        """Writes vocab.json, merges.txt and tokenizer.json (all describe the same tokenizer)."""
        os.makedirs(folder, exist_ok=True)
        vocab = {piece_of(b): i for i, b in enumerate(self.token_bytes[:self.eot_id])}
        vocab[END_OF_TEXT] = self.eot_id
        assert len(vocab) == self.vocab_size, "two ids would have the same piece"
        merge_lines = [f"{piece_of(self.token_bytes[a])} {piece_of(self.token_bytes[b])}"
                       for a, b in self.merges]
        with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(vocab, f, ensure_ascii=False)
        with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n")
            f.write("".join(line + "\n" for line in merge_lines))

        # Hugging Face `tokenizers` format for GPT-2's tokenizer, field for field.
        byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                      "use_regex": True}
        tokenizer_json = {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [{"id": self.eot_id, "content": END_OF_TEXT, "single_word": False,
                              "lstrip": False, "rstrip": False, "normalized": False,
                              "special": True}],
            "normalizer": None,
            "pre_tokenizer": byte_level,
            "post_processor": None,  # nothing is added around the ids: no BOS, no EOS
            "decoder": byte_level,
            "model": {"type": "BPE", "dropout": None, "unk_token": None,
                      "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": vocab,
                      "merges": [line.split(" ") for line in merge_lines]},
        }
        with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tokenizer_json, f, ensure_ascii=False, indent=1)

    @staticmethod
    def load(folder: str) -> "ByteBPE":
        """Reads vocab.json + merges.txt back (the inverse of save)."""
        with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
            vocab = json.load(f)
        token_bytes = [b""] * len(vocab)
        for piece, i in vocab.items():
            token_bytes[i] = piece.encode() if piece == END_OF_TEXT else bytes(CHAR_TO_BYTE[c] for c in piece)
        piece_to_id = {p: i for p, i in vocab.items() if p != END_OF_TEXT}
        merges = []
        with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
            for line in f:
                if line.startswith("#version") or not line.strip():
                    continue
                left, right = line.rstrip("\n").split(" ")
                merges.append((piece_to_id[left], piece_to_id[right]))
        return ByteBPE(token_bytes, merges)


def train_bpe(text: str, vocab_size: int, log=print) -> ByteBPE:
    """Learns merges on `text` until the vocabulary (256 bytes + merged tokens + <|endoftext|>) has
    `vocab_size` entries.

    Works on distinct chunks with their counts (the corpus has ~25k distinct chunks but ~300k chunks),
    and keeps the pair counts up to date incrementally: merging a pair only changes the words that
    contain it, so only their pairs are recounted.
    """
    n_merged_wanted = vocab_size - 256 - 1
    assert n_merged_wanted >= 0, "vocab_size must be at least 257"

    token_bytes: list[bytes] = [bytes([b]) for b in BYTE_TO_CHAR]  # GPT-2 byte order
    bytes_to_id = {b: i for i, b in enumerate(token_bytes)}

    chunk_counts = collections.Counter(pretokenize(text))
    words = [[bytes_to_id[bytes([b])] for b in chunk.encode("utf-8")] for chunk in chunk_counts]
    freqs = list(chunk_counts.values())

    pair_counts: collections.Counter = collections.Counter()     # (left, right) -> occurrences
    pair_words: dict[tuple[int, int], set[int]] = collections.defaultdict(set)  # pair -> word indices
    for w, (ids, freq) in enumerate(zip(words, freqs)):
        for pair in zip(ids, ids[1:]):
            pair_counts[pair] += freq
            pair_words[pair].add(w)

    merges: list[tuple[int, int]] = []
    n_merged = 0
    while n_merged < n_merged_wanted and pair_counts:
        # Most frequent pair; ties go to the pair whose (left bytes, right bytes) sort first.
        pair = min(pair_counts, key=lambda p: (-pair_counts[p], token_bytes[p[0]], token_bytes[p[1]]))
        if pair_counts[pair] < 2:
            break  # nothing left worth merging
        new_bytes = token_bytes[pair[0]] + token_bytes[pair[1]]
        if new_bytes in bytes_to_id:
            new_id = bytes_to_id[new_bytes]  # same bytes reached by another split: share the id
        else:
            new_id = len(token_bytes)
            token_bytes.append(new_bytes)
            bytes_to_id[new_bytes] = new_id
            n_merged += 1
        merges.append(pair)

        for w in sorted(pair_words[pair]):
            ids, freq = words[w], freqs[w]
            for old in zip(ids, ids[1:]):          # forget this word's pairs ...
                pair_counts[old] -= freq
                if pair_counts[old] == 0:
                    del pair_counts[old]
            merged, i = [], 0
            while i < len(ids):
                if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
                    merged.append(new_id)
                    i += 2
                else:
                    merged.append(ids[i])
                    i += 1
            words[w] = merged
            for new in zip(merged, merged[1:]):     # ... and count its new ones
                pair_counts[new] += freq
                pair_words[new].add(w)
        del pair_words[pair]
        if log and len(merges) % 100 == 0:
            log(f"  bpe: {len(merges)} merges, vocab {len(token_bytes) + 1}, last {new_bytes!r}")

    token_bytes.append(END_OF_TEXT.encode())
    return ByteBPE(token_bytes, merges)


if __name__ == "__main__":
    # Quick self-check: python3 bpe.py CORPUS VOCAB_SIZE OUT_FOLDER
    import sys
    import time
    corpus_path, size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    corpus = open(corpus_path, encoding="utf-8").read()
    t0 = time.time()
    tok = train_bpe(corpus, size)
    print(f"trained {tok.vocab_size} tokens, {len(tok.merges)} merges in {time.time() - t0:.1f} s")
    ids = tok.encode(corpus)
    assert tok.decode(ids) == corpus, "round trip failed"
    print(f"corpus: {len(corpus)} chars -> {len(ids)} tokens ({len(corpus) / len(ids):.3f} chars/token)")
    tok.save(out)
    again = ByteBPE.load(out)
    assert again.encode(corpus) == ids, "saved tokenizer encodes differently"
    print("round trip and save/load OK")
