/**
 * Commands: one small factory per command, registered from one table. Commands that need the
 * server start it if it never ran, and offer a restart when it is not running.
 */
import * as vscode from 'vscode';
import { Commands, pairingRequest, scoreRequest, type ScoreResponse } from '../protocol';
import { formatScore } from '../scoring/localise';
import { checkAllSummaries } from './check-all';
import type { Ctx } from './context';
import { isIgnoredFinding } from './state';

type Factory = (ctx: Ctx) => (...args: unknown[]) => unknown;

/** The summary a command acts on: an explicit URI argument, else the active editor's document. */
function targetUri(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.toString();
  if (typeof arg === 'string' && arg) return arg;
  return vscode.window.activeTextEditor?.document.uri.toString();
}

const scoreSummary: Factory = (ctx) => async (arg) => {
  const uri = targetUri(arg);
  if (!uri) return void ctx.notifier.info('Open a summary to score it with QUALS.');
  const client = await ctx.requireRunning();
  if (!client) return;
  const name = vscode.Uri.parse(uri).path.split('/').pop();
  const response = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `QUALS: scoring ${name}`, cancellable: true },
    (_progress, token) => client.sendRequest(scoreRequest, { uri }, token),
  );
  void reportScore(ctx, response);
  return response;
};

function reportScore(ctx: Ctx, r: ScoreResponse): Thenable<void> | undefined {
  switch (r.state) {
    case 'done': {
      if (r.score === null || r.score === undefined) return ctx.notifier.info(`QUALS: no answerable QA pairs found. ${r.message ?? ''}`.trim());
      const flagged = r.flagged ? `${r.flagged} of ${r.pairs} QA pairs not supported by the source.` : `All ${r.pairs} QA pairs supported.`;
      return ctx.notifier.info(`QUALS score ${formatScore(r.score)}: ${flagged}`);
    }
    case 'unpaired':
      return ctx.notifier.info(r.message ?? 'This summary has no source.', { title: 'Pair with Source...', run: () => vscode.commands.executeCommand(Commands.pairWithSource) });
    case 'error':
      // A model problem already has its own notification with the ways out.
      if (ctx.modelStatus()?.state === 'error') return undefined;
      return ctx.notifier.error(`QUALS: ${r.message ?? 'the check failed.'}`);
    default:
      return undefined; // cancelled or disabled: the user already knows
  }
}

const recheck: Factory = (ctx) => async (arg) => {
  const uri = targetUri(arg);
  const client = await ctx.requireRunning();
  if (uri && client) return client.sendRequest(scoreRequest, { uri });
  return undefined;
};

const pairWithSource: Factory = (ctx) => async (arg) => {
  const uri = targetUri(arg);
  if (!uri) return void ctx.notifier.info('Open a summary first, then run "QUALS: Pair with Source...".');
  const client = await ctx.requireRunning();
  if (!client) return;
  const current = await client.sendRequest(pairingRequest, { uri });
  if (current.via === 'directive' || current.via === 'rule' || current.via === 'jsonl') {
    // A remembered pairing ranks below directives and rules: say so rather than storing a choice that does nothing.
    return void ctx.notifier.info(`${current.message} Change the directive or "quals.pairs" to pair it differently.`);
  }
  const summary = vscode.Uri.parse(uri);
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    defaultUri: vscode.Uri.joinPath(summary, '..'),
    openLabel: 'Pair as Source',
    title: 'Choose the source document of this summary',
  });
  if (!picked?.[0]) return;
  await ctx.state.pair(uri, picked[0].toString());
  void ctx.notifier.info(`Paired with ${vscode.workspace.asRelativePath(picked[0])}.`, { title: 'Undo', run: () => ctx.state.unpair(uri) });
};

const unpair: Factory = (ctx) => async (arg) => {
  const uri = targetUri(arg);
  if (uri) await ctx.state.unpair(uri);
};

// One argument per QA pair of the finding (a merged finding is ignored as a whole).
const ignoreFinding: Factory = (ctx) => async (...args) => {
  const findings = args.filter(isIgnoredFinding);
  if (findings.length === 0) return;
  for (const f of findings) await ctx.state.ignore(f);
  const undo = async () => {
    for (const f of findings) await ctx.state.unignore(f);
  };
  void ctx.notifier.info(`QUALS finding "${findings[0]!.answer}" ignored.`, { title: 'Undo', run: undo });
};

const showIgnored: Factory = (ctx) => async () => {
  const ignored = ctx.state.value.ignored;
  if (ignored.length === 0) return void ctx.notifier.info('No QUALS findings are ignored in this workspace.');
  const items = ignored.map((f) => ({
    label: f.answer,
    description: vscode.workspace.asRelativePath(vscode.Uri.parse(f.uri)),
    detail: f.question,
    finding: f,
  }));
  const picked = await vscode.window.showQuickPick(items, { canPickMany: true, title: 'Ignored QUALS findings: pick the ones to show again' });
  for (const item of picked ?? []) await ctx.state.unignore(item.finding);
};

const setDisabled =
  (disabled: boolean): Factory =>
  (ctx) =>
  async (arg) => {
    const uri = targetUri(arg);
    if (!uri) return;
    await ctx.state.setDisabled(uri, disabled);
    if (disabled) void ctx.notifier.info('QUALS is off for this file.', { title: 'Undo', run: () => ctx.state.setDisabled(uri, false) });
  };

const TABLE: Record<string, Factory> = {
  [Commands.scoreSummary]: scoreSummary,
  [Commands.checkAllSummaries]: checkAllSummaries,
  [Commands.recheck]: recheck,
  [Commands.restartServer]: (ctx) => () => ctx.restart(),
  [Commands.pairWithSource]: pairWithSource,
  [Commands.unpair]: unpair,
  [Commands.ignoreFinding]: ignoreFinding,
  [Commands.showIgnored]: showIgnored,
  [Commands.disableForFile]: setDisabled(true),
  [Commands.enableForFile]: setDisabled(false),
  [Commands.showOutput]: (ctx) => () => ctx.log.show(true),
  // Commands.chooseModel and Commands.openExample: ./model-picker.ts
};

export function registerCommands(ctx: Ctx): void {
  for (const [id, factory] of Object.entries(TABLE)) ctx.registerDisposable(vscode.commands.registerCommand(id, factory(ctx)));
}
