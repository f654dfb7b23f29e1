/** Shows a hub model download as one progress notification, from the server's model statuses. */
import * as vscode from 'vscode';
import type { ModelStatusParams } from '../protocol';

export class DownloadProgress implements vscode.Disposable {
  private active: { report: (fraction: number, message?: string) => void; finish: () => void } | undefined;

  update(status: ModelStatusParams): void {
    if (status.state !== 'downloading') {
      this.dispose();
      return;
    }
    if (!this.active) {
      void vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `QUALS: downloading model ${status.model}` },
        (progress) =>
          new Promise<void>((finish) => {
            let done = 0;
            this.active = {
              finish,
              report: (fraction, message) => {
                const increment = Math.max(0, fraction * 100 - done);
                done += increment;
                progress.report({ increment, ...(message ? { message } : {}) });
              },
            };
          }),
      );
    }
    this.active?.report(status.progress ?? 0, status.message);
  }

  dispose(): void {
    this.active?.finish();
    this.active = undefined;
  }
}
