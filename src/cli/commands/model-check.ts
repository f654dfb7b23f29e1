/**
 * `quals model check DIR|ID`: loads a model, runs a probe text and checks that the decoding paths
 * the engine uses agree (cached step-by-step decoding = one teacher-forced pass), that the
 * format's separator exists, and reports what the model is. Exit 0 only when consistent: it
 * catches, on the first run, an export whose with-past branch is wrong for several tokens.
 */
import { greedyDecode } from '../../scoring/model/generate';
import { loadModel } from '../../scoring/model/loader';
import { stepwiseLogprobs } from '../../scoring/model/stepwise';
import { EXIT, describeError } from '../exit-codes';
import { engineConfigFromFlags } from '../options-flags';
import { parseCommand, usageError } from '../parse-command';

const HELP = `Usage: quals model check DIR|HUB_ID [--format qagen|lmqg] [--device D] [--json]

Loads the model, decodes a probe text and checks that cached step-by-step decoding gives the same
log-probabilities as one teacher-forced pass (the paths scoring relies on) and that the format's
separator tokens exist. Prints format, architecture, vocabulary, maximum input length, device, and
load and decoder-step times. Exit 0 only when the model is consistent, 3 otherwise.`;

const PROBE = 'The city council approved a new budget on Tuesday after a lengthy debate. The plan increases funding for public schools and road repairs.';
/** Same graph, same inputs: only float noise may separate cached and uncached decoding. */
const TOLERANCE = 1e-3;

export interface CheckReport {
  model: string;
  folder: string;
  format: string;
  separator: string;
  architecture: string;
  graphs: string;
  vocabulary: { config: number; logits: number };
  maxInputTokens: number;
  device: string;
  loadMs: number;
  stepMs: number;
  cachedVsOnePass: number;
  /** How far a multi-token pass through the with-past branch is off (informative unless the engine relies on it). */
  withPastMultiToken: number;
  probe: string;
  problems: string[];
}

export async function runModelCheck(args: string[]): Promise<number> {
  const parsed = parseCommand('model check', args, { format: { type: 'string' }, device: { type: 'string' }, json: { type: 'boolean' } }, HELP, true);
  if ('exit' in parsed) return parsed.exit;
  const [target, ...extra] = parsed.positionals;
  if (!target || extra.length) return usageError('model check', 'give one model folder or hub id.');
  try {
    const report = await checkModel(engineConfigFromFlags({ ...parsed.values, model: target }, (line) => process.stderr.write(`quals: ${line}\n`)));
    process.stdout.write(parsed.values.json ? `${JSON.stringify(report, null, 2)}\n` : render(report));
    return report.problems.length ? EXIT.model : EXIT.ok;
  } catch (e) {
    const { code, message } = describeError(e);
    process.stderr.write(`quals model check: ${message}\n`);
    return code;
  }
}

