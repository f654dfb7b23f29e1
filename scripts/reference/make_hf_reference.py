#!/usr/bin/env python3
"""Build tiny random Hugging Face checkpoints and the reference outputs of the REAL transformers code.

This extends test/fixtures/hf-reference/ (see SOURCE.md there) with model configurations that
bart-a / t5-a do not cover.  Everything numeric comes from transformers' own classes:

  1. build the model from a config with transformers' own class and initialisation, under a fixed
     torch seed (CPU, float32, one thread, deterministic algorithms);
  2. rescale the weights so the output distributions are peaked like the existing fixtures:
       BART (init_std 0.02): every nn.Linear weight x30 (std 0.6), every nn.Embedding x50 (std 1.0),
                             biases stay 0 and LayerNorms 1/0 -- the statistics of bart-a;
       T5 / MT5:             every weight x5 except the RMS-norm scales (which stay 1) -- t5-a;
                             an UNTIED lm_head (init std 1.0) is scaled to std 5 * d_model**-0.5,
                             the effective scale of t5-a's tied head (x5 embedding, times the
                             d_model**-0.5 rescaling T5 applies before a tied head);
     then (BART only, when the spec asks) a nonzero final_logits_bias is written into the buffer;
  3. save it with save_pretrained twice: safe_serialization=True (model.safetensors) and
     safe_serialization=False (pytorch_model.bin), plus config.json / generation_config.json as
     save_pretrained writes them; copy the tokenizer files of the family's existing fixture;
  4. RE-LOAD the checkpoint from disk (from model.safetensors and, separately, from
     pytorch_model.bin), check both give bit-identical weights, and compute reference.json from the
     re-loaded model for the same 3 (source, target) pairs as the family's existing fixture (texts
     read from its reference.json; the tokenizer ids are checked against its source_ids/target_ids
     and against tokenizer.json's fast tokenizer);
  5. sanity: teacher-forced log-probs of both re-loaded checkpoints equal the written ones; greedy /
     beam sequences start with decoder_start_token_id and, for BART, have the forced BOS next.

reference.json has the schema of bart-a/t5-a's, minus `diverse_beam` (group beam search left
transformers core in 4.56).  generate() applies generation_config.json as HF always does.

Usage (from the repo root; needs torch, transformers, safetensors, sentencepiece, tokenizers,
protobuf in the interpreter; no internet, no GPU):

    python scripts/reference/make_hf_reference.py                  # writes bart-b, t5-b, mt5-b
    python scripts/reference/make_hf_reference.py --only t5-b
    python scripts/reference/make_hf_reference.py --check-existing # recompute bart-a/t5-a and
                                                                   # compare, writes nothing

Environment note: transformers 4.57.6 pins huggingface-hub<1.0 and checks it at import time, but
the only huggingface-hub on this machine's package index is 1.33.0 (and transformers 5.x cannot
write pytorch_model.bin any more).  Only local files are used here (no hub access), so the script
replaces the import-time version check (transformers.dependency_versions_check) by a stub before
importing transformers; nothing of transformers' modelling, saving, loading or generation code is
touched.  Pass --no-version-shim to import transformers unmodified.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "test" / "fixtures" / "hf-reference"


def _install_version_shim() -> None:
    stub = types.ModuleType("transformers.dependency_versions_check")
    stub.pkgs_to_check_at_runtime = []
    stub.dep_version_check = lambda pkg, hint=None: None
    sys.modules["transformers.dependency_versions_check"] = stub


if "--no-version-shim" not in sys.argv:
    _install_version_shim()

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from torch import nn  # noqa: E402
from transformers import (  # noqa: E402
    AutoTokenizer,
    BartConfig,
    BartForConditionalGeneration,
    BartTokenizer,
    MT5Config,
    MT5ForConditionalGeneration,
    T5Config,
    T5ForConditionalGeneration,
    T5Tokenizer,
)
from transformers.cache_utils import DynamicCache, EncoderDecoderCache  # noqa: E402
from transformers.models.bart.modeling_bart import shift_tokens_right  # noqa: E402

try:  # the RMS norm class (T5LayerNorm) is the same object for T5 and MT5
    from transformers.models.t5.modeling_t5 import T5LayerNorm
except ImportError:  # pragma: no cover
    T5LayerNorm = None
try:
    from transformers.models.mt5.modeling_mt5 import MT5LayerNorm
except ImportError:  # pragma: no cover
    MT5LayerNorm = None

# ----------------------------------------------------------------------------------------------
# What to build
# ----------------------------------------------------------------------------------------------

GENERATE_KWARGS = {
    "greedy": {"max_new_tokens": 20, "num_beams": 1, "do_sample": False},
    "beam": {
        "num_beams": 4,
        "num_return_sequences": 4,
        "max_new_tokens": 16,
        "min_length": 0,
        "length_penalty": 1.0,
        "early_stopping": False,
        "do_sample": False,
        "output_scores": True,
        "return_dict_in_generate": True,
    },
}

SPECS = {
    "bart-b": {
        "family": "bart",
        "tokenizer_from": "bart-a",
        # seed 10: of seeds 1..12 the one whose greedy outputs vary most across the 3 sources (most
        # seeds give a near-constant "word word word ..." output with this tiny 1-layer relu decoder)
        "seed": 10,
        "model_class": BartForConditionalGeneration,
        "config_class": BartConfig,
        "config": dict(
            vocab_size=50265,
            d_model=16,
            encoder_layers=3,
            decoder_layers=1,
            encoder_attention_heads=2,
            decoder_attention_heads=2,
            encoder_ffn_dim=40,
            decoder_ffn_dim=40,
            activation_function="relu",
            scale_embedding=True,
            max_position_embeddings=64,
            init_std=0.02,
            tie_word_embeddings=True,
            pad_token_id=1,
            bos_token_id=0,
            eos_token_id=2,
            decoder_start_token_id=2,
            forced_bos_token_id=0,
            forced_eos_token_id=2,
        ),
        # final_logits_bias ~ N(0, std^2), drawn from its own seeded generator after init
        "final_logits_bias_std": 0.5,
        "final_logits_bias_seed": 7,
    },
    "t5-b": {
        "family": "t5",
        "tokenizer_from": "t5-a",
        "seed": 20240603,
        "model_class": T5ForConditionalGeneration,
        "config_class": T5Config,
        "config": dict(
            vocab_size=1104,
            d_model=24,
            d_kv=16,
            d_ff=40,
            num_heads=3,
            num_layers=2,
            num_decoder_layers=3,
            relative_attention_num_buckets=16,
            relative_attention_max_distance=20,
            feed_forward_proj="gated-gelu",
            tie_word_embeddings=False,
            layer_norm_epsilon=1e-6,
            initializer_factor=1.0,
            pad_token_id=0,
            eos_token_id=1,
            decoder_start_token_id=0,
        ),
    },
    "mt5-b": {
        "family": "t5",
        "tokenizer_from": "t5-a",
        "seed": 20240604,
        "model_class": MT5ForConditionalGeneration,
        "config_class": MT5Config,
        "config": dict(
            vocab_size=1100,
            d_model=20,
            d_kv=6,
            d_ff=28,
            num_heads=5,
            num_layers=1,
            num_decoder_layers=2,
            relative_attention_num_buckets=8,
            relative_attention_max_distance=12,
            feed_forward_proj="gated-gelu",
            tie_word_embeddings=False,
            layer_norm_epsilon=1e-6,
            initializer_factor=1.0,
            pad_token_id=0,
            eos_token_id=1,
            decoder_start_token_id=0,
        ),
    },
}

WEIGHT_FILES = {"model.safetensors", "pytorch_model.bin"}
NOT_TOKENIZER = WEIGHT_FILES | {"config.json", "generation_config.json"}

# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def deterministic() -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def versions() -> dict:
    import huggingface_hub
    import safetensors
    import sentencepiece
    import tokenizers

    return {
        "transformers": transformers.__version__,
        "huggingface_hub": huggingface_hub.__version__,
        "torch": torch.__version__,
        "tokenizers": tokenizers.__version__,
        "safetensors": safetensors.__version__,
        "sentencepiece": sentencepiece.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def rescale_(model: nn.Module, family: str, config) -> None:
    """Rescale the freshly initialised weights in place (ties are kept: same Parameter objects)."""
    seen: set[int] = set()

    def once(p: torch.Tensor) -> bool:
        if id(p) in seen:
            return False
        seen.add(id(p))
        return True

    with torch.no_grad():
        if family == "bart":
            lin, emb = 0.6 / config.init_std, 1.0 / config.init_std  # x30, x50 for init_std 0.02
            for m in model.modules():
                if isinstance(m, nn.Embedding) and once(m.weight):
                    m.weight.mul_(emb)
            for m in model.modules():
                if isinstance(m, nn.Linear) and once(m.weight):
                    m.weight.mul_(lin)
        elif family == "t5":
            norms = tuple(c for c in (T5LayerNorm, MT5LayerNorm) if c is not None)
            lm_head = getattr(model, "lm_head", None)
            tied = lm_head is not None and lm_head.weight is model.shared.weight
            if lm_head is not None and not tied:
                once(lm_head.weight)
                lm_head.weight.mul_(5.0 * config.d_model ** -0.5)
            for m in model.modules():
                if isinstance(m, norms):
                    continue
                for p in m.parameters(recurse=False):
                    if once(p):
                        p.mul_(5.0)
        else:
            raise ValueError(family)


def build(name: str, spec: dict):
    torch.manual_seed(spec["seed"])
    config = spec["config_class"](**spec["config"])
    model = spec["model_class"](config)
    model.eval()
    rescale_(model, spec["family"], config)
    if spec.get("final_logits_bias_std"):
        g = torch.Generator().manual_seed(spec["final_logits_bias_seed"])
        bias = torch.randn(model.final_logits_bias.shape, generator=g) * spec["final_logits_bias_std"]
        with torch.no_grad():
            model.final_logits_bias.copy_(bias)
    return model


def save(model, hf_dir: Path, tokenizer_src: Path) -> None:
    if hf_dir.exists():
        shutil.rmtree(hf_dir)
    hf_dir.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as t1, tempfile.TemporaryDirectory() as t2:
        model.save_pretrained(t1, safe_serialization=True)
        model.save_pretrained(t2, safe_serialization=False)
        for f in ("config.json", "generation_config.json", "model.safetensors"):
            shutil.copy2(Path(t1) / f, hf_dir / f)
        shutil.copy2(Path(t2) / "pytorch_model.bin", hf_dir / "pytorch_model.bin")
        for f in ("config.json", "generation_config.json"):
            if (Path(t1) / f).read_bytes() != (Path(t2) / f).read_bytes():
                raise AssertionError(f"{f} differs between the two save_pretrained calls")
    for f in sorted(tokenizer_src.iterdir()):
        if f.is_file() and f.name not in NOT_TOKENIZER:
            shutil.copy2(f, hf_dir / f.name)


def load_tokenizers(hf_dir: Path, family: str):
    slow_cls = BartTokenizer if family == "bart" else T5Tokenizer
    slow = slow_cls.from_pretrained(str(hf_dir))
    fast = AutoTokenizer.from_pretrained(str(hf_dir), use_fast=True)
    return slow, fast


def load_model(spec: dict, hf_dir: Path, safetensors: bool):
    m = spec["model_class"].from_pretrained(
        str(hf_dir), use_safetensors=safetensors, attn_implementation="eager", torch_dtype=torch.float32
    )
    m.eval()
    return m


def f32(x: torch.Tensor):
    return x.detach().to(torch.float32).cpu().tolist()


def teacher_forced(model, enc, labels: torch.Tensor, dec_in: torch.Tensor):
    with torch.no_grad():
        out = model(
            input_ids=enc["input_ids"],
            attention_mask=enc["attention_mask"],
            decoder_input_ids=dec_in,
            return_dict=True,
        )
    logits = out.logits[0]
    lp = torch.log_softmax(logits, dim=-1)
    tok_lp = lp.gather(-1, labels[0][:, None])[:, 0]
    amax_lp, amax = lp.max(dim=-1)
    enc_h = out.encoder_last_hidden_state[0]
    return {
        "teacher_forced": {
            "token_logprobs": f32(tok_lp),
            "sum_logprob": float(tok_lp.sum()),
            "argmax_ids": amax.tolist(),
            "argmax_logprobs": f32(amax_lp),
        },
        "encoder_last_hidden_state": {
            "shape": list(enc_h.shape),
            "sum": float(enc_h.sum()),
            "abs_sum": float(enc_h.abs().sum()),
            "first8": f32(enc_h.reshape(-1)[:8]),
        },
        "first_step_logits_first8": f32(logits[0, :8]),
    }


def needs_explicit_cache(model) -> bool:
    """transformers 4.57 sizes the default decoder cache from get_text_config(decoder=True).num_hidden_layers,
    which for T5/MT5 is num_layers (the ENCODER depth): with num_decoder_layers > num_layers generate() dies
    with an IndexError in cache_utils (PR #40277 fixed this for configs with decoder_* keys only)."""
    cfg = model.config
    n_dec = getattr(cfg, "num_decoder_layers", None)
    return n_dec is not None and n_dec != cfg.get_text_config(decoder=True).num_hidden_layers


def _gen(model, enc, kwargs, use_cache=True):
    extra = {}
    if not use_cache:
        extra["use_cache"] = False
    elif needs_explicit_cache(model):
        # lazily grown caches: the same DynamicCache/EncoderDecoderCache classes generate() uses by default
        extra["past_key_values"] = EncoderDecoderCache(DynamicCache(), DynamicCache())
    return model.generate(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], **kwargs, **extra)


