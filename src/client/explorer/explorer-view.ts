/**
 * The QA-pair explorer's WebviewViewProvider. It follows the active summary editor, turns what the
 * server reported about it into one ExplorerState, and answers the view's (validated) requests.
 * The view is rebuilt whenever VS Code shows it again (no retainContextWhenHidden): the webview
 * keeps its own UI state with setState, and this provider re-sends the state on `ready`.
 */
import * as vscode from 'vscode';
import { Commands, type ResultParams, type ShowPairArgs } from '../../protocol';
import type { JsonlFields } from '../../scoring/pairing';
import { parseFromView, type DocRef, type ExplorerAction, type ExplorerState, type FromViewMessage, type ToViewMessage } from '../../shared/explorer-messages';
import type { ExplorerHost } from '../host';
import { explorerHtml } from './explorer-html';
import { deriveState, pickResult } from './explorer-state';
import { copyResultJson, saveReport } from './explorer-export';
import { locatePair } from './locations';
import { openModelSettings } from '../model-settings';

/** Schemes of editors that can never be a summary (output channels, settings, diff internals). */
const IGNORED_SCHEMES = new Set(['output', 'vscode-settings', 'debug', 'git', 'walkThrough', 'vscode-userdata']);

export class ExplorerViewProvider implements vscode.WebviewViewProvider {
  static readonly viewType = 'quals.explorer';

  private view: vscode.WebviewView | undefined;
  private ready = false;
  private followed: vscode.Uri | null = null;
  private pendingFocus: string | null = null;
  private hadResult: boolean | undefined;
  /** What the view last reported on screen (undefined until it rendered). */
  rendered: Extract<FromViewMessage, { type: 'rendered' }> | undefined;

