#!/bin/sh
# reproduce.sh — trains, exports, evaluates and samples KVScope's embedded model, from the repository root:
#     sh tools/train/reproduce.sh
# Needs the Debian packages of requirements-debian.txt, ../shared/corpora/tinyshakespeare.txt, and a
# build of kvscope-cli (cmake -S . -B build -G Ninja && cmake --build build --target kvscope-cli).
# Everything but the GGUF goes to tools/train/runs/final/ (git-ignored).
set -eu
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3   # Debian's Python: the one that sees python3-torch
RUN=tools/train/runs/final
HF=$RUN/hf
GGUF=assets/models/kvscope-shakespeare.gguf

# 1-2. tokenizer + model: the defaults of train.py are the recipe of the model card, on 2 CPU threads
#      (the weights depend on the thread count; 2 threads reproduce the shipped model bit for bit).
$PY tools/train/train.py --out "$RUN" --threads 2
# 3. the Hugging Face folder (F16), read back and re-measured; then the GGUF, through kvscope-cli convert.
$PY tools/train/export_hf.py "$RUN" --out "$HF" --gguf "$GGUF"
# 4. the validation loss of the stored weights, also with a sliding window (each token sees >= 255 tokens).
$PY tools/train/evaluate.py "$HF"
$PY tools/train/evaluate.py "$HF" --stride 256
# 5. five samples from "ROMEO:" at temperature 0.8, seeds 0-4, and the word check.
$PY tools/train/sample.py "$HF" --prompt "ROMEO:" --tokens 300 --temperature 0.8 --seeds 0 1 2 3 4 --out-dir "$RUN/samples"
$PY tools/train/word_check.py "$RUN"/samples/sample_seed*.txt
# 6. greedy reference for the C++ engine.
$PY tools/train/greedy.py "$HF" --prompt "ROMEO:" -n 32 --reference "$RUN/greedy_reference.safetensors"