def generate(model, tok, enc, use_cache=True):
    res = {}
    with torch.no_grad():
        g = _gen(model, enc, GENERATE_KWARGS["greedy"], use_cache)
        g = g.sequences if hasattr(g, "sequences") else g
        res["greedy"] = {"sequences": g.tolist(), "text": tok.batch_decode(g, skip_special_tokens=True)}
        b = _gen(model, enc, GENERATE_KWARGS["beam"], use_cache)
        res["beam"] = {
            "sequences": b.sequences.tolist(),
            "sequences_scores": f32(b.sequences_scores),
            "text": tok.batch_decode(b.sequences, skip_special_tokens=True),
        }
    return res


def compute_pairs(model, slow, fast, texts: list[dict], check_ids: bool):
    cfg = model.config
    pairs = []
    for t in texts:
        enc = slow(t["source"], return_tensors="pt")
        labels = slow(t["target"], return_tensors="pt").input_ids
        src_ids, tgt_ids = enc["input_ids"][0].tolist(), labels[0].tolist()
        if fast(t["source"]).input_ids != src_ids or fast(t["target"]).input_ids != tgt_ids:
            raise AssertionError("slow and fast (tokenizer.json) tokenizers disagree")
        if check_ids and (src_ids != t["source_ids"] or tgt_ids != t["target_ids"]):
            raise AssertionError("tokenizer ids differ from the existing fixture's source_ids/target_ids")
        dec_in = shift_tokens_right(labels, cfg.pad_token_id, cfg.decoder_start_token_id)
        p = {
            "source": t["source"],
            "target": t["target"],
            "source_ids": src_ids,
            "target_ids": tgt_ids,
            "decoder_input_ids": dec_in[0].tolist(),
        }
        p.update(teacher_forced(model, enc, labels, dec_in))
        p.update(generate(model, slow, enc))
        pairs.append(p)
    return pairs


