#!/usr/bin/env python3
"""Tiny GGUF model files from the Hugging Face fixtures, written as llama.cpp's converter writes them.

usage: PYTHONPATH=<llama.cpp>/gguf-py python3 make_gguf.py   (numpy only; run offline, never in CI)

Reads ../fixtures/<model>/{config.json,model.safetensors} and writes <model>.<type>.gguf with
llama.cpp's own gguf-py writer, mirroring convert_hf_to_gguf.py (conversion/gptneox.py, gemma.py):
  * GPT-NeoX: query_key_value rows (and bias) regrouped from [head][q|k|v] to [q|k|v][head]
  * Gemma 1/2/3: every *norm.weight stored as 1 + w; lm_head dropped (tied)
  * 1-D tensors (norms, biases) F32; 2-D tensors in the file's type
  * hyper-parameters under llama.cpp's keys; llama.cpp ignores query_pre_attn_scalar (it uses
    1/sqrt(head_dim)), so the Gemma 2/3 files mean a model with that attention scale
  * a small vocabulary of the fixture's size trained on a paragraph (the fixtures have no
    tokenizer; see add_vocab), which llama.cpp loads and tokenizes
  * Llama 2/3 and Mistral (written as "llama"): q and k rows (and biases) permuted per head for
    llama.cpp's interleaved RoPE; linear rope scaling as rope.scaling.*; Llama 3's as the
    rope_freqs.weight tensor of per-dimension factors (LlamaModel.generate_extra_tensors' formula,
    written before the weights as the converter yields it first); llama3-tiny's file is checked
    against the Hugging Face folder (GgufModelTest) but is not yet in make_llamacpp.sh's MODELS, so
    there are no llama.cpp logits for it
  * tied models (Gemma, Qwen 2/3 tiny) without an output tensor
Types: f32 (every model, llama3-tiny included), q8_0 (the first four and llama2-tiny); for pythia-tiny-parallel also f16, bf16, q4_0 and
"kmix": the MLP down projections (the only matrices with rows of 256) in Q4_K (layers 0, 1),
Q5_K (2) and Q6_K (3), everything else Q8_0, as a Q4_K_M file mixes types. gguf-py cannot encode
K-quants, so they are encoded here by a plain min/max rule (any valid encoding serves: the tests
compare against the same file's dequantization, which QuantsTest checks against gguf-py).
Made with llama.cpp commit d32676d77 (unslothai/llama.cpp), numpy 2.4.
"""
import json
import struct
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q

