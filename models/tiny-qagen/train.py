# Trains the tiny QAGen BART on the data written by gen-data.ts (CPU, deterministic).
# The module mirrors EXACTLY the graph that src/modelgen/bart-graph.ts emits: learned positions
# from 0, no embedding scale, no layernorm_embedding, post-LN, ReLU FFN, additive -1e9 masks,
# shared token embedding, untied lm_head + final_logits_bias.
# Usage: python3 train.py DATA_DIR OUT_DIR [--steps N] [--seed S] [--ans-weight W] [--d 64 --heads 4 --ffn 256 --enc 2 --dec 2]
# Writes OUT_DIR/weights.bin (float32 LE, ONNX initializer layout), weights.json (config, tensor
# table, metrics, sha256), ref_logits.bin + ref_logits.json (teacher-forced parity reference).
import argparse, json, math, os, time, hashlib
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument('data'); ap.add_argument('out')
ap.add_argument('--steps', type=int, default=5000); ap.add_argument('--batch', type=int, default=64)
ap.add_argument('--lr', type=float, default=2e-3); ap.add_argument('--warmup', type=int, default=300)
ap.add_argument('--seed', type=int, default=0); ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--ans-weight', type=float, default=1.0, help='loss weight of answer tokens (after the separator, EOS included)')
ap.add_argument('--d', type=int, default=64); ap.add_argument('--heads', type=int, default=4); ap.add_argument('--ffn', type=int, default=256)
ap.add_argument('--enc', type=int, default=2); ap.add_argument('--dec', type=int, default=2); ap.add_argument('--maxpos', type=int, default=128)
ap.add_argument('--ref-rows', type=int, default=2)
args = ap.parse_args()
torch.set_num_threads(args.threads); torch.manual_seed(args.seed); torch.use_deterministic_algorithms(True)

meta = json.load(open(os.path.join(args.data, 'train_meta.json')))
V, PAD, SEP, EOS = meta['vocab_size'], meta['pad'], meta['sep'], meta['eos']
def load(name, L):
    a = np.fromfile(os.path.join(args.data, name), dtype=np.uint16).astype(np.int64)
    return torch.from_numpy(a.reshape(meta['n'], L))
src, tgt = load('train_src.u16', meta['src_len']), load('train_tgt.u16', meta['tgt_len'])
NVAL = 2000  # the first rows are held out for validation (texts are random, so this is a fair split)
vsrc, vtgt, src, tgt = src[:NVAL], tgt[:NVAL], src[NVAL:], tgt[NVAL:]
D, H, FFN = args.d, args.heads, args.ffn
HD = D // H
NEG = -1e9

class Attn(nn.Module):
    def __init__(s):
        super().__init__(); s.q_proj, s.k_proj, s.v_proj, s.out_proj = (nn.Linear(D, D) for _ in range(4))
    def heads(s, x): B, T, _ = x.shape; return x.view(B, T, H, HD).transpose(1, 2)
    def forward(s, x, kv, mask_add):
        q, k, v = s.heads(s.q_proj(x)), s.heads(s.k_proj(kv)), s.heads(s.v_proj(kv))
        a = torch.softmax((q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(HD)) + mask_add, -1) @ v
        B, _, T, _ = a.shape
        return s.out_proj(a.transpose(1, 2).reshape(B, T, D))

class EncLayer(nn.Module):
    def __init__(s):
        super().__init__(); s.self_attn = Attn(); s.self_attn_layer_norm = nn.LayerNorm(D, eps=1e-5)
        s.fc1, s.fc2 = nn.Linear(D, FFN), nn.Linear(FFN, D); s.final_layer_norm = nn.LayerNorm(D, eps=1e-5)
    def forward(s, x, m):
        x = s.self_attn_layer_norm(x + s.self_attn(x, x, m))
        return s.final_layer_norm(x + s.fc2(F.relu(s.fc1(x))))

class DecLayer(nn.Module):
    def __init__(s):
        super().__init__(); s.self_attn = Attn(); s.self_attn_layer_norm = nn.LayerNorm(D, eps=1e-5)
        s.encoder_attn = Attn(); s.encoder_attn_layer_norm = nn.LayerNorm(D, eps=1e-5)
        s.fc1, s.fc2 = nn.Linear(D, FFN), nn.Linear(FFN, D); s.final_layer_norm = nn.LayerNorm(D, eps=1e-5)
    def forward(s, x, enc, causal, cross):
        x = s.self_attn_layer_norm(x + s.self_attn(x, x, causal))
        x = s.encoder_attn_layer_norm(x + s.encoder_attn(x, enc, cross))
        return s.final_layer_norm(x + s.fc2(F.relu(s.fc1(x))))