def rescore_beam(model, enc, seq: list[int], gen_cfg: dict) -> float:
    """sum of PROCESSED log-probs of one returned hypothesis / its generated length (length_penalty 1.0).

    Processed: a token forced by generation_config (forced BOS right after the start token, forced EOS at the
    last allowed step) has log-prob 0 after the logits processors; everything else is log_softmax(logits)."""
    cfg = model.config
    eos = cfg.eos_token_id
    max_len = 1 + GENERATE_KWARGS["beam"]["max_new_tokens"]
    toks = list(seq)
    if eos in toks[1:]:
        toks = toks[: toks.index(eos, 1) + 1]  # drop the padding after EOS
    dec = torch.tensor([toks[:-1]])
    with torch.no_grad():
        lp = torch.log_softmax(
            model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], decoder_input_ids=dec).logits[0], -1
        )
    total = 0.0
    for i, t in enumerate(toks[1:]):
        forced = (i == 0 and gen_cfg.get("forced_bos_token_id") == t) or (
            i + 2 == max_len and gen_cfg.get("forced_eos_token_id") == t
        )
        total += 0.0 if forced else float(lp[i, t])
    return total / (len(toks) - 1)


def state_dicts_equal(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def dir_size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


def sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------------------------
# Main steps
# ----------------------------------------------------------------------------------------------


def make(name: str, out_root: Path) -> dict:
    spec = SPECS[name]
    family = spec["family"]
    src_fixture = FIXTURES / spec["tokenizer_from"]
    existing = json.loads((src_fixture / "reference.json").read_text())
    out = out_root / name
    hf_dir = out / "hf"

    model = build(name, spec)
    save(model, hf_dir, src_fixture / "hf")

    m_st = load_model(spec, hf_dir, safetensors=True)
    m_bin = load_model(spec, hf_dir, safetensors=False)
    if not state_dicts_equal(model, m_st):
        raise AssertionError("model.safetensors does not reload to the built weights")
    if not state_dicts_equal(m_st, m_bin):
        raise AssertionError("model.safetensors and pytorch_model.bin reload to different weights")
    if spec.get("final_logits_bias_std") and not torch.any(m_st.final_logits_bias != 0):
        raise AssertionError("final_logits_bias did not survive save/load")

    slow, fast = load_tokenizers(hf_dir, family)
    gen_cfg = json.loads((hf_dir / "generation_config.json").read_text())
    pairs = compute_pairs(m_st, slow, fast, existing["pairs"], check_ids=True)

    notes = [
        "sequences include the decoder_start_token_id at position 0",
        "teacher forcing: labels = tokenizer(target).input_ids, decoder_input_ids = shift_tokens_right(labels, pad, decoder_start)",
        "sequences_scores: HF beam score = sum of processed log-probs / (generated_len ** length_penalty), "
        "generated_len = tokens after the decoder start token, EOS included (transformers 4.57 uses this for every "
        "hypothesis, also those that reach max_new_tokens without EOS; checked by the generator by re-scoring each "
        "beam with teacher forcing, forced tokens counting 0)"
        + (
            " ; generation_config forced_bos_token_id/forced_eos_token_id are active in every generate call"
            if "forced_bos_token_id" in gen_cfg or "forced_eos_token_id" in gen_cfg
            else ""
        ),
        "made by scripts/reference/make_hf_reference.py: model loaded back from model.safetensors with "
        "attn_implementation='eager', CPU float32, 1 thread; pytorch_model.bin reloads to bit-identical weights "
        "and the same teacher-forced log-probs; no onnx-layout (Optimum not available); no diverse_beam "
        "(group beam search is not in transformers core since 4.56)",
    ]
    if needs_explicit_cache(m_st):
        notes.append(
            "generate() was given past_key_values=EncoderDecoderCache(DynamicCache(), DynamicCache()) (lazily grown, "
            "the classes generate() uses by default): transformers 4.57's default cache is sized by num_layers (the "
            "encoder depth) and raises IndexError when num_decoder_layers > num_layers; the generator checks that "
            "generate(use_cache=False) gives the same sequences"
        )
    ref = {
        "model": name,
        "versions": versions(),
        "dtype": "float32",
        "device": "cpu",
        "tokenizer_used": f"{type(slow).__name__} (slow, pure Python; ids equal tokenizer.json's "
        f"{type(fast).__name__} and the {spec['tokenizer_from']} fixture's, checked by the generator)",
        "generation_config": gen_cfg,
        "generate_kwargs": GENERATE_KWARGS,
        "notes": notes,
        "pairs": pairs,
    }
    (out / "reference.json").write_text(json.dumps(ref, indent=1) + "\n")

    # ---- sanity on what was written ----------------------------------------------------------
    written = json.loads((out / "reference.json").read_text())
    cfg = m_st.config
    summary = {"name": name, "checks": []}
    for label, m in (("safetensors", m_st), ("bin", m_bin)):
        re = compute_pairs(m, slow, fast, existing["pairs"], check_ids=True)
        for a, b in zip(re, written["pairs"]):
            if a["teacher_forced"]["token_logprobs"] != b["teacher_forced"]["token_logprobs"]:
                d = max(abs(x - y) for x, y in zip(a["teacher_forced"]["token_logprobs"], b["teacher_forced"]["token_logprobs"]))
                raise AssertionError(f"{label}: teacher-forced log-probs differ from reference.json (max {d})")
            for k in ("greedy", "beam"):
                if a[k]["sequences"] != b[k]["sequences"]:
                    raise AssertionError(f"{label}: {k} sequences differ on reload")
        summary["checks"].append(f"reload from {label}: teacher-forced log-probs and sequences identical")
    worst = 0.0
    for p in written["pairs"]:
        enc = slow(p["source"], return_tensors="pt")
        nc = generate(m_st, slow, enc, use_cache=False)
        for k in ("greedy", "beam"):
            if nc[k]["sequences"] != p[k]["sequences"]:
                raise AssertionError(f"{k}: generate(use_cache=False) gives different sequences")
        worst = max(worst, _max_abs(nc["beam"]["sequences_scores"], p["beam"]["sequences_scores"]))
    summary["checks"].append(f"generate(use_cache=False) gives the same sequences (beam scores within {worst:.1e})")
    worst = 0.0
    for p in written["pairs"]:
        enc = slow(p["source"], return_tensors="pt")
        for seq, score in zip(p["beam"]["sequences"], p["beam"]["sequences_scores"]):
            worst = max(worst, abs(rescore_beam(m_st, enc, seq, gen_cfg) - score))
    if worst > 1e-4:
        raise AssertionError(f"beam sequences_scores do not equal the re-scored hypotheses (max {worst})")
    summary["checks"].append(f"beam scores = teacher-forced sum / generated_len (max diff {worst:.1e})")
    for p in written["pairs"]:
        for k in ("greedy", "beam"):
            for s in p[k]["sequences"]:
                if s[0] != cfg.decoder_start_token_id:
                    raise AssertionError(f"{k} sequence does not start with decoder_start_token_id")
                if "forced_bos_token_id" in gen_cfg and s[1] != gen_cfg["forced_bos_token_id"]:
                    raise AssertionError(f"{k} sequence lacks the forced BOS")
    summary["checks"].append(
        "greedy/beam sequences start with decoder_start_token_id"
        + (" then the forced BOS" if "forced_bos_token_id" in gen_cfg else "")
    )
    summary["size_bytes"] = dir_size(out)
    summary["sum_logprob"] = [p["teacher_forced"]["sum_logprob"] for p in written["pairs"]]
    summary["greedy_len"] = [len(p["greedy"]["sequences"][0]) for p in written["pairs"]]
    summary["beam_lens"] = [[len(s) for s in p["beam"]["sequences"]] for p in written["pairs"]]
    summary["max_argmax_id"] = max(max(p["teacher_forced"]["argmax_ids"]) for p in written["pairs"])
    summary["generated_ids_beyond_tokenizer"] = sorted(
        {
            t
            for p in written["pairs"]
            for k in ("greedy", "beam")
            for s in p[k]["sequences"]
            for t in s
            if t >= len(fast)
        }
    )
    summary["sha256"] = {f: sha256(hf_dir / f)[:16] for f in sorted(WEIGHT_FILES)}
    return summary


def _max_abs(a, b):
    return max((abs(x - y) for x, y in zip(a, b)), default=0.0)


def check_existing() -> None:
    """Recompute bart-a / t5-a with the installed transformers and compare with their reference.json."""
    for name, cls, family in (("bart-a", BartForConditionalGeneration, "bart"), ("t5-a", T5ForConditionalGeneration, "t5")):
        hf_dir = FIXTURES / name / "hf"
        ref = json.loads((FIXTURES / name / "reference.json").read_text())
        spec = {"model_class": cls}
        model = load_model(spec, hf_dir, safetensors=True)
        slow, fast = load_tokenizers(hf_dir, family)
        pairs = compute_pairs(model, slow, fast, ref["pairs"], check_ids=True)
        print(f"== {name} (stored: {ref['versions']['transformers']}; now: {transformers.__version__})")
        print("   generation_config now:", model.generation_config.to_diff_dict())
        for i, (a, b) in enumerate(zip(pairs, ref["pairs"])):
            tf = _max_abs(a["teacher_forced"]["token_logprobs"], b["teacher_forced"]["token_logprobs"])
            am = a["teacher_forced"]["argmax_ids"] == b["teacher_forced"]["argmax_ids"]
            eh = abs(a["encoder_last_hidden_state"]["abs_sum"] - b["encoder_last_hidden_state"]["abs_sum"])
            fl = _max_abs(a["first_step_logits_first8"], b["first_step_logits_first8"])
            gs = a["greedy"]["sequences"] == b["greedy"]["sequences"]
            gt = a["greedy"]["text"] == b["greedy"]["text"]
            bs = a["beam"]["sequences"] == b["beam"]["sequences"]
            bsc = _max_abs(a["beam"]["sequences_scores"], b["beam"]["sequences_scores"])
            bt = a["beam"]["text"] == b["beam"]["text"]
            print(
                f"   pair {i}: max|d logp| {tf:.2e} argmax same {am}; enc abs_sum d {eh:.2e}; logits8 d {fl:.2e}; "
                f"greedy seq same {gs} text same {gt}; beam seq same {bs} text same {bt}, max|d score| {bsc:.2e}"
            )
            if bs and bsc > 1e-3:
                # transformers 4.35 divided hypotheses that reached max length WITHOUT EOS by the full length
                # (decoder start included); 4.57 divides every hypothesis by the generated length
                eos = model.config.eos_token_id
                conv = [
                    sc * (len(q) - 1) / len(q) if eos not in q[1:] else sc
                    for q, sc in zip(a["beam"]["sequences"], a["beam"]["sequences_scores"])
                ]
                print(
                    "     stored = now * (len-1)/len for no-EOS hypotheses: max diff "
                    f"{_max_abs(conv, b['beam']['sequences_scores']):.1e}"
                )
            if not bs:
                print("     beam now   :", a["beam"]["sequences"], a["beam"]["sequences_scores"])
                print("     beam stored:", b["beam"]["sequences"], b["beam"]["sequences_scores"])
            if not gt:
                print("     greedy text now   :", a["greedy"]["text"])
                print("     greedy text stored:", b["greedy"]["text"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default=",".join(SPECS), help="comma-separated fixture names (default: all)")
    ap.add_argument("--out-root", default=str(FIXTURES), help="where the fixture folders go")
    ap.add_argument("--check-existing", action="store_true", help="recompute bart-a/t5-a and compare; write nothing")
    ap.add_argument("--no-version-shim", action="store_true", help="import transformers without the hub-pin stub")
    args = ap.parse_args()
    deterministic()
    if args.check_existing:
        check_existing()
        return 0
    out_root = Path(args.out_root)
    for name in [n.strip() for n in args.only.split(",") if n.strip()]:
        if name not in SPECS:
            raise SystemExit(f"unknown fixture {name!r}; known: {', '.join(SPECS)}")
        s = make(name, out_root)
        print(f"== {s['name']}: {s['size_bytes'] / 1e6:.2f} MB")
        for c in s["checks"]:
            print("   ok:", c)
        print("   sum_logprob per pair:", [round(x, 3) for x in s["sum_logprob"]])
        print("   greedy lengths:", s["greedy_len"], " beam lengths:", s["beam_lens"])
        print("   generated ids >= tokenizer size:", s["generated_ids_beyond_tokenizer"] or "none")
        print("   sha256[:16]:", s["sha256"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
