/**
 * One check of one summary document: pairing, reading the source, scoring, and publishing the
 * diagnostics and result, but only if the document still has the version the check started on.
 * JSONL datasets are checked line by line, publishing as lines finish.
 */
import { existsSync } from 'node:fs';
import type { Diagnostic, Range } from 'vscode-languageserver';
import { DiagnosticSeverity } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { URI } from 'vscode-uri';
import { NOTE_DIAGNOSTIC_CODES, type DocumentStatusParams, type ResultParams, type ScoreResponse, type WorkspaceStateParams } from '../protocol';
import type { QualsEngine } from '../scoring/engine-api';
import { CancelledError, InputError, ModelError, throwIfAborted } from '../scoring/errors';
import { ignoredWords, readJsonlLine, scoredSummaryText, splitLines } from '../scoring/pairing';
import type { QualsResult } from '../scoring/result';
import { DIAGNOSTIC_SOURCE, diagnosticVerdicts, inputNoteDiagnostics, toDiagnostics, type Placement } from './diagnostics';
import { countInputs, describeInputCounts, emptyInputCounts, inputNotes } from '../scoring/input-notes';
import { checkText, readTextFile } from './inputs';
import { resolvePairing, type Pairing } from './pairing-resolver';
import type { QualsSettings } from './settings';

/** What a check produced for a document (kept for hovers and code actions). */
export interface DocumentResults {
  version: number;
  sourceUri: string;
  results: ResultParams[];
  diagnostics: Diagnostic[];
}

export interface CheckerDeps {
  /** The open document, if the editor holds it. */
  document(uri: string): TextDocument | undefined;
  settings(uri: string): Promise<QualsSettings>;
  engine(settings: QualsSettings): Promise<QualsEngine>;
  workspaceFolders(): readonly string[];
  state(): WorkspaceStateParams;
  /** May return the write's promise: long checks wait on it (backpressure), so replies never queue behind megabytes. */
  publishDiagnostics(uri: string, version: number, diagnostics: Diagnostic[]): void | Promise<void>;
  sendResult(params: ResultParams): void | Promise<void>;
  sendStatus(params: DocumentStatusParams): void;
  log(line: string): void;
}

export class Checker {
  /** Latest published results per summary URI. */
  readonly published = new Map<string, DocumentResults>();
  /** Source URI -> summaries checked against it (rechecked when the source changes). */
  readonly dependents = new Map<string, Set<string>>();
  private readonly lastSource = new Map<string, string>();

  constructor(
    private readonly deps: CheckerDeps,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Checks an open summary. Resolves with what happened; stale or cancelled work publishes nothing. */
  async check(uri: string, signal: AbortSignal): Promise<ScoreResponse> {
    const doc = this.deps.document(uri);
    if (!doc) return { state: 'cancelled', message: 'The document is not open.' };
    const snapshot = TextDocument.create(uri, doc.languageId, doc.version, doc.getText());
    const settings = await this.deps.settings(uri);
    const state = this.deps.state();
    const status = (s: Omit<DocumentStatusParams, 'uri' | 'version'>) => this.deps.sendStatus({ uri, version: snapshot.version, ...s });
    if (!settings.enabled || state.disabled.includes(uri)) {
      this.clear(uri);
      const message = settings.enabled ? 'QUALS is disabled for this file.' : 'QUALS is disabled ("quals.enabled").';
      status({ state: 'disabled', message });
      return { state: 'disabled', message };
    }
    const pairing = this.pairing(uri, snapshot.getText(), settings, state);
    if (pairing.via === null) {
      this.forgetDependent(uri);
      if (pairing.missingSource) return this.reportMissingSource(snapshot, pairing.message);
      this.clear(uri);
      status({ state: 'unpaired', message: pairing.message });
      return { state: 'unpaired', message: pairing.message };
    }
    status({ state: 'checking' });
    try {
      const engine = await this.deps.engine(settings);
      throwIfAborted(signal);
      const response =
        pairing.via === 'jsonl'
          ? await this.checkJsonl(snapshot, engine, settings, state, signal)
          : await this.checkPair(snapshot, pairing.sourceUri, pairing.sourcePath, engine, settings, state, signal);
      if (response.state === 'done') status({ state: 'done', score: response.score ?? null, ...(response.input ? { input: response.input } : {}) });
      return response;
    } catch (e) {
      if (e instanceof CancelledError || signal.aborted) {
        status({ state: 'cancelled' });
        return { state: 'cancelled' };
      }
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof InputError && e.code === 'missing') return this.reportMissingSource(snapshot, message);
      if (!(e instanceof InputError || e instanceof ModelError || (e as { code?: string }).code === 'not-configured')) {
        this.deps.log(`check failed for ${uri}: ${(e as Error).stack ?? message}`);
      }
      status({ state: 'error', message });
      return { state: 'error', message };
    }
  }

