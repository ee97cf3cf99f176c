// kvscope-cli convert IN OUT.gguf — any model KVScope reads (a Hugging Face folder, a llama2.c checkpoint
// with its tokenizer.bin, a GGUF) written as a GGUF file that llama.cpp loads, as F32, F16 or Q8_0.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli_common.h"
#include "commands.h"
#include "kvscope/tokenizer.h"
#include "kvscope/writers.h"

namespace kvscope::cli {

namespace {

struct ConvertOptions {
    ModelOptions in;
    std::string out;
    std::string type = "f32";
    std::string name;
    bool force = false;
};

// The output may replace an existing file only with --force, and never a file the conversion reads: the
// input model (or a file of the input folder) or the tokenizer.
Status check_output(const ConvertOptions& o) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path out(o.out);
    if (fs::is_directory(out, ec))
        return Status::error(o.out + ": is a folder; give the .gguf file to write");
    if (!fs::exists(out, ec)) return Status::ok();
    for (const std::string& input : {o.in.model, o.in.tokenizer}) {
        if (input.empty()) continue;
        if (fs::equivalent(out, input, ec))
            return Status::error(o.out + ": is the input " + input +
                                 "; write the conversion to another file");
        if (fs::is_directory(input, ec) &&
            fs::equivalent(out.parent_path().empty() ? "." : out.parent_path(), input, ec))
            return Status::error(o.out + ": is a file of the input folder " + input +
                                 "; write the conversion outside it");
    }
    if (!o.force) return Status::error(o.out + ": exists; add --force to replace it");
    return Status::ok();
}

int run(const ConvertOptions& o) {
    if (Status st = check_output(o); !st) return fail(st.message());
    auto model = load_model_only(o.in);
    if (!model) return fail(model.message());
    GgufWriteOptions wo;
    wo.type = o.type == "f16" ? DType::f16 : o.type == "q8_0" ? DType::q8_0 : DType::f32;
    wo.name = o.name;
    if (Status st = write_gguf(o.out, *model.value(), wo); !st) return fail(st.message());

    // Load the result back: it proves the file is whole and says what went in.
    auto written = load_model(o.out);
    if (!written) return fail("wrote " + o.out + " but cannot load it back: " + written.message());
    std::error_code ec;
    const uintmax_t file_bytes = std::filesystem::file_size(o.out, ec);
    std::printf("wrote %s: %s, %s parameters, mostly %s (%s of weights), file %s\n", o.out.c_str(),
                written.value()->config.arch_name.c_str(), human_count(written.value()->n_params()).c_str(),
                dtype_name(written.value()->main_dtype()),
                human_bytes(written.value()->stored_bytes()).c_str(),
                human_bytes(ec ? 0 : uint64_t(file_bytes)).c_str());
    std::fflush(stdout);  // the summary before a warning, when both go to one terminal
    if (model.value()->tokenizer)
        std::printf("tokenizer: %s, %d tokens\n", model.value()->tokenizer->describe().c_str(),
                    model.value()->tokenizer->vocab_size());
    else
        std::fprintf(
            stderr,
            "kvscope-cli: warning: %s carries no tokenizer (llama.cpp will not load it); give --tokenizer "
            "FILE (tokenizer.json, vocab.json or tokenizer.bin)\n",
            o.out.c_str());
    return 0;
}

}  // namespace

void add_convert_command(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<ConvertOptions>();
    CLI::App* cmd =
        app.add_subcommand("convert", "Write a model as a GGUF file (F32, F16 or Q8_0) that llama.cpp loads");
    cmd->add_option("in", o->in.model, "Model file or folder (Hugging Face folder, llama2.c .bin, GGUF)")
        ->required();
    cmd->add_option("out", o->out, "Output .gguf file")->required();
    cmd->add_option("--type", o->type, "Storage of the weight matrices: f32, f16 or q8_0")
        ->check(CLI::IsMember({"f32", "f16", "q8_0"}));
    cmd->add_option("--tokenizer", o->in.tokenizer,
                    "Tokenizer to embed (tokenizer.json, vocab.json + merges.txt, llama2.c tokenizer.bin)");
    cmd->add_option("--name", o->name, "general.name (default: the input's file or folder name)");
    cmd->add_flag("--force", o->force, "Replace OUT if it exists (never the input itself)");
    cmd->callback([o, &exit_code] { exit_code = run(*o); });
}

}  // namespace kvscope::cli
