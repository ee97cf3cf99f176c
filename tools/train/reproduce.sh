#!/bin/sh
# reproduce.sh — trains, exports, evaluates and samples KVScope's embedded model, from the repository root:
#     sh tools/train/reproduce.sh
# Needs the Debian packages of requirements-debian.txt and ../shared/corpora/tinyshakespeare.txt.
# Everything but the exported folder goes to tools/train/runs/final/ (git-ignored).
set -eu
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3   # Debian's Python: the one that sees python3-torch
RUN=tools/train/runs/final
HF=assets/models/kvscope-shakespeare-hf

# 1-2. tokenizer + model (the defaults of train.py are the recipe of the model card), 2 threads.
$PY tools/train/train.py --out "$RUN" --threads 2
# 3. the Hugging Face folder (F16), checked by reading it back; then GGUF once kvscope-cli is built.
$PY tools/train/export_hf.py "$RUN" --out "$HF"
# 4. five samples from "ROMEO:" at temperature 0.8, seeds 0-4, and the word check.
$PY tools/train/sample.py "$HF" --prompt "ROMEO:" --tokens 300 --temperature 0.8 --seeds 0 1 2 3 4 --out-dir "$RUN/samples"
$PY tools/train/word_check.py "$RUN"/samples/sample_seed*.txt
# 5. greedy reference for the C++ engine.
$PY tools/train/greedy.py "$HF" --prompt "ROMEO:" -n 32 --reference "$RUN/greedy_reference.safetensors"
