/**
 * The life cycle every fake-hub test file needs: a temporary folder, the loopback hub serving the
 * repos the file builds in that folder, no HF_TOKEN from the developer's environment leaking into
 * requests, and everything put back afterwards. Register at the top level of a test file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { type FakeHub, type FakeRepoSpec, startFakeHub } from './fake-hub.mjs';

export interface FakeHubEnv {
  /** The file's temporary folder (set in `before`). */
  readonly tmp: string;
  readonly hub: FakeHub;
  /** A new, empty model-cache folder under `tmp` for each call. */
  freshCache(): string;
}

export function withFakeHub(tmpPrefix: string, repos: (tmp: string) => Promise<Record<string, string | FakeRepoSpec>>): FakeHubEnv {
  const savedToken = process.env.HF_TOKEN;
  let tmp = '';
  let hub: FakeHub | undefined;
  let caches = 0;
  before(async () => {
    delete process.env.HF_TOKEN;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
    hub = await startFakeHub({ repos: await repos(tmp) });
  });
  after(async () => {
    await hub?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
    if (savedToken !== undefined) process.env.HF_TOKEN = savedToken;
  });
  return {
    get tmp() {
      return tmp;
    },
    get hub() {
      if (!hub) throw new Error('the fake hub is used before its before() hook ran');
      return hub;
    },
    freshCache: () => path.join(tmp, `cache-${++caches}`),
  };
}
