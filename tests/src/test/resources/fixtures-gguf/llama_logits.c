// Copyright the jsteer authors.
// SPDX-License-Identifier: Apache-2.0
//
// llama-logits: the logits llama.cpp computes for given token ids on a GGUF model, optionally with a
// control vector applied the way llama-cli's --control-vector-scaled FILE STRENGTH applies it
// (common_control_vector_load: every direction.N tensor, N >= 1, times STRENGTH, on the output of
// layer N). Writes float32 little-endian logits, one row of n_vocab per position, to OUT.
// With --tokenize, prints the ids llama.cpp's own tokenizer gives TEXT (llama_tokenize with
// add_special = true, parse_special = false), comma-separated.
// Built and run by make_llamacpp.sh (offline; never in CI).
//
//   llama-logits MODEL.gguf 1,2,3 OUT.f32 [CONTROL.gguf STRENGTH]
//   llama-logits --tokenize MODEL.gguf TEXT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llama.h"
#include "gguf.h"
#include "ggml.h"

static void quiet(enum ggml_log_level level, const char * text, void * user) {
    (void) user;
    if (level >= GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static int tokenize(const char * path, const char * text) {
    struct llama_model * model = llama_model_load_from_file(path, llama_model_default_params());
    if (!model) { fprintf(stderr, "cannot load %s\n", path); return 1; }
    const struct llama_vocab * vocab = llama_model_get_vocab(model);
    llama_token ids[4096];
    int n = llama_tokenize(vocab, text, (int32_t) strlen(text), ids, 4096, true, false);
    if (n < 0) { fprintf(stderr, "too many tokens\n"); return 1; }
    for (int i = 0; i < n; i++) printf(i ? ",%d" : "%d", ids[i]);
    printf("\n");
    llama_model_free(model);
    return 0;
}

int main(int argc, char ** argv) {
    if (argc == 4 && strcmp(argv[1], "--tokenize") == 0) {
        llama_log_set(quiet, NULL);
        llama_backend_init();
        return tokenize(argv[2], argv[3]);
    }
    if (argc != 4 && argc != 6) {
        fprintf(stderr, "usage: %s MODEL.gguf IDS OUT.f32 [CONTROL.gguf STRENGTH]\n", argv[0]);
        return 2;
    }
    llama_log_set(quiet, NULL);
    llama_backend_init();
    int ids[4096], n = 0;
    for (char * p = strtok(argv[2], ","); p && n < 4096; p = strtok(NULL, ",")) ids[n++] = atoi(p);

    struct llama_model_params mp = llama_model_default_params();
    struct llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = n < 64 ? 64 : n;
    cp.n_batch = cp.n_ctx;
    cp.n_ubatch = cp.n_ctx;
    cp.n_threads = 2;
    cp.n_threads_batch = 2;
    struct llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "cannot create a context\n"); return 1; }
    int n_embd = llama_model_n_embd(model);
    int n_layer = llama_model_n_layer(model);

    if (argc == 6) {
        float strength = (float) atof(argv[5]);
        struct ggml_context * data_ctx = NULL;
        struct gguf_init_params gp = { .no_alloc = false, .ctx = &data_ctx };
        struct gguf_context * g = gguf_init_from_file(argv[4], gp);
        if (!g) { fprintf(stderr, "cannot read %s\n", argv[4]); return 1; }
        size_t len = (size_t) n_embd * n_layer;
        float * cv = calloc(len, sizeof(float));
        int max_layer = 0;
        for (int64_t i = 0; i < gguf_get_n_tensors(g); i++) {
            const char * name = gguf_get_tensor_name(g, i);
            int layer = 0;
            if (sscanf(name, "direction.%d", &layer) != 1 || layer <= 0) { fprintf(stderr, "bad tensor %s\n", name); return 1; }
            struct ggml_tensor * t = ggml_get_tensor(data_ctx, name);
            if (t->type != GGML_TYPE_F32 || ggml_nelements(t) != n_embd) { fprintf(stderr, "bad direction %s\n", name); return 1; }
            const float * d = (const float *) t->data;
            for (int j = 0; j < n_embd; j++) cv[(size_t) (layer - 1) * n_embd + j] += strength * d[j];
            if (layer > max_layer) max_layer = layer;
        }
        // llama-cli's defaults: layers 1 .. n_layer
        if (llama_set_adapter_cvec(ctx, cv, (size_t) n_embd * max_layer, n_embd, 1, n_layer) != 0) {
            fprintf(stderr, "llama_set_adapter_cvec failed\n");
            return 1;
        }
    }

    struct llama_batch batch = llama_batch_init(n, 0, 1);
    for (int i = 0; i < n; i++) {
        batch.token[i] = ids[i];
        batch.pos[i] = i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = 1;
    }
    batch.n_tokens = n;
    if (llama_decode(ctx, batch) != 0) { fprintf(stderr, "llama_decode failed\n"); return 1; }
    int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    FILE * out = fopen(argv[3], "wb");
    for (int i = 0; i < n; i++) fwrite(llama_get_logits_ith(ctx, i), sizeof(float), n_vocab, out);
    fclose(out);
    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
