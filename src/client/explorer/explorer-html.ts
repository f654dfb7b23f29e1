/**
 * The explorer webview's HTML shell. Kept free of `vscode` so the Content-Security-Policy is unit
 * tested: nothing loads but the bundled script (by nonce) and stylesheet (from the webview's own
 * resource origin); no inline script or style, no network, no frames.
 */
import { randomBytes } from 'node:crypto';

export interface ExplorerHtmlInput {
  /** `webview.cspSource`: the origin webview resources are served from. */
  cspSource: string;
  /** `asWebviewUri` of dist/webview/main.js and main.css. */
  scriptUri: string;
  styleUri: string;
  nonce?: string;
}

/** A fresh nonce per page load: 128 random bits, base64 (CSP nonce syntax allows +/=). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

/** The Content-Security-Policy of the explorer page. */
export function explorerCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function explorerHtml(input: ExplorerHtmlInput): string {
  const nonce = input.nonce ?? makeNonce();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(explorerCsp(input.cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(input.styleUri)}">
<title>QUALS explorer</title>
</head>
<body>
<div id="app"></div>
<script nonce="${attr(nonce)}" src="${attr(input.scriptUri)}"></script>
</body>
</html>`;
}
