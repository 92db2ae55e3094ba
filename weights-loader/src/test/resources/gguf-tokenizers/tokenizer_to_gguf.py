#!/usr/bin/env python3
# Copyright the jsteer authors.
# SPDX-License-Identifier: Apache-2.0
"""Writes the tokenizer of a Hugging Face tokenizer.json as GGUF metadata (tokenizer.ggml.*), the way
llama.cpp's convert_hf_to_gguf.py does, with llama.cpp's own gguf-py writer; offline, numpy only.

usage: PYTHONPATH=<llama.cpp>/gguf-py tokenizer_to_gguf.py TOKENIZER_DIR PRE [OUT.gguf]
  TOKENIZER_DIR holds tokenizer.json (and tokenizer_config.json where the model has one).
  PRE is tokenizer.ggml.pre: convert_hf_to_gguf.py finds it by hashing the tokens of a test text
  (get_vocab_base_pre), which needs transformers; the values it gives for the tokenizers used here
  are: llama-bpe (Llama 3, 3.1), qwen2 (Qwen 2/3), olmo (GPT-NeoX-20B/Pythia: OLMo-1.7 uses that
  tokenizer, and 'olmo' is handled as 'gpt-2' with llama.cpp's GPT-2 regex), gpt-2, and
  'default' for SentencePiece (byte-fallback) vocabularies.
Prints the digest of the tokenizer.ggml.* metadata (see digest()); the Java tests write the same
metadata from the same tokenizer.json and check the digest listed in digests.txt (written by make_digests.sh).

What it mirrors (conversion/base.py):
  * byte-level BPE (get_vocab_base, _set_vocab_gpt2): tokens by id, [PADn] UNUSED for holes, added
    tokens CONTROL when special or when they look special (does_token_look_special), else
    USER_DEFINED with U+2581 replaced by a space; merges and special ids from gguf-py's SpecialVocab.
  * SentencePiece (_set_vocab_sentencepiece): types NORMAL/UNKNOWN/CONTROL/USER_DEFINED/BYTE as
    there. A tokenizer.json has no SentencePiece scores, so they are recovered from its merges, which
    Hugging Face made from the real scores (convert_slow_tokenizer.generate_merges: every split of
    every piece, ordered by the piece's score, then the left part's length, then the right part's,
    longest first; ties in piece id order). Walking the merges, a new score level starts wherever that
    order breaks; all pieces of a level share its score. tokenizer.json files made by older converters
    ordered by score alone (ties by the parts' ids): where the walk finds a piece in two levels, the
    score is minus the index of the piece's first merge instead. Pieces no merge makes score below
    every merged piece (in id order); unknown, control, byte and unused pieces 0.
"""
import hashlib
import json
import re
import struct
import sys
from pathlib import Path

import gguf

LOOKS_SPECIAL = ("<pad>", "<mask>", "<2mass>", "[@BOS@]")


def does_token_look_special(t):
    return (t in LOOKS_SPECIAL or (t.startswith("<|") and t.endswith("|>"))
            or (t.startswith("<\uff5c") and t.endswith("\uff5c>")) or (t.startswith("<unused") and t.endswith(">")))


def vocab_tables(tok):
    model = tok["model"]
    vocab = dict(model["vocab"])
    added = {a["content"]: a for a in tok["added_tokens"]}
    for a in tok["added_tokens"]:
        vocab.setdefault(a["content"], a["id"])
    return model, vocab, added


def gpt2_vocab(tok, n_vocab):
    model, vocab, added = vocab_tables(tok)
    reverse = {i: t for t, i in vocab.items()}
    tokens, types = [], []
    for i in range(n_vocab):
        if i not in reverse:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
            continue
        t = reverse[i]
        if t in added:
            if added[t]["special"] or does_token_look_special(t):
                types.append(gguf.TokenType.CONTROL)
            else:
                t = t.replace("\u2581", " ")
                types.append(gguf.TokenType.USER_DEFINED)
        else:
            types.append(gguf.TokenType.NORMAL)
        tokens.append(t)
    return tokens, types, None


