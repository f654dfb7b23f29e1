/**
 * What `activate` returns: the extension's API for other extensions and for the integration
 * suite (which waits on state changes through it instead of sleeping).
 */
import type { ServerInfo } from '../protocol';
import type { ExplorerHost } from './host';
import type { ModelPickerSnapshot } from './model-picker';
import type { ShownMessage } from './notifier';
import type { DocumentStatusParams } from '../protocol';

export interface QualsApi {
  readonly host: ExplorerHost;
  /** False until the server was first started (only for a paired summary, a dataset or a command). */
  serverStarted(): boolean;
  /** The server's pid, version and model state; undefined while the server is not running. */
  serverInfo(): Promise<ServerInfo | undefined>;
  documentStatus(uri: string): DocumentStatusParams | undefined;
  /** Messages shown to the user so far, oldest first. */
  readonly shownMessages: readonly ShownMessage[];
  /** "QUALS: Choose Model..." while its QuickPick is open (rows, active row), else undefined. */
  modelPicker(): ModelPickerSnapshot | undefined;
  /** The status bar item as shown now (undefined: hidden). */
  statusBar(): { text: string; command?: string } | undefined;
  /** The language status item (score, then the model described: name, variant unless fp32, device). */
  languageStatus(): { text: string; detail: string };
  /** The context keys QUALS set for menus and views (`quals.activeIsChecked`, ...). */
  contextKeys(): Readonly<Record<string, boolean>>;
}
