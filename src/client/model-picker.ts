/**
 * "QUALS: Choose Model..." (`quals.chooseModel`): a QuickPick of recommended hub models, a local
 * ONNX folder, or a local Hugging Face checkpoint to import. Hub models and checkpoints are made
 * ready by the language server (`quals/prepareModel`: download, import; CPU-heavy, so never in the
 * extension host) into the extension's global storage, under one cancellable progress
 * notification; only then is the choice saved in the user settings (the remote machine's in a
 * remote window: ./model-settings.ts). Also "QUALS: Open Example
 * Summary" (`quals.openExample`), the walkthrough's second step.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { WorkDoneProgress, type WorkDoneProgressBegin, type WorkDoneProgressReport } from 'vscode-languageclient/node';
import { Commands, pairingRequest, prepareModelRequest, type PrepareModelResponse } from '../protocol';
import type { Ctx } from './context';
import { modelSettingPlace, saveModelSetting } from './model-settings';
import {
  actionFor,
  checkpointAction,
  classifyFolder,
  EXTRA_MODELS_ENV,
  parseExtraModels,
  pickerItems,
  pickerModels,
  type PickerChoice,
  type PrepareAction,
} from './model-picker-logic';

/** What the picker shows while it is open (read by the integration suite through the extension API). */
export interface ModelPickerSnapshot {
  title: string;
  /** Labels of the selectable rows, in order. */
  items: string[];
  active: string | undefined;
}

export interface ChooseModelOutcome {
  state: 'saved' | 'cancelled' | 'error';
  /** The `quals.model` value saved. */
  model?: string;
  /** The model folder made ready (hub cache or import), when the server prepared one. */
  dir?: string;
  message?: string;
  /** Progress messages shown during the preparation, oldest first. */
  progress?: string[];
}

/** Where hub downloads and imports live: `<globalStorage>/models` (undefined off the file system). */
export function modelStorageDir(context: vscode.ExtensionContext): string | undefined {
  const storage = context.globalStorageUri;
  return storage.scheme === 'file' ? vscode.Uri.joinPath(storage, 'models').fsPath : undefined;
}

type Item = vscode.QuickPickItem & { choice?: PickerChoice };

export class ModelPicker {
  private open: vscode.QuickPick<Item> | undefined;

  constructor(private readonly ctx: Ctx) {}

  snapshot(): ModelPickerSnapshot | undefined {
    const qp = this.open;
    if (!qp) return undefined;
    return {
      title: qp.title ?? '',
      items: qp.items.filter((i) => i.kind !== vscode.QuickPickItemKind.Separator).map((i) => i.label),
      active: qp.activeItems[0]?.label,
    };
  }

  /** The command: pick, prepare if needed, save. Resolves when everything is done (the outcome is for tests). */
  async run(): Promise<ChooseModelOutcome> {
    const choice = await this.pick();
    if (!choice) return { state: 'cancelled' };
    const modelsDir = modelStorageDir(this.ctx.extensionContext);
    const action = modelsDir ? actionFor(choice, modelsDir) : choice.kind === 'folder' ? { kind: 'pick-folder' as const } : undefined;
    if (!action) {
      void this.ctx.notifier.error('QUALS cannot store models here: the extension\'s storage is not on the local file system. Use a local folder instead.');
      return { state: 'error' };
    }
    if (action.kind === 'prepare') return this.prepare(action);
    const folder = await this.chooseFolder(action.kind === 'pick-folder' ? 'Use as QUALS Model' : 'Import Checkpoint');
    if (!folder) return { state: 'cancelled' };
    const kind = await this.folderKind(folder);
    if (action.kind === 'pick-checkpoint' || kind === 'checkpoint') {
      if (kind === 'onnx') return this.save(folder.fsPath); // already in the ONNX layout: nothing to import
      if (kind !== 'checkpoint') {
        void this.ctx.notifier.error(
          `${folder.fsPath} is not a Hugging Face checkpoint: it needs config.json and model.safetensors or pytorch_model.bin (as save_pretrained writes them).`,
        );
        return { state: 'error' };
      }
      if (!modelsDir) return { state: 'error' };
      if (action.kind === 'pick-folder') void this.ctx.notifier.info(`${folder.fsPath} is a Hugging Face checkpoint: QUALS converts it to ONNX once.`);
      return this.prepare(checkpointAction(folder.fsPath, modelsDir));
    }
    if (kind === 'unknown') {
      const use = 'Use Anyway';
      const picked = await vscode.window.showWarningMessage(
        `${folder.fsPath} does not look like a model folder (no onnx/encoder_model.onnx, no checkpoint weights).`,
        use,
        'Cancel',
      );
      if (picked !== use) return { state: 'cancelled' };
    }
    return this.save(folder.fsPath);
  }