def spm_vocab(tok, n_vocab):
    model, vocab, added = vocab_tables(tok)
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    level = recovered_levels(merges, vocab)
    reverse = {i: t for t, i in vocab.items()}
    unk = model.get("unk_token")
    tokens, types, scores = [], [], []
    for i in range(n_vocab):
        t = reverse.get(i)
        if t is None:
            tokens.append(f"[PAD{i}]"); types.append(gguf.TokenType.UNUSED); scores.append(-1000.0)
            continue
        score = 0.0
        if t == unk:
            tt = gguf.TokenType.UNKNOWN
        elif t in added and (added[t]["special"] or does_token_look_special(t)):
            tt = gguf.TokenType.CONTROL
        elif t in added:
            tt = gguf.TokenType.USER_DEFINED
            score = -float(level[t]) if t in level else 0.0
            t = t.replace("\u2581", " ")
        elif re.fullmatch(r"<0x[0-9A-Fa-f]{2}>", t):
            tt = gguf.TokenType.BYTE
        else:
            tt = gguf.TokenType.NORMAL
            score = -float(level[t]) if t in level else -float(len(merges) + i)
        tokens.append(t); types.append(tt); scores.append(score)
    return tokens, types, scores


def recovered_levels(merges, vocab):
    """piece -> score level (0 highest), see the module comment"""
    level, lv, prev, consistent = {}, 0, None, True
    for a, b in merges:
        key = (-len(a), -len(b), vocab[a + b])
        if prev is not None and not key > prev:
            lv += 1
        if level.setdefault(a + b, lv) != lv:
            consistent = False
            break
        prev = key
    if consistent:
        return level
    first = {}
    for i, (a, b) in enumerate(merges):
        first.setdefault(a + b, i)
    return first


def add_space_prefix(tok):
    norm = tok.get("normalizer") or {}
    parts = norm.get("normalizers", [norm]) if norm.get("type") == "Sequence" else [norm]
    return any(p.get("type") == "Prepend" and p.get("prepend") == "\u2581" for p in parts)


def digest(path):
    """sha256 over the tokenizer.ggml.* entries in key order: the key, then each value on its own
    line (strings as they are, integers in decimal, floats as the hex of their float32 bits,
    booleans as true/false), every line ending in a newline."""
    r = gguf.GGUFReader(path)
    h = hashlib.sha256()
    for key in sorted(k for k in r.fields if k.startswith("tokenizer.ggml.")):
        f = r.fields[key]
        h.update((key + "\n").encode())
        vt = f.types[-1]
        values = [f.parts[i] for i in f.data]
        for v in values:
            if vt == gguf.GGUFValueType.STRING:
                s = bytes(v).decode("utf-8")
            elif vt == gguf.GGUFValueType.FLOAT32:
                s = "%08x" % struct.unpack("<I", struct.pack("<f", float(v[0])))[0]
            elif vt == gguf.GGUFValueType.BOOL:
                s = "true" if bool(v[0]) else "false"
            else:
                s = str(int(v[0]))
            h.update((s + "\n").encode())
    return h.hexdigest()


def main():
    src, pre = Path(sys.argv[1]), sys.argv[2]
    out = sys.argv[3] if len(sys.argv) > 3 else None
    tok = json.loads((src / "tokenizer.json").read_text(encoding="utf-8"))
    _, vocab, _ = vocab_tables(tok)
    n_vocab = max(vocab.values()) + 1
    spm = bool(tok["model"].get("byte_fallback"))
    tokens, types, scores = (spm_vocab if spm else gpt2_vocab)(tok, n_vocab)
    path = out or "/tmp/tokenizer-only.gguf"
    w = gguf.GGUFWriter(path, "llama")
    w.add_tokenizer_model("llama" if spm else "gpt2")
    w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    if scores is not None:
        w.add_token_scores(scores)
    w.add_token_types(types)
    if spm:
        w.add_add_space_prefix(add_space_prefix(tok))
    gguf.SpecialVocab(src, load_merges=not spm, n_vocab=n_vocab).add_to_gguf(w)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(src.name, digest(path))


if __name__ == "__main__":
    main()
