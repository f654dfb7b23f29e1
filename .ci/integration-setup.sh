#!/bin/sh
# System packages for the VS Code integration suite (test/integration/run.mjs), Debian 12.
# chromium: the browser that loads code-server's workbench (driven by playwright-core, never
# `playwright install`); ripgrep: seeds @vscode/ripgrep, whose postinstall would download rg;
# libkrb5-dev: headers for code-server's kerberos module; build-essential + python3: node-gyp builds node-pty. code-server and playwright-core
# themselves are installed by the harness on first run into .cache/vscode-test/.
set -eu
if command -v chromium >/dev/null && command -v rg >/dev/null && command -v g++ >/dev/null && command -v python3 >/dev/null && [ -e /usr/include/gssapi/gssapi.h ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium ripgrep libkrb5-dev build-essential python3
