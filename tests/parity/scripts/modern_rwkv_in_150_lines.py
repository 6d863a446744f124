# Source: BlinkDL (Bo Peng), ChatRWKV, "RWKV_in_150_lines.py": the RWKV-4 language model as an RNN
# (time_mixing with the numerically stable WKV state, channel_mixing with squared ReLU) in a
# torch.jit.ScriptModule with @torch.jit.script_method, and top-p sampling:
#   https://github.com/BlinkDL/ChatRWKV  RWKV_in_150_lines.py
# Shrunk: a tiny random model (2 layers, n_embd 32) instead of the RWKV-4-Pile-430M checkpoint: the
# script first writes random weights with the checkpoint's names and shapes (time_* as (1, 1, C)), in
# float16 (the released checkpoints are bfloat16, which NumPy lacks), to a temporary .pth that
# RWKV_RNN loads as the original does; a character tokenizer over sorted(set(context)) stands in for
# tokenizers' 20B_tokenizer.json; 2 trials of 24 tokens instead of 3 of 100; the model's temporary path
# printed as its base name (the directory differs between runs). Added: the logits after the context;
# the temporary checkpoint removed at exit (atexit).
########################################################################################################
# The RWKV Language Model - https://github.com/BlinkDL/RWKV-LM
########################################################################################################

import numpy as np
np.set_printoptions(precision=4, suppress=True, linewidth=200)
import types, torch
from torch.nn import functional as F
import atexit, os, shutil, tempfile


class Tokenizer:
    """Stands in for tokenizers.Tokenizer.from_file("20B_tokenizer.json"): one token per character."""
    def __init__(self, chars):
        self.chars = chars

    def encode(self, text):
        return types.SimpleNamespace(ids=[self.chars.index(ch) for ch in text])

    def decode(self, ids):
        return ''.join(self.chars[i] for i in ids)


args = types.SimpleNamespace()
args.MODEL_NAME = os.path.join(tempfile.mkdtemp(), 'RWKV-4-tiny-random')
atexit.register(shutil.rmtree, os.path.dirname(args.MODEL_NAME), ignore_errors=True)  # added: the temporary checkpoint goes
args.n_layer = 2
args.n_embd = 32

context = "\nIn a shocking finding, scientist discovered a herd of dragons living in a remote, previously unexplored valley, in Tibet. Even more surprising to the researchers was the fact that the dragons spoke perfect Chinese."
NUM_TRIALS = 2
LENGTH_PER_TRIAL = 24
TEMPERATURE = 1.0
TOP_P = 0.85

tokenizer = Tokenizer(sorted(set(context)))

# The random stand-in for the checkpoint: RWKV-4's names and shapes
C, V = args.n_embd, len(tokenizer.chars)
w = {'emb.weight': torch.randn(V, C) * 0.5, 'blocks.0.ln0.weight': 1 + 0.1 * torch.randn(C), 'blocks.0.ln0.bias': 0.1 * torch.randn(C)}
for i in range(args.n_layer):
    for ln in ('ln1', 'ln2'):
        w[f'blocks.{i}.{ln}.weight'] = 1 + 0.1 * torch.randn(C)
        w[f'blocks.{i}.{ln}.bias'] = 0.1 * torch.randn(C)
    w[f'blocks.{i}.att.time_decay'] = torch.randn(C)
    w[f'blocks.{i}.att.time_first'] = 0.5 * torch.randn(C)
    for name in ('att.time_mix_k', 'att.time_mix_v', 'att.time_mix_r', 'ffn.time_mix_k', 'ffn.time_mix_r'):
        w[f'blocks.{i}.{name}'] = torch.rand(1, 1, C)
    for name in ('att.key', 'att.value', 'att.receptance', 'att.output', 'ffn.receptance'):
        w[f'blocks.{i}.{name}.weight'] = torch.randn(C, C) / C ** 0.5
    w[f'blocks.{i}.ffn.key.weight'] = torch.randn(4 * C, C) / C ** 0.5
    w[f'blocks.{i}.ffn.value.weight'] = torch.randn(C, 4 * C) / (4 * C) ** 0.5
w['ln_out.weight'] = 1 + 0.1 * torch.randn(C)
w['ln_out.bias'] = 0.1 * torch.randn(C)
w['head.weight'] = torch.randn(V, C) * 0.5
torch.save({k: v.half() for k, v in w.items()}, args.MODEL_NAME + '.pth')

########################################################################################################

