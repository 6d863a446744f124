# Source: Stanford CS336 "Language Modeling from Scratch" (Spring 2025), assignment 1 "basics"
# (https://github.com/stanford-cs336/assignment1-basics), as solved by Brandon Snider:
#   https://github.com/brandon-snider/cs336-a1  cs336_basics/model.py (in cs336_basics/ beside this
#   script), tests/adapters.py (the run_* adapters and _merge_attention_weights, copied below),
#   tests/test_model.py + tests/test_nn_utils.py + tests/conftest.py (the fixtures and the tests, run
#   here as plain calls).
# Shrunk: the fixtures' sizes (d_model 64, d_ff 128, 3 layers, vocab 10000, 12 queries / 16 keys)
# become d_model 16, d_ff 32, 2 layers, vocab 50, 6 queries / 8 keys; the reference state dict
# tests/fixtures/ts_tests/model.pt (not in the repository's text) is replaced by torch.randn weights
# under its keys; the snapshot comparisons (numpy_snapshot.assert_match) print the outputs instead.
# einops (rearrange in the 4-D attention and RoPE tests) replaced by view/unsqueeze; jaxtyping
# annotations dropped. Extra prints: the outputs compared against PyTorch's own F.silu, F.softmax,
# F.scaled_dot_product_attention and nn.RMSNorm.
import numpy
import torch
import torch.nn.functional as F

import cs336_basics.model

model_base = cs336_basics.model

# ---- conftest.py fixtures (shrunk)
batch_size, n_queries, n_keys, n_heads, d_head, d_ff = 4, 6, 8, 4, 4, 32
d_model = n_heads * d_head
vocab_size, n_layers, theta = 50, 2, 10000.0

torch.manual_seed(1)
q = torch.randn(batch_size, n_queries, d_model)
torch.manual_seed(2)
k = torch.randn(batch_size, n_keys, d_model)
torch.manual_seed(3)
v = torch.randn(batch_size, n_keys, d_model)
torch.manual_seed(4)
in_embeddings = torch.randn(batch_size, n_queries, d_model)
torch.manual_seed(5)
mask = torch.randn(batch_size, n_queries, n_keys) > 0.5
torch.manual_seed(6)
in_indices = torch.randint(0, vocab_size, (batch_size, n_queries))
pos_ids = torch.arange(0, n_queries)

# stand-in for tests/fixtures/ts_tests/model.pt: the reference implementation's keys and shapes
torch.manual_seed(7)
ts_state = {"token_embeddings.weight": torch.randn(vocab_size, d_model)}
for i in range(n_layers):
    for name in ["q", "k", "v", "output"]:
        ts_state[f"layers.{i}.attn.{name}_proj.weight"] = torch.randn(d_model, d_model) / d_model**0.5
    ts_state[f"layers.{i}.ln1.weight"] = 1 + 0.1 * torch.randn(d_model)
    ts_state[f"layers.{i}.ffn.w1.weight"] = torch.randn(d_ff, d_model) / d_model**0.5
    ts_state[f"layers.{i}.ffn.w2.weight"] = torch.randn(d_model, d_ff) / d_ff**0.5
    ts_state[f"layers.{i}.ffn.w3.weight"] = torch.randn(d_ff, d_model) / d_model**0.5
    ts_state[f"layers.{i}.ln2.weight"] = 1 + 0.1 * torch.randn(d_model)
ts_state["ln_final.weight"] = 1 + 0.1 * torch.randn(d_model)
ts_state["lm_head.weight"] = torch.randn(vocab_size, d_model) / d_model**0.5
ts_state_dict = (ts_state, {})


# ---- tests/adapters.py
def _merge_attention_weights(weights):
    if "attn.q_proj.weight" in weights:
        weights["attn.wqkv.weight"] = torch.cat(
            [weights["attn.q_proj.weight"], weights["attn.k_proj.weight"], weights["attn.v_proj.weight"]], dim=0
        )
        del weights["attn.q_proj.weight"]
        del weights["attn.k_proj.weight"]
        del weights["attn.v_proj.weight"]

    layer_prefixes = set()
    for key in list(weights.keys()):
        if key.startswith("layers.") and key.endswith(".attn.q_proj.weight"):
            layer_prefix = key.rsplit(".attn.q_proj.weight", 1)[0]
            layer_prefixes.add(layer_prefix)

    for prefix in layer_prefixes:
        q_key = f"{prefix}.attn.q_proj.weight"
        k_key = f"{prefix}.attn.k_proj.weight"
        v_key = f"{prefix}.attn.v_proj.weight"

        if q_key in weights and k_key in weights and v_key in weights:
            weights[f"{prefix}.attn.wqkv.weight"] = torch.cat([weights[q_key], weights[k_key], weights[v_key]], dim=0)
            del weights[q_key]
            del weights[k_key]
            del weights[v_key]

    return weights


def run_linear(d_in, d_out, weights, in_features):
    layer = model_base.Linear(d_in, d_out)
    layer.weight.data = weights.clone()
    return layer.forward(in_features)