class TinyBart(nn.Module):
    def __init__(s):
        super().__init__()
        s.shared = nn.Embedding(V, D)
        s.enc_pos = nn.Embedding(args.maxpos, D); s.dec_pos = nn.Embedding(args.maxpos, D)
        s.enc_layers = nn.ModuleList(EncLayer() for _ in range(args.enc)); s.dec_layers = nn.ModuleList(DecLayer() for _ in range(args.dec))
        s.lm_head = nn.Linear(D, V, bias=False); s.final_logits_bias = nn.Parameter(torch.zeros(V))
        for n, p in s.named_parameters():
            if p.dim() > 1: nn.init.normal_(p, 0, 0.02)
            elif 'layer_norm' not in n: nn.init.zeros_(p)
    def encode(s, ids, am):
        x = s.shared(ids) + s.enc_pos(torch.arange(ids.shape[1]))
        m = ((1.0 - am.float()) * NEG)[:, None, None, :]
        for l in s.enc_layers: x = l(x, m)
        return x
    def decode(s, dec_ids, enc, am):
        pos = torch.arange(dec_ids.shape[1])
        causal = torch.where(pos[None, :] > pos[:, None], torch.tensor(NEG), torch.tensor(0.0))
        cross = ((1.0 - am.float()) * NEG)[:, None, None, :]
        x = s.shared(dec_ids) + s.dec_pos(pos)
        for l in s.dec_layers: x = l(x, enc, causal, cross)
        return s.lm_head(x) + s.final_logits_bias
    def forward(s, ids, dec_ids):
        am = (ids != PAD).long()
        return s.decode(dec_ids, s.encode(ids, am), am)

def batch_tensors(sb, tb):
    """Trims padding columns; decoder input = decoder start (</s>) + target shifted right."""
    Ls = int((sb != PAD).sum(1).max()); Lt = int((tb != PAD).sum(1).max())
    sb, tb = sb[:, :Ls], tb[:, :Lt]
    dec_in = torch.cat([torch.full((tb.shape[0], 1), meta['decoder_start']), tb[:, :-1]], 1)
    return sb, dec_in, tb

def answer_mask(t_):
    return (torch.cumsum((t_ == SEP).long(), 1) > 0) & (t_ != SEP) & (t_ != PAD)

model = TinyBart()
nparam = sum(p.numel() for p in model.parameters())
opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda st: min(1.0, (st + 1) / args.warmup) * max(0.05, 0.5 * (1 + math.cos(math.pi * min(st, args.steps) / args.steps))))
g = torch.Generator().manual_seed(args.seed)

def evaluate():
    """Validation loss per token and teacher-forced argmax accuracy on answer tokens (EOS excluded)."""
    model.eval(); tot, n, ok, na = 0.0, 0, 0, 0
    with torch.no_grad():
        for i in range(0, NVAL, 250):
            s_, d_, t_ = batch_tensors(vsrc[i:i + 250], vtgt[i:i + 250])
            lg = model(s_, d_)
            tot += F.cross_entropy(lg.reshape(-1, V), t_.reshape(-1), ignore_index=PAD, reduction='sum').item(); n += int((t_ != PAD).sum())
            m = answer_mask(t_) & (t_ != EOS)
            ok += int(((lg.argmax(-1) == t_) & m).sum()); na += int(m.sum())
    model.train(); return tot / n, ok / na

print(f'params={nparam} V={V} D={D} H={H} FFN={FFN} enc={args.enc} dec={args.dec} train_n={len(src)} steps={args.steps} batch={args.batch} ans_weight={args.ans_weight}', flush=True)
t0 = time.time(); step = 0; perm = torch.randperm(len(src), generator=g); pi = 0
while step < args.steps:
    if pi + args.batch > len(perm): perm = torch.randperm(len(src), generator=g); pi = 0
    idx = perm[pi:pi + args.batch]; pi += args.batch
    s_, d_, t_ = batch_tensors(src[idx], tgt[idx])
    ce = F.cross_entropy(model(s_, d_).reshape(-1, V), t_.reshape(-1), ignore_index=PAD, reduction='none').view_as(t_)
    w = (t_ != PAD).float() * (1.0 + (args.ans_weight - 1.0) * answer_mask(t_).float())
    loss = (ce * w).sum() / w.sum()
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step(); sched.step(); step += 1
    if step % 250 == 0 or step == args.steps:
        vl, acc = evaluate()
        print(f'step {step} loss {loss.item():.4f} val_loss {vl:.4f} val_answer_acc {acc:.4f} elapsed {time.time() - t0:.0f}s', flush=True)