  private pairing(uri: string, text: string, settings: QualsSettings, state: WorkspaceStateParams): Pairing {
    const p = resolvePairing({ uri, text, rules: settings.pairs, remembered: state.pairs, workspaceFolders: this.deps.workspaceFolders() });
    if (p.via === null && !p.missingSource) {
      // A rule-paired source that was deleted makes the rule stop matching: say so instead of going quiet.
      const last = this.lastSource.get(uri);
      const lastPath = last ? URI.parse(last).fsPath : undefined;
      if (lastPath && !existsSync(lastPath)) {
        return { via: null, message: `The paired source no longer exists: ${lastPath}`, missingSource: lastPath };
      }
    }
    return p;
  }

  private async checkPair(
    doc: TextDocument,
    sourceUri: string,
    sourcePath: string,
    engine: QualsEngine,
    settings: QualsSettings,
    state: WorkspaceStateParams,
    signal: AbortSignal,
  ): Promise<ScoreResponse> {
    this.addDependent(sourceUri, doc.uri);
    const open = this.deps.document(sourceUri);
    const fullSource = open ? checkText(open.getText(), 'The source') : await readTextFile(sourcePath, 'The source');
    const source = fullSource.slice(0, settings.maxSourceChars);
    if (source.length < fullSource.length) this.deps.log(`source cut to ${settings.maxSourceChars} characters ("quals.maxSourceChars"): ${sourcePath}`);
    const scored = scoredSummaryText(doc.getText());
    checkText(scored.text, 'The summary');
    if (scored.text.length > settings.maxSourceChars) {
      throw new InputError('too-large', `The summary is longer than "quals.maxSourceChars" (${settings.maxSourceChars}).`);
    }
    const result = await this.score(engine, source, scored.text, settings, signal);
    const sourceDoc = TextDocument.create(sourceUri, 'plaintext', 0, source);
    const place: Placement = {
      summaryRange: (s, e) => ({ start: doc.positionAt(scored.offset + s), end: doc.positionAt(scored.offset + e) }),
      sourceLocation: (s, e) => ({ uri: sourceUri, range: { start: sourceDoc.positionAt(s), end: sourceDoc.positionAt(e) } }),
    };
    const diagnosticOpts = {
      ...settings,
      severity: settings.diagnosticSeverity,
      uri: doc.uri,
      ignored: state.ignored,
      summary: scored.text,
      ignoredWords: ignoredWords(doc.getText()),
    };
    const diagnostics = toDiagnostics(result, place, diagnosticOpts);
    const verdicts = diagnosticVerdicts(result, diagnosticOpts);
    const params: ResultParams = { uri: doc.uri, version: doc.version, sourceUri, result, verdicts, ...(scored.offset ? { summaryOffset: scored.offset } : {}) };
    if (!this.publish(doc, sourceUri, [params], [...diagnostics, ...inputNoteDiagnostics(result, place)], signal)) return { state: 'cancelled' };
    const input = inputNotes(result).join('; ');
    return { state: 'done', sourceUri, score: result.score, pairs: result.pairs.length, flagged: diagnostics.length, ...(result.message ? { message: result.message } : {}), ...(input ? { input } : {}) };
  }