def run_embedding(vocab_size, d_model, weights, token_ids):
    layer = model_base.Embedding(vocab_size, d_model)
    layer.weight.data = weights.clone()
    return layer.forward(token_ids)


def run_swiglu(d_model, d_ff, w1_weight, w2_weight, w3_weight, in_features):
    swiglu = model_base.SwiGLU(d_model, d_ff)
    swiglu.w1.weight.data = w1_weight
    swiglu.w2.weight.data = w2_weight
    swiglu.w3.weight.data = w3_weight
    return swiglu.forward(in_features)


def run_scaled_dot_product_attention(Q, K, V, mask=None):
    return model_base.scaled_dot_product_attention(Q, K, V, mask)


def run_multihead_self_attention(d_model, num_heads, q_proj_weight, k_proj_weight, v_proj_weight, o_proj_weight,
                                 in_features):
    mha = model_base.CausalMultiHeadSelfAttention(d_model, num_heads)
    combined_weight = torch.cat([q_proj_weight, k_proj_weight, v_proj_weight], dim=0)
    mha.wqkv.weight.data = combined_weight
    mha.output_proj.weight.data = o_proj_weight
    out = mha(in_features)
    return out


def run_multihead_self_attention_with_rope(d_model, num_heads, max_seq_len, theta, q_proj_weight, k_proj_weight,
                                           v_proj_weight, o_proj_weight, in_features, token_positions=None):
    mha = model_base.CausalMultiHeadSelfAttention(d_model, num_heads)
    combined_weight = torch.cat([q_proj_weight, k_proj_weight, v_proj_weight], dim=0)
    mha.wqkv.weight.data = combined_weight
    mha.output_proj.weight.data = o_proj_weight
    rope = model_base.RotaryPositionalEmbedding(theta, d_model // num_heads, max_seq_len)
    return mha(in_features, rope, token_positions)


def run_rope(d_k, theta, max_seq_len, in_query_or_key, token_positions):
    rope = model_base.RotaryPositionalEmbedding(theta, d_k, max_seq_len)
    return rope.forward(in_query_or_key, token_positions)


def run_transformer_block(d_model, num_heads, d_ff, max_seq_len, theta, weights, in_features):
    rope = model_base.RotaryPositionalEmbedding(theta, d_model // num_heads, max_seq_len)
    block = model_base.Block(d_model, num_heads, d_ff, rope)
    block.load_state_dict(_merge_attention_weights(weights))
    return block(in_features)


def run_transformer_lm(vocab_size, context_length, d_model, num_layers, num_heads, d_ff, rope_theta, weights,
                       in_indices):
    model = model_base.Transformer(vocab_size=vocab_size, context_length=context_length, d_model=d_model,
                                   num_layers=num_layers, num_heads=num_heads, d_ff=d_ff, rope_theta=rope_theta)
    model.load_state_dict(_merge_attention_weights(weights))
    return model(in_indices)


def run_rmsnorm(d_model, eps, weights, in_features):
    rmsnorm = model_base.RMSNorm(d_model, eps)
    rmsnorm.weight.data = weights
    return rmsnorm.forward(in_features)


def run_silu(in_features):
    return model_base.silu_activation(in_features)


def run_softmax(in_features, dim):
    return model_base.softmax(in_features, dim)


def show(name, t):
    print(name, tuple(t.shape))
    print(torch.round(t.detach().reshape(-1)[:8], decimals=4))
    print("sum %.4f  abs-mean %.5f" % (t.sum().item(), t.abs().mean().item()))


# ---- tests/test_model.py
w1_weight = ts_state_dict[0][f"layers.0.ffn.w1.weight"]
show("linear", run_linear(d_in=d_model, d_out=d_ff, weights=w1_weight, in_features=in_embeddings))

embedding_weight = ts_state_dict[0][f"token_embeddings.weight"]
out = run_embedding(vocab_size=vocab_size, d_model=d_model, weights=embedding_weight, token_ids=in_indices)
show("embedding", out)
print("matches F.embedding:", torch.equal(out, F.embedding(in_indices, embedding_weight)))

w1_weight, w2_weight, w3_weight = [ts_state_dict[0][f"layers.0.ffn.{k}.weight"] for k in ["w1", "w2", "w3"]]
show("swiglu", run_swiglu(d_model=d_model, d_ff=d_ff, w1_weight=w1_weight, w2_weight=w2_weight,
                          w3_weight=w3_weight, in_features=in_embeddings))

actual_output = run_scaled_dot_product_attention(Q=q, K=k, V=v, mask=mask)
show("scaled_dot_product_attention", actual_output)
expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
print("matches F.scaled_dot_product_attention:", torch.allclose(actual_output, expected, atol=1e-6, equal_nan=True))
print("rows with every key masked (NaN):", actual_output.isnan().any(-1).sum().item())

# 4-D: rearrange(x, "(batch head) seq d -> batch head seq d", head=2)
q4, k4, v4 = (x.view(-1, 2, *x.shape[1:]) for x in (q, k, v))
mask4 = mask.view(-1, 2, *mask.shape[1:])
show("4d scaled_dot_product_attention", run_scaled_dot_product_attention(Q=q4, K=k4, V=v4, mask=mask4))

d, _ = ts_state_dict
q_proj_weight, k_proj_weight, v_proj_weight, o_proj_weight = [
    d[f"layers.0.attn.{k}_proj.weight"] for k in ["q", "k", "v", "output"]
]
out = run_multihead_self_attention(d_model=d_model, num_heads=n_heads, q_proj_weight=q_proj_weight,
                                   k_proj_weight=k_proj_weight, v_proj_weight=v_proj_weight,
                                   o_proj_weight=o_proj_weight, in_features=in_embeddings)
show("multihead_self_attention", out)
# the same with PyTorch's fused attention (is_causal=True)
qh, kh, vh = (F.linear(in_embeddings, w).view(batch_size, n_queries, n_heads, d_head).transpose(1, 2)
              for w in (q_proj_weight, k_proj_weight, v_proj_weight))
ref = F.scaled_dot_product_attention(qh, kh, vh, is_causal=True).transpose(1, 2).reshape(batch_size, n_queries, d_model)
print("matches F.scaled_dot_product_attention(is_causal=True):", torch.allclose(out, F.linear(ref, o_proj_weight), atol=1e-5))

out = run_multihead_self_attention_with_rope(d_model=d_model, num_heads=n_heads, max_seq_len=n_keys, theta=theta,
                                             q_proj_weight=q_proj_weight, k_proj_weight=k_proj_weight,
                                             v_proj_weight=v_proj_weight, o_proj_weight=o_proj_weight,
                                             in_features=in_embeddings, token_positions=pos_ids.unsqueeze(0))
show("multihead_self_attention_with_rope", out)

state_dict, _ = ts_state_dict
out = run_transformer_lm(vocab_size=vocab_size, context_length=n_keys, d_model=d_model, num_layers=n_layers,
                         num_heads=n_heads, d_ff=d_ff, rope_theta=theta, weights=dict(state_dict),
                         in_indices=in_indices)
show("transformer_lm", out)
out = run_transformer_lm(vocab_size=vocab_size, context_length=n_keys, d_model=d_model, num_layers=n_layers,
                         num_heads=n_heads, d_ff=d_ff, rope_theta=theta, weights=dict(state_dict),
                         in_indices=in_indices[..., : n_queries // 2])
show("transformer_lm_truncated_input", out)

block_weights = {k.replace("layers.0.", ""): v for k, v in ts_state_dict[0].items() if "layers.0." in k}
show("transformer_block", run_transformer_block(d_model=d_model, num_heads=n_heads, d_ff=d_ff, max_seq_len=n_keys,
                                                theta=theta, weights=block_weights, in_features=in_embeddings))

reference_weights = state_dict["layers.1.ln1.weight"]
out = run_rmsnorm(d_model=reference_weights.shape[0], eps=1e-5, weights=reference_weights, in_features=in_embeddings)
show("rmsnorm", out)
norm = torch.nn.RMSNorm(d_model, eps=1e-5)
norm.weight.data = reference_weights
print("matches nn.RMSNorm:", torch.allclose(out, norm(in_embeddings), atol=1e-6))

show("rope", run_rope(d_model, theta=theta, max_seq_len=n_queries, in_query_or_key=in_embeddings,
                      token_positions=pos_ids))

x = torch.tensor(
    [
        [0.2352, 0.9259, 0.5189, 0.4725, 0.9730],
        [0.7581, 0.9692, 0.2129, 0.9345, 0.0149],
    ]
)
expected_output = F.silu(x)
actual_output = run_silu(x)
numpy.testing.assert_allclose(actual_output.detach().numpy(), expected_output.detach().numpy(), atol=1e-6)
print("silu", actual_output)

# ---- tests/test_nn_utils.py: test_softmax_matches_pytorch
x = torch.tensor(
    [
        [0.4655, 0.8303, 0.9608, 0.9656, 0.6840],
        [0.2583, 0.2198, 0.9334, 0.2995, 0.1722],
        [0.1573, 0.6860, 0.1327, 0.7284, 0.6811],
    ]
)
expected = F.softmax(x, dim=-1)
numpy.testing.assert_allclose(run_softmax(x, dim=-1).detach().numpy(), expected.detach().numpy(), atol=1e-6)
numpy.testing.assert_allclose(run_softmax(x + 100, dim=-1).detach().numpy(), expected.detach().numpy(), atol=1e-6)
print("softmax", run_softmax(x + 100, dim=-1))

# a fresh model as the training script builds it (trunc_normal_ initialisation), and its parameter count
model = model_base.Transformer(d_model=d_model, num_heads=n_heads, d_ff=d_ff, vocab_size=vocab_size,
                               context_length=n_keys, num_layers=n_layers)
print(f"Trainable params: {sum(p.numel() for p in model.parameters() if p.requires_grad)}")
for name, p in model.named_parameters():
    print(name, tuple(p.shape), "std %.4f max|w| %.4f" % (p.std().item(), p.abs().max().item()))
print([name for name, _ in model.named_buffers()], list(model.state_dict().keys())[:4])