  private pick(): Promise<PickerChoice | undefined> {
    const current = vscode.workspace.getConfiguration('quals').get<string>('model') ?? '';
    const extras = parseExtraModels(process.env[EXTRA_MODELS_ENV], (line) => this.ctx.log.warn(line));
    const rows = pickerItems(pickerModels(extras), current);
    const items: Item[] = rows.map((r) =>
      r.separator
        ? { label: r.label, kind: vscode.QuickPickItemKind.Separator }
        : { label: r.label, ...(r.description ? { description: r.description } : {}), ...(r.detail ? { detail: r.detail } : {}), ...(r.choice ? { choice: r.choice } : {}) },
    );
    const qp = vscode.window.createQuickPick<Item>();
    qp.title = 'QUALS: Choose Model';
    qp.placeholder = 'A question-and-answer generation model to check summaries with';
    qp.matchOnDescription = true;
    qp.matchOnDetail = true;
    qp.items = items;
    const currentIndex = rows.findIndex((r) => r.current);
    const active = items[currentIndex >= 0 ? currentIndex : rows.findIndex((r) => r.choice)];
    if (active) qp.activeItems = [active];
    this.open = qp;
    return new Promise((resolve) => {
      let picked: PickerChoice | undefined;
      qp.onDidAccept(() => {
        picked = qp.selectedItems[0]?.choice ?? qp.activeItems[0]?.choice;
        if (picked) qp.hide();
      });
      qp.onDidHide(() => {
        if (this.open === qp) this.open = undefined;
        qp.dispose();
        resolve(picked);
      });
      qp.show();
    });
  }