  private async checkJsonl(
    doc: TextDocument,
    engine: QualsEngine,
    settings: QualsSettings,
    state: WorkspaceStateParams,
    signal: AbortSignal,
  ): Promise<ScoreResponse> {
    const results: ResultParams[] = [];
    const diagnostics: Diagnostic[] = [];
    let skipped = 0;
    let flagged = 0;
    const pacer = new PublishPacer(this.clock);
    let resultsSent = 0;
    const publishSoFar = () => {
      const ok = this.publish(doc, doc.uri, results, diagnostics, signal, false, resultsSent);
      if (ok) resultsSent = results.length;
      return ok;
    };
    for (const [i, line] of splitLines(doc.getText()).entries()) {
      // Cached results resolve without a macrotask: yield now and then so requests, didChange and
      // didClose are read (and written publishes drain) while a long dataset is checked.
      if (pacer.shouldYield()) await pacer.yield(this.lastWrite);
      throwIfAborted(signal);
      const parsed = readJsonlLine(line.text, settings.jsonlFields);
      if (parsed.kind === 'blank') continue;
      if (parsed.kind === 'skip' || parsed.pair.summary.trim() === '' || parsed.pair.document.trim() === '') {
        skipped++;
        continue;
      }
      const { pair } = parsed;
      const result = await this.score(engine, pair.document.slice(0, settings.maxSourceChars), pair.summary, settings, signal);
      const at = (offsets: number[], k: number) => offsets[Math.min(k, offsets.length - 1)]!;
      const range = (offsets: number[], s: number, e: number): Range => ({
        start: { line: i, character: at(offsets, s) },
        end: { line: i, character: at(offsets, e) },
      });
      const place: Placement = {
        summaryRange: (s, e) => range(pair.rawOffsets, s, e),
        sourceLocation: (s, e) => ({ uri: doc.uri, range: range(pair.documentRawOffsets, s, e) }),
      };
      const lineOpts = { ...settings, severity: settings.diagnosticSeverity, uri: doc.uri, ignored: state.ignored, summary: pair.summary };
      const lineDiagnostics = toDiagnostics(result, place, lineOpts, i);
      flagged += lineDiagnostics.length;
      diagnostics.push(...lineDiagnostics, ...inputNoteDiagnostics(result, place));
      const lineResult: ResultParams = { uri: doc.uri, version: doc.version, sourceUri: doc.uri, result, verdicts: diagnosticVerdicts(result, lineOpts), line: i, summaryOffset: line.offset + pair.rawOffsets[0]! };
      results.push(lineResult);
      // Each line's result goes out once, as it finishes (spread over the yields, never a burst).
      if (!this.isCurrent(doc, signal)) return { state: 'cancelled' };
      this.track(this.deps.sendResult(lineResult));
      resultsSent = results.length;
      // Publish as lines finish, but coalesced: each publish resends every diagnostic so far, so
      // one per line is quadratic. The pacer publishes when the count has doubled (total bytes
      // under ~3x the final publish) or, for slow lines, after an interval that doubles each time.
      if (pacer.due(diagnostics.length) && !publishSoFar()) return { state: 'cancelled' };
    }
    if (!publishSoFar()) return { state: 'cancelled' };
    const scores = results.map((r) => r.result.score).filter((s): s is number => s !== null);
    const mean = scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null;
    const message = `${results.length} line(s) scored${skipped ? `, ${skipped} skipped (no "${settings.jsonlFields.map((f) => `${f.document}"/"${f.summary}`).join('" or "')}" string fields)` : ''}.`;
    const input = describeInputCounts(results.reduce((c, r) => countInputs(c, r.result), emptyInputCounts()));
    return { state: 'done', sourceUri: doc.uri, score: mean, pairs: results.reduce((n, r) => n + r.result.pairs.length, 0), flagged, message, ...(input ? { input } : {}) };
  }

  // The engine caches by (model, options, source, summary): reopening or re-saving is instant.
  private score(engine: QualsEngine, source: string, summary: string, settings: QualsSettings, signal: AbortSignal): Promise<QualsResult> {
    return engine.score({ source, summary, options: settings.search, signal });
  }

