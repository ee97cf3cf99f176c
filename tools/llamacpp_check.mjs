// llamacpp_check.mjs — do llama.cpp and KVScope compute the same thing from a GGUF that KVScope wrote?
//
// For each Hugging Face fixture (tiny-gpt2, tiny-llama-gqa, tiny-qwen2, tiny-llama-bf16-sharded) this
//   1. writes a small byte-level BPE vocabulary of exactly 320 tokens (the 256 byte tokens and the first
//      64 merges of the real GPT-2 vocabulary) as vocab.json + merges.txt;
//   2. converts it with `kvscope-cli convert … --tokenizer vocab.json --type f32|f16|q8_0`;
//   3. has llama.cpp (node-llama-cpp's prebuilt CPU binary) tokenize a prompt and decode 50 tokens
//      greedily from those ids, and KVScope (`kvscope-cli generate --tokens … --print-ids`) do the same;
//   4. compares the 50 ids, and also KVScope's own tokenization of the prompt (`--prompt`) against
//      llama.cpp's by comparing what each generates from the text.
// Run through tools/llamacpp_check.sh, which installs node-llama-cpp into tools/.llamacpp without letting
// it download or build anything. Exit status 1 when an F32 or F16 comparison differs, or a Q8_0 file's
// weights widened to F32 do not give llama.cpp KVScope's ids. (Q8_0 itself may part at a near tie: llama.cpp
// rounds the activations to Q8_0 for its dot products; the script prints both tokens' probabilities there.)
import {execFileSync} from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {fileURLToPath, pathToFileURL} from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const [cli, fixtures] = process.argv.slice(2);
if (!cli || !fixtures) {
    console.error("usage: node tools/llamacpp_check.mjs path/to/kvscope-cli path/to/shared/fixtures");
    process.exit(2);
}
const {getLlama, LlamaLogLevel} = await import(
    pathToFileURL(path.join(here, ".llamacpp/node_modules/node-llama-cpp/dist/index.js")).href);

const PROMPT = "The quick brown fox jumps over the lazy dog, then the cat sat on the mat.";
const STEPS = 50;
const VOCAB = 320;

// ---- a 320-token byte-level BPE vocabulary from GPT-2's ----
function smallVocabulary() {
    const dir = path.join(fixtures, "tokenizers/gpt2");
    const full = JSON.parse(fs.readFileSync(path.join(dir, "vocab.json"), "utf8"));
    const byId = new Map(Object.entries(full).map(([token, id]) => [id, token]));
    const vocab = {};
    for (let id = 0; id < 256; ++id) {
        const token = byId.get(id);
        // GPT-2's first 256 ids are its 256 byte characters, one code point each.
        if (token === undefined || [...token].length !== 1) throw new Error(`GPT-2 id ${id} is not a byte token`);
        vocab[token] = id;
    }
    const lines = fs.readFileSync(path.join(dir, "merges.txt"), "utf8").split("\n").filter(l => l && !l.startsWith("#"));
    const merges = [];
    for (const line of lines) {
        if (merges.length === VOCAB - 256) break;
        const [a, b] = line.split(" ");
        if (!(a in vocab) || !(b in vocab)) throw new Error(`merge "${line}" uses a token not yet in the vocabulary`);
        if (!((a + b) in vocab)) vocab[a + b] = Object.keys(vocab).length;
        merges.push(line);
    }
    if (Object.keys(vocab).length !== VOCAB) throw new Error(`built ${Object.keys(vocab).length} tokens, wanted ${VOCAB}`);
    return {vocab, merges};
}

function kvscope(args) {
    return execFileSync(cli, args, {encoding: "utf8", stdio: ["ignore", "pipe", "pipe"]});
}

// The generated ids: the last line of kvscope-cli's stdout that is a comma-separated list.
function kvscopeIds(output) {
    const lines = output.trim().split("\n").filter(l => /^\d+(,\d+)*$/.test(l.trim()));
    return lines.at(-1).split(",").map(Number);
}