train_s = time.time() - t0

# ---- export: one float32 LE blob in the ONNX writer's initializer names and layouts ----
os.makedirs(args.out, exist_ok=True)
sd = {k: v.detach().float().contiguous() for k, v in model.state_dict().items()}
T = {}
def lin(prefix, mod):  # ONNX MatMul wants [in, out]
    T[f'{prefix}.weight'] = sd[f'{mod}.weight'].t().contiguous(); T[f'{prefix}.bias'] = sd[f'{mod}.bias']
def ln(prefix, mod): T[f'{prefix}.weight'] = sd[f'{mod}.weight']; T[f'{prefix}.bias'] = sd[f'{mod}.bias']
T['model.shared.weight'] = sd['shared.weight']
T['model.encoder.embed_positions.weight'] = sd['enc_pos.weight']; T['model.decoder.embed_positions.weight'] = sd['dec_pos.weight']
for l in range(args.enc):
    p, q = f'model.encoder.layers.{l}', f'enc_layers.{l}'
    for a in ('q_proj', 'k_proj', 'v_proj', 'out_proj'): lin(f'{p}.self_attn.{a}', f'{q}.self_attn.{a}')
    ln(f'{p}.self_attn_layer_norm', f'{q}.self_attn_layer_norm'); lin(f'{p}.fc1', f'{q}.fc1'); lin(f'{p}.fc2', f'{q}.fc2'); ln(f'{p}.final_layer_norm', f'{q}.final_layer_norm')
for l in range(args.dec):
    p, q = f'model.decoder.layers.{l}', f'dec_layers.{l}'
    for att in ('self_attn', 'encoder_attn'):
        for a in ('q_proj', 'k_proj', 'v_proj', 'out_proj'): lin(f'{p}.{att}.{a}', f'{q}.{att}.{a}')
        ln(f'{p}.{att}_layer_norm', f'{q}.{att}_layer_norm')
    lin(f'{p}.fc1', f'{q}.fc1'); lin(f'{p}.fc2', f'{q}.fc2'); ln(f'{p}.final_layer_norm', f'{q}.final_layer_norm')
T['lm_head.weight_T'] = sd['lm_head.weight'].t().contiguous(); T['final_logits_bias'] = sd['final_logits_bias']
blob, tensors, off = bytearray(), [], 0
for name, t in T.items():
    b = t.numpy().astype('<f4').tobytes(); tensors.append({'name': name, 'dims': list(t.shape), 'offset': off}); blob += b; off += len(b)
open(os.path.join(args.out, 'weights.bin'), 'wb').write(blob)
cfg = {'vocab_size': V, 'd_model': D, 'heads': H, 'ffn': FFN, 'encoder_layers': args.enc, 'decoder_layers': args.dec, 'max_position_embeddings': args.maxpos}
vl, acc = evaluate()
sha = hashlib.sha256(blob).hexdigest()
json.dump({'config': cfg, 'tensors': tensors, 'train': {'steps': args.steps, 'batch': args.batch, 'lr': args.lr, 'warmup': args.warmup, 'seed': args.seed,
           'ans_weight': args.ans_weight, 'data_seed': meta['seed'], 'params': nparam, 'seconds': round(train_s, 1), 'val_loss': vl, 'val_answer_acc': acc, 'sha256': sha}},
          open(os.path.join(args.out, 'weights.json'), 'w'), indent=1)
# Parity reference: teacher-forced logits for the first validation rows, float32 LE [rows, T, V].
model.eval()
with torch.no_grad():
    s_, d_, t_ = batch_tensors(vsrc[:args.ref_rows], vtgt[:args.ref_rows]); lg = model(s_, d_)
open(os.path.join(args.out, 'ref_logits.bin'), 'wb').write(lg.numpy().astype('<f4').tobytes())
json.dump({'input_ids': s_.tolist(), 'decoder_input_ids': d_.tolist(), 'dims': list(lg.shape), 'dtype': 'float32-le'}, open(os.path.join(args.out, 'ref_logits.json'), 'w'))
torch.save(model.state_dict(), os.path.join(args.out, 'model.pt'))
print(f'done: train {train_s:.0f}s val_loss {vl:.4f} answer_acc {acc:.4f} weights.bin {len(blob)} B sha256 {sha}', flush=True)