  private async chooseFolder(openLabel: string): Promise<vscode.Uri | undefined> {
    const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel });
    return picked?.[0];
  }

  private async folderKind(folder: vscode.Uri) {
    const names: string[] = [];
    try {
      for (const [name, type] of await vscode.workspace.fs.readDirectory(folder)) {
        names.push(name);
        if (name === 'onnx' && type & vscode.FileType.Directory) {
          for (const [inner] of await vscode.workspace.fs.readDirectory(vscode.Uri.joinPath(folder, 'onnx'))) names.push(`onnx/${inner}`);
        }
      }
    } catch {
      // unreadable: reported as not a model folder
    }
    return classifyFolder(names);
  }

  /** Asks the server to download / import, under a cancellable progress notification; saves on success. */
  private async prepare(action: PrepareAction): Promise<ChooseModelOutcome> {
    const client = await this.ctx.requireRunning();
    if (!client) return { state: 'error', message: 'server not running' };
    const progressLog: string[] = [];
    let response: PrepareModelResponse | undefined;
    try {
      response = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: action.title, cancellable: true },
        async (progress, token) => {
          const workDoneToken = randomUUID();
          const sub = client.onProgress(WorkDoneProgress.type, workDoneToken, (v) => {
            const message = (v as WorkDoneProgressBegin | WorkDoneProgressReport).message;
            if (v.kind === 'end' || !message) return;
            const pct = (v as WorkDoneProgressReport).percentage;
            const text = pct === undefined ? message : `${message} (${pct}%)`;
            progressLog.push(text);
            progress.report({ message: text });
          });
          try {
            const r = await client.sendRequest(prepareModelRequest, { ...action.request, workDoneToken }, token);
            return token.isCancellationRequested ? { state: 'cancelled' as const } : (r ?? { state: 'cancelled' as const });
          } finally {
            sub.dispose();
          }
        },
      );
    } catch (e) {
      if (e instanceof vscode.CancellationError) response = { state: 'cancelled' };
      else {
        void this.ctx.notifier.error(`QUALS could not prepare ${action.request.model}.`, e);
        return { state: 'error', message: String(e), progress: progressLog };
      }
    }
    if (response.state === 'cancelled') {
      void this.ctx.notifier.info(`Cancelled: ${action.request.model} was not saved as the QUALS model.`);
      return { state: 'cancelled', progress: progressLog };
    }
    if (response.state === 'error' || !response.dir) {
      const message = response.message ?? 'the preparation failed.';
      void this.ctx.notifier.error(`QUALS could not prepare ${action.request.model}: ${message}`, undefined, {
        title: 'Choose Model...',
        run: () => vscode.commands.executeCommand(Commands.chooseModel),
      });
      return { state: 'error', message, progress: progressLog };
    }
    if (response.message) this.ctx.log.warn(response.message);
    const saved = await this.save(action.setting, response.format);
    return { ...saved, dir: response.dir, progress: progressLog };
  }

  /** Saves `quals.model` in the user settings (./model-settings.ts), saying when a workspace value still overrides it. */
  private async save(model: string, format?: string): Promise<ChooseModelOutcome> {
    await saveModelSetting(model);
    const config = vscode.workspace.getConfiguration('quals');
    const inspect = config.inspect<string>('model');
    const overridden = vscode.workspace.isTrusted && (inspect?.workspaceFolderValue || inspect?.workspaceValue);
    const modelFormat = config.get<string>('modelFormat') ?? 'auto';
    const notes = [
      overridden ? `The workspace setting "quals.model" (${String(overridden)}) still applies in this workspace.` : '',
      format && modelFormat !== 'auto' && modelFormat !== format ? `"quals.modelFormat" is "${modelFormat}" but this model uses "${format}".` : '',
    ].filter(Boolean);
    void this.ctx.notifier.info([`QUALS now uses ${model}.`, `Saved in ${modelSettingPlace()}.`, ...notes].join(' '));
    return { state: 'saved', model };
  }
}

/** "QUALS: Open Example Summary": a summary from the workspace, else the bundled example pair, with its source beside it. */
async function openExample(ctx: Ctx): Promise<vscode.Uri | undefined> {
  const inWorkspace = await vscode.workspace.findFiles('**/*.summary.{md,txt}', '**/node_modules/**', 1);
  let summary = inWorkspace[0];
  if (!summary) {
    const ext = ctx.extensionContext.extensionUri;
    for (const rel of ['examples/boxing.summary.md', 'media/walkthrough/example/boxing.summary.md']) {
      const candidate = vscode.Uri.joinPath(ext, rel);
      try {
        await vscode.workspace.fs.stat(candidate);
        summary = candidate;
        break;
      } catch {
        // not shipped here: try the next
      }
    }
  }
  if (!summary) {
    void ctx.notifier.info('No example summary found: open a summary named like "x.summary.md" next to its source "x.md".');
    return undefined;
  }
  const source = await (await ctx.ensureRunning())?.sendRequest(pairingRequest, { uri: summary.toString() }).then((p) => p.sourceUri, () => undefined);
  if (source) await vscode.window.showTextDocument(vscode.Uri.parse(source), { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
  await vscode.window.showTextDocument(summary, { viewColumn: source ? vscode.ViewColumn.One : vscode.ViewColumn.Active });
  return summary;
}

export function registerModelPicker(ctx: Ctx): ModelPicker {
  const picker = new ModelPicker(ctx);
  ctx.registerDisposable(vscode.commands.registerCommand(Commands.chooseModel, () => picker.run()));
  ctx.registerDisposable(vscode.commands.registerCommand(Commands.openExample, () => openExample(ctx)));
  return picker;
}
