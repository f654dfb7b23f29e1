// Types for fake-hub.mjs (a loopback imitation of the Hugging Face hub for tests).

/** A file's content: bytes, text, or a plain object written as JSON. */
export type FakeFile = Buffer | Uint8Array | string | Record<string, unknown> | unknown[];

export interface FakeRepoSpec {
  /** Serve every file under this folder (recursively; dot-files skipped). */
  dir?: string;
  /** Files to add or replace (`null` removes one of `dir`'s). */
  files?: Record<string, FakeFile | null>;
  /** Files of `dir` to leave out: exact names, folder prefixes ending in `/`, or a predicate. */
  exclude?: string[] | ((name: string) => boolean);
  /** Revisions served besides `main` and the repo's own commit sha. */
  revisions?: string[];
  /** false: the listing API 404s, like an old mirror (files still resolve). Default true. */
  api?: boolean;
  tags?: string[];
  pipelineTag?: string;
}

export interface FakeHubRequest {
  server: 'hub' | 'cdn';
  method: string;
  /** Decoded path, e.g. `/org/name/resolve/main/config.json`. */
  path: string;
  range: string | undefined;
  authorization: string | undefined;
  /** Set once the response is finished. */
  status?: number;
}

export interface FakeHub {
  url: string;
  cdnUrl: string;
  log: FakeHubRequest[];
  hubRequests(): FakeHubRequest[];
  /** File paths fetched from repo `id`'s resolve endpoint, in order. */
  fetched(id: string): string[];
  setRepo(id: string, spec: string | FakeRepoSpec): void;
  removeRepo(id: string): void;
  files(id: string): Map<string, Buffer> | undefined;
  commit(id: string): string | undefined;
  /** Cut the next response for this file after N bytes. */
  dropOnce: Map<string, number>;
  /** Files served with their last byte flipped. */
  corrupt: Set<string>;
  close(): Promise<void>;
}

export interface FakeHubOptions {
  /** `org/name` -> a folder, or a spec. */
  repos?: Record<string, string | FakeRepoSpec>;
  /** When set, hub requests without `Authorization: Bearer <token>` get 401. */
  token?: string;
}

export function startFakeHub(options?: FakeHubOptions): Promise<FakeHub>;
