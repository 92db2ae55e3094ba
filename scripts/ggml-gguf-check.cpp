// Reads a llama.cpp control-vector GGUF with ggml's own reader (gguf_init_from_file), applying the checks
// llama.cpp's control-vector loader makes, and prints each direction. Run by scripts/ggml-gguf-check.sh.
#include "ggml.h"
#include "gguf.h"
#include <cstdio>
#include <string>
#include <vector>
#include <cmath>
int main(int argc, char **argv) {
    ggml_context *ctx = nullptr;
    gguf_init_params p = {false, &ctx};
    gguf_context *g = gguf_init_from_file(argv[1], p);
    if (!g) { printf("REJECTED: gguf_init_from_file failed\n"); return 1; }
    int64_t arch = gguf_find_key(g, "general.architecture");
    printf("general.architecture=%s\n", arch >= 0 ? gguf_get_val_str(g, arch) : "(none)");
    int64_t hint = gguf_find_key(g, "controlvector.model_hint");
    printf("model_hint=%s\n", hint >= 0 ? gguf_get_val_str(g, hint) : "(none)");
    int64_t lc = gguf_find_key(g, "controlvector.layer_count");
    printf("layer_count=%d\n", lc >= 0 ? gguf_get_val_i32(g, lc) : -1);
    int64_t n = gguf_get_n_tensors(g), nEmbd = -1;
    for (int64_t i = 0; i < n; i++) {
        std::string name = gguf_get_tensor_name(g, i);
        size_t dot = name.find('.');
        int layer = -1;
        if (dot != std::string::npos && name.substr(0, dot) == "direction") {
            try { layer = std::stoi(name.substr(dot + 1)); } catch (const std::exception &) { layer = -1; }
        }
        if (layer <= 0) { printf("REJECTED: bad layer in %s\n", name.c_str()); return 1; }
        ggml_tensor *t = ggml_get_tensor(ctx, name.c_str());
        if (t->type != GGML_TYPE_F32 || ggml_n_dims(t) != 1) { printf("REJECTED: %s not 1-D F32\n", name.c_str()); return 1; }
        if (nEmbd == -1) nEmbd = ggml_nelements(t);
        else if (ggml_nelements(t) != nEmbd) { printf("REJECTED: width\n"); return 1; }
        const float *d = (const float *) t->data;
        double sq = 0; for (int64_t j = 0; j < nEmbd; j++) sq += (double) d[j] * d[j];
        printf("%s n_embd=%lld first=%.7g %.7g %.7g norm=%.6f\n", name.c_str(), (long long) nEmbd, d[0], d[1], d[2], std::sqrt(sq));
    }
    printf("ACCEPTED\n");
    gguf_free(g); ggml_free(ctx);
    return 0;
}
