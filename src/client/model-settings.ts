/**
 * Where `quals.model` is saved and shown. A model folder is a path on the machine the language
 * server runs on (a hub id is cached there too), so the setting is `machine-overridable` and every
 * "Choose" flow writes `ConfigurationTarget.Global`: the user settings in a local window, and in a
 * remote window (SSH, WSL, containers, Codespaces, code-server) VS Code writes it to that remote
 * machine's settings, where a local path of another machine would be wrong. "Open Settings" opens
 * the same place, filtered to the setting: the Remote tab in a remote window, where the user tab
 * does not show machine-overridable settings.
 */
import * as vscode from 'vscode';

export const MODEL_SETTING_TARGET = vscode.ConfigurationTarget.Global;

/** Saves `quals.model` where the docs say it goes (see above). */
export function saveModelSetting(model: string | undefined): Thenable<void> {
  return vscode.workspace.getConfiguration('quals').update('model', model, MODEL_SETTING_TARGET);
}

/** Which settings a saved model lands in, in words for messages ("your user settings", ...). */
export function modelSettingPlace(): string {
  return vscode.env.remoteName ? `the remote settings (${vscode.env.remoteName})` : 'your user settings';
}

/** Opens the Settings editor on `quals.model`, on the tab that holds what the "Choose" flows save. */
export function openModelSettings(): Thenable<unknown> {
  // openRemoteSettings takes only an options object (a bare query string is dropped).
  return vscode.env.remoteName
    ? vscode.commands.executeCommand('workbench.action.openRemoteSettings', { query: 'quals.model' })
    : vscode.commands.executeCommand('workbench.action.openSettings', 'quals.model');
}