  /** Publishes only when the editor still shows the version that was scored. */
  private publish(
    doc: TextDocument,
    sourceUri: string,
    results: ResultParams[],
    diagnostics: Diagnostic[],
    signal: AbortSignal,
    sendResults = true,
    alreadySent = 0,
  ): boolean {
    if (!this.isCurrent(doc, signal)) return false;
    this.track(this.deps.publishDiagnostics(doc.uri, doc.version, diagnostics));
    this.published.set(doc.uri, { version: doc.version, sourceUri, results: [...results], diagnostics: [...diagnostics] });
    const known = sendResults ? results : results.slice(alreadySent);
    for (const r of known) this.deps.sendResult(r);
    return true;
  }

  /** The latest write that returned a promise (settled: never rejects). */
  private lastWrite: Promise<unknown> = Promise.resolve();
  private track(write: void | Promise<void>): void {
    if (write) this.lastWrite = write.catch(() => undefined);
  }

  private isCurrent(doc: TextDocument, signal: AbortSignal): boolean {
    const current = this.deps.document(doc.uri);
    return !signal.aborted && current !== undefined && current.version === doc.version;
  }

  private reportMissingSource(doc: TextDocument, message: string): ScoreResponse {
    const diagnostic: Diagnostic = {
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      severity: DiagnosticSeverity.Warning,
      source: DIAGNOSTIC_SOURCE,
      code: NOTE_DIAGNOSTIC_CODES.sourceMissing,
      message,
    };
    this.deps.publishDiagnostics(doc.uri, doc.version, [diagnostic]);
    this.published.delete(doc.uri);
    this.deps.sendStatus({ uri: doc.uri, version: doc.version, state: 'error', message });
    return { state: 'error', message };
  }

  /** Clears a document's diagnostics and results (closed, disabled or unpaired). */
  clear(uri: string): void {
    const doc = this.deps.document(uri);
    this.deps.publishDiagnostics(uri, doc?.version ?? 0, []);
    this.published.delete(uri);
  }

  /** Forgets a closed document entirely. */
  forget(uri: string): void {
    this.clear(uri);
    this.forgetDependent(uri);
    this.lastSource.delete(uri);
  }

  /** Summaries checked against `sourceUri`. */
  summariesOf(sourceUri: string): string[] {
    return [...(this.dependents.get(sourceUri) ?? [])];
  }

  private addDependent(sourceUri: string, summaryUri: string): void {
    this.forgetDependent(summaryUri);
    let set = this.dependents.get(sourceUri);
    if (!set) this.dependents.set(sourceUri, (set = new Set()));
    set.add(summaryUri);
    this.lastSource.set(summaryUri, sourceUri);
  }

  private forgetDependent(summaryUri: string): void {
    for (const set of this.dependents.values()) set.delete(summaryUri);
  }
}

/**
 * When a JSONL check publishes and yields. A publish is due when the diagnostic count at least
 * doubled since the last one (so N lines cost O(final publish) bytes, not O(N x final)), or when
 * the count grew and `interval` passed since the last publish; the interval doubles each time it
 * is used, so slow datasets still show findings early without a publish per line.
 */
export class PublishPacer {
  private lastCount = 0;
  private lastPublish: number;
  private lastYield: number;
  private interval: number;

  constructor(
    private readonly clock: () => number,
    firstIntervalMs = 2000,
    private readonly yieldEveryMs = 10,
  ) {
    this.lastPublish = this.lastYield = clock();
    this.interval = firstIntervalMs;
  }

  due(count: number): boolean {
    if (count <= this.lastCount) return false;
    const now = this.clock();
    const doubled = count >= 2 * this.lastCount;
    const timed = now - this.lastPublish >= this.interval;
    if (!doubled && !timed) return false;
    if (timed && !doubled) this.interval *= 2;
    this.lastCount = count;
    this.lastPublish = now;
    return true;
  }

  shouldYield(): boolean {
    return this.clock() - this.lastYield >= this.yieldEveryMs;
  }

  /** Lets the event loop run: waits for `written` (the outgoing queue drained) and one macrotask. */
  async yield(written?: Promise<unknown>): Promise<void> {
    await written;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastYield = this.clock();
  }
}
