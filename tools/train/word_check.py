"""word_check.py — how many words of generated text are real (occur in the corpus).

    /usr/bin/python3 tools/train/word_check.py tools/train/runs/samples/*.txt

Works on any text files, so it can be re-run on kvscope-cli's output. A word is a whitespace-separated
piece of text, lowercased, with every character that is not a letter or digit removed ("Romeo," ->
"romeo", "o'er" -> "oer", "good-morrow" -> "goodmorrow"); pieces left empty are not words. The corpus is
cut into words the same way, so the two sides always agree on what a word is.
The prompt is counted with the rest: the criterion is about the samples as a whole.
Prints the per-file and pooled percentages and the words that were not found.
"""

from __future__ import annotations

import argparse
import collections

from evaluate import find_corpus


def words_of(text: str) -> list[str]:
    out = []
    for piece in text.split():
        word = "".join(ch for ch in piece.lower() if ch.isalnum())
        if word:
            out.append(word)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--corpus", default=None, help="default: ../shared/corpora/tinyshakespeare.txt")
    ap.add_argument("--threshold", type=float, default=92.0, help="percent required (exit status 1 below it)")
    args = ap.parse_args()
    with open(args.corpus or find_corpus(), encoding="utf-8") as f:
        known = set(words_of(f.read()))

    total = found = 0
    unknown = collections.Counter()
    for path in args.files:
        with open(path, encoding="utf-8") as f:
            words = words_of(f.read())
        hits = sum(w in known for w in words)
        unknown.update(w for w in words if w not in known)
        total += len(words)
        found += hits
        print(f"{path}: {hits}/{len(words)} words in the corpus ({100.0 * hits / max(1, len(words)):.1f}%)")
    percent = 100.0 * found / max(1, total)
    print(f"all: {found}/{total} words in the corpus ({percent:.2f}%); threshold {args.threshold}%")
    if unknown:
        print("not in the corpus:", ", ".join(f"{w} ({n})" if n > 1 else w for w, n in unknown.most_common()))
    raise SystemExit(0 if percent >= args.threshold else 1)


if __name__ == "__main__":
    main()