// llama.cpp's greedy continuation of `prompt` (text or ids), with its probabilities at every step.
async function llamacppGreedy(llama, gguf, prompt) {
    const model = await llama.loadModel({modelPath: gguf, gpuLayers: 0});
    try {
        // KVScope keeps its KV cache in float32; llama.cpp's default is F16, which alone moves near ties.
        const context = await model.createContext({contextSize: 128, threads: 1, flashAttention: false,
                                                   experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32"});
        const ids = typeof prompt === "string" ? model.tokenize(prompt) : prompt;
        const generated = [], probabilities = [];
        // temperature 0: argmax every step; EOG tokens are yielded and generation goes on, as --ignore-eos.
        const steps = context.getSequence().evaluateWithMetadata(ids, {probabilities: true}, {temperature: 0, yieldEogToken: true});
        for await (const step of steps) {
            generated.push(step.token);
            probabilities.push(step.probabilities);
            if (generated.length === STEPS) break;
        }
        await context.dispose();
        return {promptIds: [...ids], generated, probabilities};
    } finally {
        await model.dispose();
    }
}

// "identical 50/50", or where the two runs part and how likely llama.cpp found each side's token there.
function compare(ref, ours) {
    let same = 0;
    while (same < STEPS && ours[same] === ref.generated[same]) ++same;
    if (same === STEPS && ours.length === STEPS) return {identical: true, text: `identical ${STEPS}/${STEPS}`};
    const p = ref.probabilities[same];
    const prob = id => (p?.get(id) ?? 0).toFixed(4);
    return {identical: false, text: `first ${same}/${STEPS} identical, then llama.cpp ${ref.generated[same]} ` +
                                    `(p ${prob(ref.generated[same])}) vs KVScope ${ours[same]} (p ${prob(ours[same])})`};
}

const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false});
const work = fs.mkdtempSync(path.join(os.tmpdir(), "kvscope-llamacpp-"));
// The vocabulary lives in its own folder, not beside the model: the fixtures' config.json name special ids
// of their original vocabularies (GPT-2's 50256), which a folder's own tokenizer would have to contain.
const {vocab, merges} = smallVocabulary();
const tokenizer = path.join(work, "vocab320", "vocab.json");
fs.mkdirSync(path.dirname(tokenizer));
fs.writeFileSync(tokenizer, JSON.stringify(vocab));
fs.writeFileSync(path.join(path.dirname(tokenizer), "merges.txt"), "#version: 0.2\n" + merges.join("\n") + "\n");
let failed = false;
console.log(`llama.cpp via node-llama-cpp (prebuilt CPU binary, build "never"); kvscope-cli ${cli}`);
console.log(`prompt: ${JSON.stringify(PROMPT)}; ${STEPS} greedy tokens; vocabulary: ${VOCAB} byte-level BPE tokens`);
for (const fixture of ["tiny-gpt2", "tiny-llama-gqa", "tiny-qwen2", "tiny-llama-bf16-sharded"]) {
    for (const type of ["f32", "f16", "q8_0"]) {
        const gguf = path.join(work, `${fixture}-${type}.gguf`);
        kvscope(["convert", path.join(fixtures, fixture), gguf, "--type", type, "--tokenizer", tokenizer]);
        const ref = await llamacppGreedy(llama, gguf, PROMPT);
        const generate = prompt => kvscopeIds(kvscope(["generate", gguf, ...prompt, "--steps", String(STEPS), "--print-ids",
                                                       "--ignore-eos", "--threads", "1"]));
        const ours = generate(["--tokens", ref.promptIds.join(",")]);
        const fromText = generate(["--prompt", PROMPT]);
        const result = compare(ref, ours);
        const textAgrees = fromText.length === STEPS && fromText.every((id, i) => id === ref.generated[i]);
        console.log(`${fixture.padEnd(24)} ${type.padEnd(5)} prompt ${ref.promptIds.length} ids: ${result.text}` +
                    `; KVScope from the text: ${textAgrees ? "identical" : "DIFFERENT"}`);
        if (type === "q8_0") {
            // llama.cpp multiplies Q8_0 weights with activations it rounds to Q8_0 too; KVScope widens the
            // weights to float32. With the same Q8_0 weights widened to F32 in the file, llama.cpp must agree.
            const widened = path.join(work, `${fixture}-q8_0-widened.gguf`);
            kvscope(["convert", gguf, widened, "--type", "f32"]);
            const w = compare(await llamacppGreedy(llama, widened, ref.promptIds), ours);
            console.log(`${fixture.padEnd(24)} q8_0 weights widened to F32 for llama.cpp: ${w.text}`);
            if (!w.identical) failed = true;
        }
        if (type === "f32" && fixture === "tiny-gpt2") {
            console.log(`  prompt ids (llama.cpp): ${ref.promptIds.join(",")}`);
            console.log(`  llama.cpp: ${ref.generated.join(",")}`);
            console.log(`  KVScope:   ${ours.join(",")}`);
        }
        if (type !== "q8_0" && (!result.identical || !textAgrees)) failed = true;
    }
}
// The shipped model, as it is: its own tokenizer inside, F16 weights.
{
    const shipped = path.join(path.dirname(cli), "../../..", "assets/models/kvscope-shakespeare.gguf");
    const gguf = fs.existsSync(shipped) ? shipped : path.resolve("assets/models/kvscope-shakespeare.gguf");
    const prompt = "ROMEO:";
    const ref = await llamacppGreedy(llama, gguf, prompt);
    const ours = kvscopeIds(kvscope(["generate", gguf, "--prompt", prompt, "--steps", String(STEPS), "--print-ids",
                                     "--ignore-eos", "--threads", "1"]));
    const sameIds = JSON.stringify(kvscopeIds(kvscope(["tokenize", gguf, "--text", prompt]))) ===
                    JSON.stringify(ref.promptIds);
    const result = compare(ref, ours);
    console.log(`${"kvscope-shakespeare.gguf".padEnd(24)} f16   prompt "${prompt}" (${ref.promptIds.length} ids, ` +
                `tokenization ${sameIds ? "identical" : "DIFFERENT"}): ${result.text}`);
    if (!result.identical || !sameIds) failed = true;
}
fs.rmSync(work, {recursive: true, force: true});
await llama.dispose();
process.exit(failed ? 1 : 0);
