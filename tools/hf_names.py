"""transformers' GPT-2 and BERT state_dicts under the names of specs/gpt2.arch and specs/bert_base.arch
(developer helper for tools/make_fixtures.py and benchmarks/build_vs_peers.py)."""
import torch


def gpt2_to_archc(sd):
    """GPT2LMHeadModel's tensors as gpt2.arch names them (Conv1D weights transposed; the head is tied to wte)."""
    renames = {"ln_1": "norm1", "ln_2": "norm2", "attn.c_attn": "attn.qkv", "attn.c_proj": "attn.proj", "mlp.c_fc": "mlp.fc1", "mlp.c_proj": "mlp.fc2"}
    state = {}
    for k, v in sd.items():
        if k == "lm_head.weight" or k.endswith(".attn.bias") or k.endswith(".attn.masked_bias"):
            continue  # tied to wte; causal-mask buffers
        k = k.removeprefix("transformer.")
        for a, b in renames.items():
            k = k.replace(a, b)
        state[k] = v.t() if k.endswith(("qkv.weight", "proj.weight", "fc1.weight", "fc2.weight")) else v
    return state


def bert_to_archc(sd, layers):
    """BertModel's tensors as bert_base.arch names them (query, key and value as one packed projection)."""
    state = {}
    for k, v in sd.items():
        if k.startswith("embeddings.") and not k.endswith(("position_ids", "token_type_ids")):
            state[k] = v
        elif k.startswith("pooler."):
            state[k] = v
    for i in range(layers):
        p = f"encoder.layer.{i}."
        q = [sd[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]
        qb = [sd[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]
        state[p + "attn.qkv.weight"], state[p + "attn.qkv.bias"] = torch.cat(q), torch.cat(qb)
        for src, dst in [("attention.output.dense", "attn.proj"), ("attention.output.LayerNorm", "norm1"),
                         ("intermediate.dense", "mlp.fc1"), ("output.dense", "mlp.fc2"), ("output.LayerNorm", "norm2")]:
            state[p + dst + ".weight"], state[p + dst + ".bias"] = sd[p + src + ".weight"], sd[p + src + ".bias"]
    return state
