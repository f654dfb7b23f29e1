/**
 * The one path for messages to users: a short toast, details (stacks, server messages) in the
 * QUALS output channel behind "Show Output". Model problems become ONE actionable notification
 * per distinct problem, not a stream of errors. Shown messages are kept for the test API.
 */
import * as vscode from 'vscode';
import { Commands, type ModelStatusParams } from '../protocol';
import { openModelSettings, saveModelSetting } from './model-settings';

export interface Action {
  title: string;
  run: () => unknown;
}

export interface ShownMessage {
  severity: 'info' | 'warning' | 'error';
  message: string;
  actions: string[];
}

const SHOW_OUTPUT = 'Show Output';
export const NO_MODEL_MESSAGE = 'QUALS needs a question-generation model to check summaries.';
/** The walkthrough contributed in package.json (`publisher.name#id`). */
const WALKTHROUGH = 'quals.quals-vscode#quals.gettingStarted';

export class Notifier {
  /** Every message shown, oldest first (read by the integration tests through the extension API). */
  readonly shown: ShownMessage[] = [];
  private lastModelProblem: string | undefined;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  info(message: string, ...actions: Action[]): Thenable<void> {
    return this.show('info', message, actions);
  }

  warn(message: string, ...actions: Action[]): Thenable<void> {
    return this.show('warning', message, actions);
  }

  /** A short error; `error` (if any) goes to the output channel with its stack. */
  error(message: string, error?: unknown, ...actions: Action[]): Thenable<void> {
    if (error !== undefined) this.log.error(message, error instanceof Error ? (error.stack ?? error.message) : String(error));
    return this.show('error', message, [...actions, { title: SHOW_OUTPUT, run: () => this.log.show(true) }]);
  }

  /** Reacts to the server's model status: one notification per distinct problem. */
  modelStatus(status: ModelStatusParams): void {
    if (status.state !== 'error') {
      if (status.state === 'ready') this.lastModelProblem = undefined;
      return;
    }
    const key = `${status.model}|${status.code}`;
    if (key === this.lastModelProblem) return;
    this.lastModelProblem = key;
    if (status.code === 'not-configured') {
      // First run: nothing is broken, a model is simply still to be chosen.
      void this.show('info', NO_MODEL_MESSAGE, [
        { title: 'Choose Model...', run: () => vscode.commands.executeCommand(Commands.chooseModel) },
        { title: 'Get Started', run: () => vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH, false) },
      ]);
      return;
    }
    const actions: Action[] = [
      { title: 'Choose Folder...', run: () => chooseModelFolder() },
      { title: 'Open Settings', run: () => openModelSettings() },
    ];
    const message = `QUALS could not load the model "${status.model}": ${status.message ?? status.code}`;
    void this.show('error', message, actions);
  }

  private show(severity: ShownMessage['severity'], message: string, actions: Action[]): Thenable<void> {
    this.shown.push({ severity, message, actions: actions.map((a) => a.title) });
    this.log[severity === 'warning' ? 'warn' : severity](message);
    const fn =
      severity === 'error' ? vscode.window.showErrorMessage : severity === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    return fn(message, ...actions.map((a) => a.title)).then((picked) => {
      if (picked) void actions.find((a) => a.title === picked)?.run();
    });
  }
}

/**
 * "Choose Folder...": stores the folder in the user settings, the remote machine's in a remote
 * window (./model-settings.ts; workspace values are ignored when untrusted).
 */
export async function chooseModelFolder(): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use as QUALS Model' });
  if (!picked?.[0]) return undefined;
  await saveModelSetting(picked[0].fsPath);
  return picked[0].fsPath;
}