export async function checkModel(config: ReturnType<typeof engineConfigFromFlags>): Promise<CheckReport> {
  const t0 = performance.now();
  const model = await loadModel(config);
  const loadMs = performance.now() - t0;
  const problems: string[] = [];
  try {
    const { seq2seq, format, folder, tokenizer } = model;
    const input = format.encodeInput(PROBE);
    const enc = await seq2seq.encode(input.ids);
    const t1 = performance.now();
    const generated = await greedyDecode(seq2seq, enc, { maxNewTokens: 16, eosId: format.eosId, forcedBosId: format.decoderPrefix[0] ?? null });
    const steps = Math.max(1, generated.length - 2);
    const stepMs = (performance.now() - t1) / steps;
    // Score the model's own continuation: its tokens are likely, so differences are not masked by -inf.
    const target = [...generated.slice(1 + format.decoderPrefix.length).filter((id) => id !== format.eosId), format.eosId];
    const cached = await stepwiseLogprobs(seq2seq, enc, [...format.decoderPrefix, ...target]);
    const [onePass] = await seq2seq.teacherForce(enc, [[...format.decoderPrefix, ...target]], 64 * 1024 * 1024);
    const cachedVsOnePass = maxDiff(cached, onePass!);
    if (!(cachedVsOnePass <= TOLERANCE)) {
      problems.push(`cached step-by-step decoding and one teacher-forced pass differ by ${cachedVsOnePass.toExponential(2)} (more than ${TOLERANCE}): the decoder graph is inconsistent, so scores would be wrong.`);
    }
    const [withPast] = await seq2seq.withMultiTokenCache(true).teacherForce(enc, [[...format.decoderPrefix, ...target]], 64 * 1024 * 1024);
    const withPastMultiToken = maxDiff(cached, withPast!);
    if (seq2seq.multiTokenCache && !(withPastMultiToken <= TOLERANCE)) {
      problems.push(`quals.json says the with-past branch takes several tokens at once, but it is off by ${withPastMultiToken.toExponential(2)}: remove "graphs" from quals.json or re-import the model.`);
    }
    const separator = separatorOf(format.name, tokenizer);
    if (separator.missing) problems.push(separator.text);
    const logitsWidth = seq2seq.vocabOf(enc.firstLogits);
    return {
      model: config.model,
      folder: folder.dir,
      format: `${format.name} (${format.note})`,
      separator: separator.text,
      architecture: `${architectureOf(folder.config)}`,
      graphs: folder.qualsJson?.graphs ? `built by ${folder.qualsJson.graphs.builder}` : 'foreign export (with-past branch used one token at a time)',
      vocabulary: { config: folder.config.vocab_size, logits: logitsWidth },
      maxInputTokens: model.maxInputTokens,
      device: seq2seq.provider,
      loadMs,
      stepMs,
      cachedVsOnePass,
      withPastMultiToken,
      probe: format.answerText(generated.slice(1 + format.decoderPrefix.length)),
      problems,
    };
  } finally {
    await model.dispose();
  }
}

function separatorOf(format: string, tokenizer: { tokenId(t: string): number | undefined; encode(t: string): number[] }): { text: string; missing: boolean } {
  if (format === 'qagen') {
    const id = tokenizer.tokenId('ĠstrutConnector');
    return id === undefined ? { text: 'the qagen separator ĠstrutConnector is not in the vocabulary', missing: true } : { text: `ĠstrutConnector = ${id}`, missing: false };
  }
  const ids = tokenizer.encode(' answer:');
  return ids.length ? { text: `" answer:" = [${ids.join(', ')}]`, missing: false } : { text: 'the tokenizer cannot encode " answer:"', missing: true };
}

function architectureOf(config: Record<string, unknown>): string {
  const arch = Array.isArray(config.architectures) ? config.architectures.join(', ') : 'unknown architecture';
  return `${arch} (${String(config.model_type ?? '?')})`;
}


function maxDiff(a: readonly number[], b: readonly number[]): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function render(r: CheckReport): string {
  const lines = [
    ['model', r.model === r.folder ? r.folder : `${r.model} (${r.folder})`],
    ['format', `${r.format}; separator ${r.separator}`],
    ['architecture', r.architecture],
    ['graphs', r.graphs],
    ['vocabulary', r.vocabulary.config === r.vocabulary.logits ? `${r.vocabulary.config}` : `${r.vocabulary.config} (logits ${r.vocabulary.logits})`],
    ['max input', `${r.maxInputTokens} tokens`],
    ['device', r.device],
    ['time', `load ${r.loadMs.toFixed(0)} ms, decoder step ${r.stepMs.toFixed(1)} ms`],
    ['decoding', `cached steps vs one pass: max |Δ log p| ${r.cachedVsOnePass.toExponential(1)}`],
    ['with-past', `several tokens at once: ${r.withPastMultiToken <= TOLERANCE ? 'valid' : `off by ${r.withPastMultiToken.toFixed(2)} (never used for that)`}`],
    ['probe', JSON.stringify(r.probe)],
  ];
  const body = lines.map(([k, v]) => `${k!.padEnd(13)}${terminalSafe(v!)}`).join('\n');
  const verdict = r.problems.length ? `\nNOT CONSISTENT:\n${r.problems.map((p) => `  - ${terminalSafe(p)}`).join('\n')}\n` : '\nconsistent\n';
  return `${body}\n${verdict}`;
}

/** Model-controlled text (a probe's output, paths) must not move the cursor or set the clipboard. */
function terminalSafe(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