  constructor(private readonly host: ExplorerHost) {
    const d = (x: vscode.Disposable) => host.registerDisposable(x);
    const refreshFor = (uri: string) => {
      if (this.followed?.toString() === uri) this.refresh();
    };
    d(host.onResult((r) => refreshFor(r.uri)));
    d(host.onDocumentStatus((s) => refreshFor(s.uri)));
    d(host.onModelStatus(() => this.refresh()));
    d(vscode.window.onDidChangeActiveTextEditor((e) => this.follow(e)));
    d(vscode.window.onDidChangeTextEditorSelection((e) => {
      // Datasets show the line under the cursor.
      if (this.followed && e.textEditor.document.uri.toString() === this.followed.toString() && this.resultsOf(this.followed).length > 1) this.refresh();
    }));
    d(vscode.workspace.onDidChangeTextDocument((e) => refreshFor(e.document.uri.toString())));
    d(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('quals')) this.refresh();
    }));
    this.follow(vscode.window.activeTextEditor);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    const root = vscode.Uri.joinPath(this.host.extensionContext.extensionUri, 'dist', 'webview');
    this.view = view;
    this.ready = false;
    view.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: [root] };
    view.webview.html = explorerHtml({
      cspSource: view.webview.cspSource,
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(root, 'main.js')).toString(),
      styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(root, 'main.css')).toString(),
    });
    view.webview.onDidReceiveMessage((raw) => void this.receive(raw));
    view.onDidDispose(() => {
      if (this.view === view) this.view = undefined;
    });
    this.rendered = undefined;
  }

  /** The state the view shows now (also what tests read). */
  state(): ExplorerState {
    const uri = this.followed;
    const key = uri?.toString() ?? '';
    const doc = uri ? vscode.workspace.textDocuments.find((t) => t.uri.toString() === key) : undefined;
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === key);
    return deriveState({
      summary: uri ? this.docRef(uri) : null,
      version: doc?.version ?? null,
      results: uri ? this.resultsOf(uri) : [],
      status: uri ? this.host.documentStatus(key) : undefined,
      model: this.host.modelStatus(),
      cursorLine: editor?.selection.active.line ?? null,
      threshold: this.threshold(uri),
      nameOf: (u) => this.docRef(vscode.Uri.parse(u)).name,
    });
  }

  /** Opens the explorer on one pair (the hover card's link). */
  async showPair(args: ShowPairArgs): Promise<void> {
    const uri = vscode.Uri.parse(args.uri);
    this.followed = uri;
    this.pendingFocus = args.pairId;
    // Move a dataset's editor cursor to the pair's line so the view picks that line's result.
    if (args.line !== undefined) {
      const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
      if (editor) editor.selection = new vscode.Selection(args.line, 0, args.line, 0);
    }
    await vscode.commands.executeCommand(`${ExplorerViewProvider.viewType}.focus`);
    this.refresh();
  }

  private follow(editor: vscode.TextEditor | undefined): void {
    if (!editor || IGNORED_SCHEMES.has(editor.document.uri.scheme)) return;
    const uri = editor.document.uri;
    // Opening the source (e.g. "Show in source") keeps the summary in view.
    const current = this.followed ? this.currentResult(this.followed) : undefined;
    if (current && current.sourceUri === uri.toString()) return;
    this.followed = uri;
    this.refresh();
  }

  private refresh(): void {
    if (!this.view || !this.ready) return;
    const state = this.state();
    // The view's Copy/Save title icons act on the shown result: hidden while there is none.
    const hasResult = state.kind === 'result';
    if (hasResult !== this.hadResult) {
      this.hadResult = hasResult;
      void vscode.commands.executeCommand('setContext', 'quals.explorerHasResult', hasResult);
    }
    this.post({ type: 'update', state });
    if (this.pendingFocus !== null) {
      this.post({ type: 'focusPair', pairId: this.pendingFocus });
      this.pendingFocus = null;
    }
  }

  private post(msg: ToViewMessage): void {
    void this.view?.webview.postMessage(msg);
  }

  /** Handles one message from the view (also the integration tests' way to act as the view). */
  async receive(raw: unknown): Promise<void> {
    const msg = parseFromView(raw);
    if (!msg) {
      this.host.log.warn(`explorer: ignored a malformed message from the view: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    const run = (p: Thenable<unknown> | Promise<unknown>): Promise<void> =>
      Promise.resolve(p).then(() => undefined, (e: unknown) => {
        const message = e instanceof Error ? e.message : String(e);
        this.host.log.error(`explorer: ${msg.type} failed: ${e instanceof Error ? (e.stack ?? message) : message}`);
        void vscode.window.showErrorMessage(`QUALS explorer: ${message}`, 'Show Details').then((b) => b && this.host.log.show());
      },
      );
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        this.refresh();
        return;
      case 'revealPair':
      case 'showInSource':
        return run(this.openPair(msg.summaryUri, msg.pairId, msg.type === 'showInSource'));
      case 'action':
        return run(this.runAction(msg.action));
      case 'rendered':
        this.rendered = msg;
        return;
    }
  }

  /** Selects the pair's answer in the summary editor, or its evidence in the source. */
  async openPair(summaryUri: string, pairId: string, inSource: boolean): Promise<vscode.TextEditor | undefined> {
    const params = this.followed?.toString() === summaryUri ? this.currentResult(this.followed) : undefined;
    const pair = params?.result.pairs.find((p) => p.id === pairId);
    if (!params || !pair) return undefined; // a click on a result that has since been replaced
    const summaryDoc = await vscode.workspace.openTextDocument(vscode.Uri.parse(summaryUri));
    const where = locatePair(params, pair, summaryDoc.getText(), this.jsonlFields(summaryDoc.uri));
    const range = inSource ? where.evidence : where.answer;
    if (!range) {
      void vscode.window.showInformationMessage(inSource ? 'The source does not contain the answer the model gives from it.' : 'The answer could not be located in the summary any more; re-check it.');
      return undefined;
    }
    const doc = inSource ? await vscode.workspace.openTextDocument(vscode.Uri.parse(params.sourceUri)) : summaryDoc;
    const selection = new vscode.Selection(doc.positionAt(range.start), doc.positionAt(range.end));
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === doc.uri.toString());
    // Keep focus in the view so arrow keys keep walking the pairs; the selection shows where.
    const editor = await vscode.window.showTextDocument(doc, {
      viewColumn: visible?.viewColumn ?? (inSource ? vscode.ViewColumn.Beside : undefined),
      preserveFocus: true,
      selection,
    });
    editor.revealRange(selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    return editor;
  }

  private async runAction(action: ExplorerAction): Promise<void> {
    const uri = this.followed;
    switch (action) {
      case 'pairWithSource':
        await vscode.commands.executeCommand(Commands.pairWithSource, uri ?? undefined);
        return;
      case 'chooseModel': {
        const all = await vscode.commands.getCommands(true);
        if (all.includes('quals.chooseModel')) await vscode.commands.executeCommand('quals.chooseModel');
        else await openModelSettings();
        return;
      }
      case 'rescore':
        await vscode.commands.executeCommand(Commands.scoreSummary, uri ?? undefined);
        return;
      case 'enableForFile':
        await vscode.commands.executeCommand(Commands.enableForFile, uri ?? undefined);
        return;
      case 'copyJson':
        await this.copyJson();
        return;
      case 'saveReport':
        await this.saveReport();
        return;
    }
  }

  /** "Copy as JSON": the shown result in the schema of `quals score --json`. */
  async copyJson(): Promise<boolean> {
    const params = this.followed ? this.currentResult(this.followed) : undefined;
    if (!params) {
      void vscode.window.showInformationMessage('There is no QUALS result to copy: open a checked summary first.');
      return false;
    }
    await copyResultJson(params);
    return true;
  }

  /** "Save report...": asks where, then writes the standalone HTML report. */
  async saveReport(target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const state = this.state();
    const params = this.followed ? this.currentResult(this.followed) : undefined;
    if (state.kind !== 'result' || !params) {
      void vscode.window.showInformationMessage('There is no QUALS result to save: open a checked summary first.');
      return undefined;
    }
    return saveReport({ params, state, fields: this.jsonlFields(vscode.Uri.parse(params.uri)), target });
  }

  private resultsOf(uri: vscode.Uri): readonly ResultParams[] {
    return this.host.latestResults(uri.toString());
  }

  private currentResult(uri: vscode.Uri): ResultParams | undefined {
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    return pickResult(this.resultsOf(uri), editor?.selection.active.line ?? null);
  }

  private docRef(uri: vscode.Uri): DocRef {
    const name = uri.scheme === 'untitled' ? uri.path : vscode.workspace.asRelativePath(uri, false);
    return { uri: uri.toString(), name };
  }

  private threshold(uri: vscode.Uri | null): number {
    const v = vscode.workspace.getConfiguration('quals', uri ?? undefined).get<unknown>('threshold');
    return typeof v === 'number' && Number.isFinite(v) ? v : -1;
  }

  private jsonlFields(uri: vscode.Uri): JsonlFields[] | undefined {
    const v = vscode.workspace.getConfiguration('quals', uri).get<unknown>('jsonlFields');
    if (!Array.isArray(v)) return undefined;
    const ok = v.filter((f): f is JsonlFields => typeof f?.document === 'string' && typeof f?.summary === 'string');
    return ok.length ? ok : undefined;
  }
}