class RWKV_RNN(torch.jit.ScriptModule):
    def __init__(self, args):
        super().__init__()
        self.args = args
        self.eval() # set torch to inference mode
        
        w = torch.load(args.MODEL_NAME + '.pth', map_location='cpu')
        for k in w.keys():
            if      '.time_' in k: w[k] = w[k].squeeze()
            if '.time_decay' in k: w[k] = -torch.exp(w[k].float()) # the real time decay is like e^{-e^x}
            else: w[k] = w[k].float() # convert to f32 type
        
        self.w = types.SimpleNamespace() # set self.w from w
        self.w.blocks = {}
        for k in w.keys(): # example: "blocks.0.att.time_first" => self.w.blocks[0].att.time_first
            parts = k.split('.')
            last = parts.pop()
            here = self.w
            for p in parts:
                if p.isdigit():
                    p = int(p)
                    if p not in here: here[p] = types.SimpleNamespace()
                    here = here[p]
                else:
                    if not hasattr(here, p): setattr(here, p, types.SimpleNamespace())
                    here = getattr(here, p)
            setattr(here, last, w[k])

    def layer_norm(self, x, w):
        return F.layer_norm(x, (self.args.n_embd,), weight=w.weight, bias=w.bias)

    @torch.jit.script_method
    def channel_mixing(self, x, state, i:int, time_mix_k, time_mix_r, kw, vw, rw):
        xk = x * time_mix_k + state[5*i+0] * (1 - time_mix_k)
        xr = x * time_mix_r + state[5*i+0] * (1 - time_mix_r)
        state[5*i+0] = x
        r = torch.sigmoid(rw @ xr)
        k = torch.square(torch.relu(kw @ xk)) # square relu, primer paper
        return r * (vw @ k)

    @torch.jit.script_method
    def time_mixing(self, x, state, i:int, time_mix_k, time_mix_v, time_mix_r, time_first, time_decay, kw, vw, rw, ow):
        xk = x * time_mix_k + state[5*i+1] * (1 - time_mix_k)
        xv = x * time_mix_v + state[5*i+1] * (1 - time_mix_v)
        xr = x * time_mix_r + state[5*i+1] * (1 - time_mix_r)
        state[5*i+1] = x
        r = torch.sigmoid(rw @ xr)
        k = kw @ xk
        v = vw @ xv
        
        aa = state[5*i+2]
        bb = state[5*i+3]
        pp = state[5*i+4]
        ww = time_first + k
        qq = torch.maximum(pp, ww)
        e1 = torch.exp(pp - qq)
        e2 = torch.exp(ww - qq)
        a = e1 * aa + e2 * v
        b = e1 * bb + e2
        wkv = a / b
        ww = pp + time_decay
        qq = torch.maximum(ww, k)
        e1 = torch.exp(ww - qq)
        e2 = torch.exp(k - qq)
        state[5*i+2] = e1 * aa + e2 * v
        state[5*i+3] = e1 * bb + e2
        state[5*i+4] = qq
        return ow @ (r * wkv)

    def forward(self, token, state):
        with torch.no_grad():
            if state == None:
                state = torch.zeros(self.args.n_layer * 5, self.args.n_embd)
                for i in range(self.args.n_layer): state[5*i+4] = -1e30 # -infinity
            
            x = self.w.emb.weight[token]
            x = self.layer_norm(x, self.w.blocks[0].ln0)
            for i in range(self.args.n_layer):
                att = self.w.blocks[i].att
                x = x + self.time_mixing(self.layer_norm(x, self.w.blocks[i].ln1), state, i, 
                    att.time_mix_k, att.time_mix_v, att.time_mix_r, att.time_first, att.time_decay, 
                    att.key.weight, att.value.weight, att.receptance.weight, att.output.weight)
                ffn = self.w.blocks[i].ffn
                x = x + self.channel_mixing(self.layer_norm(x, self.w.blocks[i].ln2), state, i, 
                    ffn.time_mix_k, ffn.time_mix_r, 
                    ffn.key.weight, ffn.value.weight, ffn.receptance.weight)
            
            x = self.w.head.weight @ self.layer_norm(x, self.w.ln_out)
            return x.float(), state

##########################################################################################################

def sample_logits(out, temperature=1.0, top_p=0.8):
    probs = F.softmax(out, dim=-1).numpy()
    sorted_probs = np.sort(probs)[::-1]
    cumulative_probs = np.cumsum(sorted_probs)
    cutoff = float(sorted_probs[np.argmax(cumulative_probs > top_p)])
    probs[probs < cutoff] = 0
    if temperature != 1.0:
        probs = probs.pow(1.0 / temperature)
    probs = probs / np.sum(probs)
    out = np.random.choice(a=len(probs), p=probs)
    return out

########################################################################################################

print(f'\nUsing CPU. Loading {os.path.basename(args.MODEL_NAME)} ...')
model = RWKV_RNN(args)

print(f'\nPreprocessing context (slow version. see v2/rwkv/model.py for fast version)')
init_state = None
for token in tokenizer.encode(context).ids:
    init_out, init_state = model.forward(token, init_state)
print(init_out[:8], init_state.shape)

for TRIAL in range(NUM_TRIALS):
    print(f'\n\n--[ Trial {TRIAL} ]-----------------', context, end="")
    all_tokens = []
    out_last = 0
    out, state = init_out.clone(), init_state.clone()
    for i in range(LENGTH_PER_TRIAL):
        token = sample_logits(out, TEMPERATURE, TOP_P)
        all_tokens += [token]
        tmp = tokenizer.decode(all_tokens[out_last:])
        if '\ufffd' not in tmp: # only print when we have a valid utf-8 string
            print(tmp, end="", flush=True)
            out_last = i + 1
        out, state = model.forward(token, state)       
print('\n')