HERE = Path(__file__).parent
FIX = HERE.parent / "fixtures"


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    out = {}
    for name, h in header.items():
        a, b = h["data_offsets"]
        assert h["dtype"] == "F32", h["dtype"]
        out[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(h["shape"])
    return out


# ---- K-quant encoders (layouts of ggml-common.h; values by a simple min/max rule)
def _pack_scales(sc, mn):
    """8 six-bit scales and mins -> the 12 bytes get_scale_min_k4 reads."""
    out = np.zeros(12, dtype=np.uint8)
    for j in range(4):
        out[j] = (sc[j] & 63) | ((sc[j + 4] >> 4) << 6)
        out[j + 4] = (mn[j] & 63) | ((mn[j + 4] >> 4) << 6)
        out[j + 8] = (sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4)
    return out


def _q45k_block(x, bits):
    top = (1 << bits) - 1
    sub = x.reshape(8, 32)
    mins = np.minimum(sub.min(axis=1), 0)
    scales = (sub.max(axis=1) - mins) / top
    d = np.float16(scales.max() / 63)
    dmin = np.float16(-mins.min() / 63)
    fd, fdmin = np.float32(d), np.float32(dmin)
    sc = np.clip(np.round(scales / fd), 0, 63).astype(np.uint8) if fd > 0 else np.zeros(8, np.uint8)
    mn = np.clip(np.round(-mins / fdmin), 0, 63).astype(np.uint8) if fdmin > 0 else np.zeros(8, np.uint8)
    q = np.zeros((8, 32), dtype=np.uint8)
    for s in range(8):
        step = fd * np.float32(sc[s])
        if step > 0:
            q[s] = np.clip(np.round((sub[s] + fdmin * np.float32(mn[s])) / step), 0, top)
    head = np.concatenate([np.array([d, dmin], dtype="<f2").view(np.uint8), _pack_scales(sc, mn)])
    qs = np.concatenate([(q[2 * k] & 0xF) | ((q[2 * k + 1] & 0xF) << 4) for k in range(4)]).astype(np.uint8)
    if bits == 4:
        return np.concatenate([head, qs])
    qh = np.zeros(32, dtype=np.uint8)
    for s in range(8):
        qh |= ((q[s] >> 4) & 1).astype(np.uint8) << s
    return np.concatenate([head, qh, qs])


def _q6k_block(x):
    sub = x.reshape(16, 16)
    amax = np.abs(sub).max(axis=1)
    scales = amax / 31
    d = np.float16(scales.max() / 127)
    fd = np.float32(d)
    sc = np.clip(np.round(scales / fd), -128, 127).astype(np.int8) if fd > 0 else np.zeros(16, np.int8)
    q = np.zeros(256, dtype=np.int32)
    for s in range(16):
        step = fd * np.float32(sc[s])
        if step != 0:
            q[16 * s:16 * s + 16] = np.clip(np.round(sub[s] / step), -32, 31)
    q = (q + 32).astype(np.uint8)
    ql = np.zeros(128, dtype=np.uint8)
    qh = np.zeros(64, dtype=np.uint8)
    for n in range(2):
        y = q[128 * n:128 * n + 128]
        for l in range(32):
            ql[64 * n + l] = (y[l] & 0xF) | ((y[l + 64] & 0xF) << 4)
            ql[64 * n + l + 32] = (y[l + 32] & 0xF) | ((y[l + 96] & 0xF) << 4)
            qh[32 * n + l] = (y[l] >> 4) | ((y[l + 32] >> 4) << 2) | ((y[l + 64] >> 4) << 4) | ((y[l + 96] >> 4) << 6)
    return np.concatenate([ql, qh, sc.view(np.uint8), np.array([d], dtype="<f2").view(np.uint8)])


def encode(x, t):
    x = np.ascontiguousarray(x, dtype=np.float32)
    if t in (Q.F32,):
        return x, None
    if t in (Q.F16, Q.BF16, Q.Q8_0, Q.Q4_0):
        return gguf.quants.quantize(x, t), t
    enc = {Q.Q4_K: lambda b: _q45k_block(b, 4), Q.Q5_K: lambda b: _q45k_block(b, 5), Q.Q6_K: _q6k_block}[t]
    rows = [np.concatenate([enc(r[i:i + 256]) for i in range(0, r.size, 256)]) for r in x]
    out = np.stack(rows)
    back = gguf.quants.dequantize(out, t)
    err = np.abs(back - x).max() / max(np.abs(x).max(), 1e-30)
    assert err < {Q.Q4_K: 0.2, Q.Q5_K: 0.1, Q.Q6_K: 0.05}[t], (t, err)
    return out, t


TEXT = """The quick brown fox jumps over the lazy dog. A steering vector is added to the residual
stream of a transformer at one layer, and the model's next tokens change: the same prompt, steered,
continues in another mood. Activation addition takes the difference of two prompts' activations;
contrastive activation addition averages the differences over many pairs of answers. Hello world,
hello steering, hello tokens! 1234 5678 90 (numbers) and punctuation; "quotes", 'apostrophes' and
the end of the text."""


def bytes_to_unicode():
    """GPT-2's byte-to-character table (printable bytes stand for themselves)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def train(words, tokens, size):
    """Byte-pair training: merge the most frequent adjacent pair (ties: the smallest pair) until
    the vocabulary has `size` tokens; returns the merges in order."""
    words = [list(w) for w in words]
    merges = []
    while len(tokens) < size:
        counts = {}
        for w in words:
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + 1
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        merges.append(best)
        if best[0] + best[1] not in tokens:
            tokens.append(best[0] + best[1])
        for w in words:
            i = 0
            while i < len(w) - 1:
                if (w[i], w[i + 1]) == best:
                    w[i:i + 2] = [w[i] + w[i + 1]]
                i += 1
    return merges


def add_vocab(g, cfg, spm):
    """A real vocabulary of exactly vocab_size tokens, trained on TEXT, that llama.cpp loads and
    tokenizes: byte-level BPE (gpt2, pre-tokenizer gpt-2) for the decoder-only families, or a
    SentencePiece BPE with byte fallback (llama) for Gemma, whose scores are minus the merge rank.
    Special tokens sit at the config's bos/eos/pad ids;
    when the text runs out of pairs, the remaining ids are [PADn] UNUSED tokens, as the converter
    writes for ids without a token."""
    V = cfg["vocab_size"]
    bos, eos, pad = cfg["bos_token_id"], cfg["eos_token_id"], cfg.get("pad_token_id")
    specials = {bos: "<s>", eos: "</s>"} if bos != eos else {bos: "<|endoftext|>"}
    if pad is not None and pad not in specials:
        specials[pad] = "<pad>"
    T = gguf.TokenType
    if not spm:
        table = bytes_to_unicode()
        base = [table[b] for b in range(256)]
        words = ["".join(table[b] for b in (" " + w).encode()) for w in TEXT.split()]
        tokens = base[:]
        merges = train(words, tokens, V - len(specials))
        pieces = iter(tokens)
        vocab = [specials[i] if i in specials else next(pieces, f"[PAD{i}]") for i in range(V)]
        g.add_tokenizer_model("gpt2")
        g.add_tokenizer_pre("gpt-2")
        g.add_token_list(vocab)
        g.add_token_types([T.CONTROL if i in specials else T.UNUSED if t.startswith("[PAD") else T.NORMAL for i, t in enumerate(vocab)])
        g.add_token_merges([a + " " + b for a, b in merges])
        g.add_add_bos_token(False)
    else:
        specials.setdefault(3, "<unk>")
        chars = sorted(set(TEXT.replace(" ", "\u2581").replace("\n", "\u2581")))
        words = ["\u2581" + w for w in TEXT.split()]
        tokens = [f"<0x{b:02X}>" for b in range(256)] + chars
        merges = train(words, tokens, V - len(specials))
        pieces = iter(tokens)
        vocab = [specials[i] if i in specials else next(pieces, f"[PAD{i}]") for i in range(V)]
        rank = {a + b: r for r, (a, b) in reversed(list(enumerate(merges)))}
        scores, types = [], []
        for i, t in enumerate(vocab):
            if i in specials:
                types.append(T.UNKNOWN if t == "<unk>" else T.CONTROL); scores.append(0.0)
            elif t.startswith("<0x") and len(t) == 6:
                types.append(T.BYTE); scores.append(0.0)
            elif t.startswith("[PAD"):
                types.append(T.UNUSED); scores.append(-1000.0)
            else:
                types.append(T.NORMAL); scores.append(-float(rank[t]) if t in rank else -float(len(merges) + i))
        g.add_tokenizer_model("llama")
        g.add_tokenizer_pre("default")
        g.add_token_list(vocab)
        g.add_token_scores(scores)
        g.add_token_types(types)
        g.add_add_space_prefix(False)
        g.add_add_bos_token(True)
        g.add_unk_token_id([i for i, t in specials.items() if t == "<unk>"][0])
    g.add_bos_token_id(bos)
    g.add_eos_token_id(eos)
    if pad is not None:
        g.add_pad_token_id(pad)


def convert(model, kind):
    cfg = json.loads((FIX / model / "config.json").read_text())
    w = read_safetensors(FIX / model / "model.safetensors")
    mt = cfg["model_type"]
    arch = {"gpt_neox": gguf.MODEL_ARCH.GPTNEOX, "gemma": gguf.MODEL_ARCH.GEMMA, "gemma2": gguf.MODEL_ARCH.GEMMA2,
            "gemma3_text": gguf.MODEL_ARCH.GEMMA3, "llama": gguf.MODEL_ARCH.LLAMA, "mistral": gguf.MODEL_ARCH.LLAMA,
            "qwen2": gguf.MODEL_ARCH.QWEN2, "qwen3": gguf.MODEL_ARCH.QWEN3}[mt]
    llama = arch == gguf.MODEL_ARCH.LLAMA
    gemma = mt in ("gemma", "gemma2", "gemma3_text")
    nl = cfg["num_hidden_layers"]
    tmap = gguf.get_tensor_name_map(arch, nl)
    out = HERE / f"{model}.{kind}.gguf"
    g = gguf.GGUFWriter(str(out), gguf.MODEL_ARCH_NAMES[arch])
    g.add_name(model)
    g.add_context_length(cfg["max_position_embeddings"])
    g.add_embedding_length(cfg["hidden_size"])
    g.add_block_count(nl)
    g.add_feed_forward_length(cfg["intermediate_size"])
    g.add_head_count(cfg["num_attention_heads"])
    neox = mt == "gpt_neox"
    if neox:
        hd = cfg["hidden_size"] // cfg["num_attention_heads"]
        g.add_rope_dimension_count(int(cfg["rotary_pct"] * hd))
        g.add_rope_freq_base(float(cfg.get("rotary_emb_base", 10000)))
        g.add_parallel_residual(cfg.get("use_parallel_residual", True))
        g.add_layer_norm_eps(cfg["layer_norm_eps"])
    else:
        hd = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
        g.add_head_count_kv(cfg["num_key_value_heads"])
        g.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
        g.add_key_length(hd)
        g.add_value_length(hd)
        g.add_rope_freq_base(float(cfg.get("rope_theta", 10000)))
        if not gemma:
            g.add_rope_dimension_count(hd)
    rs = cfg.get("rope_scaling") or {}
    if rs.get("rope_type", rs.get("type")) == "linear":
        g.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        g.add_rope_scaling_factor(rs["factor"])
    if rs.get("rope_type") == "llama3":
        # convert_hf_to_gguf.py (LlamaModel.generate_extra_tensors): per-dimension frequency factors
        base, dim = cfg.get("rope_theta", 10000.0), hd
        # the converter's float32 freqs, with the power correctly rounded (float64, then float32):
        # numpy's vectorized float32 pow is an ulp off at one of llama3-tiny's exponents, torch's
        # (Sleef, within an ulp) may be elsewhere; every other operation is IEEE float32 in all three
        exps = np.arange(0, dim, 2, dtype=np.float32) / dim
        freqs = np.float32(1.0) / (np.float32(base) ** exps.astype(np.float64)).astype(np.float32)
        factor, low, high, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        low_wl, high_wl = old / low, old / high
        factors = []
        for f in freqs:
            wl = 2 * np.pi / f
            if wl < high_wl:
                factors.append(1)
            elif wl > low_wl:
                factors.append(factor)
            else:
                smooth = (old / wl - low) / (high - low)
                factors.append(1 / ((1 - smooth) / factor + smooth))
        g.add_tensor("rope_freqs.weight", np.array(factors, dtype=np.float32))
    if mt == "gemma2":
        g.add_attn_logit_softcapping(cfg["attn_logit_softcapping"])
        g.add_final_logit_softcapping(cfg["final_logit_softcapping"])
        g.add_sliding_window(cfg["sliding_window"])
    if mt == "gemma3_text":
        g.add_sliding_window(cfg["sliding_window"])
        g.add_sliding_window_pattern(cfg["sliding_window_pattern"])
        g.add_rope_freq_base_swa(float(cfg["rope_local_base_freq"]))
    # a small trained vocabulary of the model's size (the fixtures have no tokenizer)
    add_vocab(g, cfg, spm=gemma)

    d, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads", nh)

    def permute(x, heads):
        """convert_hf_to_gguf.py LlamaModel.permute: rows of each head reordered for interleaved RoPE."""
        return x.reshape(heads, 2, x.shape[0] // heads // 2, *x.shape[1:]).swapaxes(1, 2).reshape(x.shape)
    base = {"f32": Q.F32, "f16": Q.F16, "bf16": Q.BF16, "q8_0": Q.Q8_0, "q4_0": Q.Q4_0, "kmix": Q.Q8_0}[kind]
    ftype = {"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16, "bf16": gguf.LlamaFileType.MOSTLY_BF16,
             "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0, "q4_0": gguf.LlamaFileType.MOSTLY_Q4_0,
             "kmix": gguf.LlamaFileType.MOSTLY_Q4_K_M}[kind]
    g.add_file_type(ftype)
    for name, x in w.items():
        if name == "lm_head.weight" and (gemma or cfg.get("tie_word_embeddings")):
            continue
        gname = tmap.get_name(name, try_suffixes=(".weight", ".bias"))
        assert gname is not None, name
        if neox and "query_key_value" in name:
            if x.ndim == 2:
                q = x.reshape(nh, 3, d // nh, d)
                x = np.concatenate([q[:, 0].reshape(-1, d), q[:, 1].reshape(-1, d), q[:, 2].reshape(-1, d)], 0)
            else:
                q = x.reshape(nh, 3, d // nh)
                x = np.concatenate([q[:, 0].reshape(-1), q[:, 1].reshape(-1), q[:, 2].reshape(-1)], 0)
        if gemma and name.endswith("norm.weight"):
            x = x + np.float32(1)
        if llama and ("q_proj" in name or "k_proj" in name):
            x = permute(x, nh if "q_proj" in name else nkv)
        t = base if x.ndim == 2 else Q.F32
        if kind == "kmix" and gname.endswith("ffn_down.weight"):
            t = {0: Q.Q4_K, 1: Q.Q4_K, 2: Q.Q5_K, 3: Q.Q6_K}[int(gname.split(".")[1])]
        if t not in (Q.F32, Q.F16, Q.BF16) and x.shape[-1] % gguf.GGML_QUANT_SIZES[t][0] != 0:
            t = Q.F16  # as convert_hf_to_gguf.py falls back when rows are not whole blocks
        data, raw = encode(x, t)
        g.add_tensor(gname, data, raw_dtype=raw)
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()
    print("wrote", out.name, out.stat().st_size)


for m in ("pythia-tiny-parallel", "gemma-tiny", "gemma2-tiny", "gemma3-tiny"):
    for k in ("f32", "q8_0"):
        convert(m, k)
for k in ("f16", "bf16", "q4_0", "kmix"):
    convert("pythia-tiny-parallel", k)
for m in ("llama2-tiny", "llama3-tiny", "mistral-tiny", "qwen2-tiny", "qwen3-tiny"):
    convert(m, "f32")
convert("llama2-tiny", "q8_0")
