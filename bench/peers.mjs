// Peer libraries on the bench model, run in a child process from .cache/bench-peers (where
// `node bench/install-peers.mjs` installs them; they are never project dependencies). Reads one
// JSON request from argv[2], prints one JSON line of timings. Both load onnx/encoder_model.onnx and
// onnx/decoder_model_merged.onnx of the same folder the project runs.
import { basename, dirname } from 'node:path';

const req = JSON.parse(process.argv[2]);
const ms = () => performance.now();

async function hfGreedy() {
  const { AutoModelForSeq2SeqLM, Tensor, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = dirname(req.model) + '/';
  const model = await AutoModelForSeq2SeqLM.from_pretrained(basename(req.model), { dtype: 'fp32', device: 'cpu', local_files_only: true });
  const ids = new Tensor('int64', BigInt64Array.from(req.ids.map(BigInt)), [1, req.ids.length]);
  const mask = new Tensor('int64', new BigInt64Array(req.ids.length).fill(1n), [1, req.ids.length]);
  const times = [];
  let length = 0;
  for (let r = 0; r < req.repeats + 1; r++) {
    const t0 = ms();
    const out = await model.generate({ inputs: ids, attention_mask: mask, max_new_tokens: req.maxNewTokens, min_new_tokens: req.maxNewTokens, do_sample: false, num_beams: 1 });
    if (r > 0) times.push(ms() - t0); // the first call pays one-time costs, as the project's does
    length = out.dims[1];
  }
  return { times, length };
}

async function xenovaBeam() {
  const { AutoModelForSeq2SeqLM, Tensor, env } = await import('@xenova/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = dirname(req.model) + '/';
  const model = await AutoModelForSeq2SeqLM.from_pretrained(basename(req.model), { quantized: false, local_files_only: true });
  const ids = new Tensor('int64', BigInt64Array.from(req.ids.map(BigInt)), [1, req.ids.length]);
  const times = [];
  let length = 0;
  for (let r = 0; r < req.repeats; r++) {
    const t0 = ms();
    const out = await model.generate(ids, { num_beams: req.numBeams, top_k: Math.max(50, req.numBeams), max_new_tokens: req.maxNewTokens, min_length: req.maxNewTokens, num_return_sequences: 1 });
    times.push(ms() - t0);
    length = out[0].length ?? out[0].dims?.[0];
  }
  return { times, length };
}

const run = req.peer === 'hf-greedy' ? hfGreedy : xenovaBeam;
run().then(
  (r) => console.log(JSON.stringify({ ok: true, ...r })),
  (e) => console.log(JSON.stringify({ ok: false, error: String(e?.message ?? e).split('\n')[0].slice(0, 300) })),
);
