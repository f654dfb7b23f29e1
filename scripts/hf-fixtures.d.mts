/** Rebuilds the bart-a reference binaries from test/fixtures/hf-reference/bart-a/packed/ when missing or stale. */
export function ensureHfFixtures(): void;
