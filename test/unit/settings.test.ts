import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OPTION_KEYS } from '../../src/scoring/options';
import { DEFAULT_SETTINGS, parseSettings, SEARCH_SETTING_KEYS } from '../../src/server/settings';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
// The settings are grouped in sections (General, Model, Advanced search).
const props: Record<string, { default: unknown; markdownDescription?: string }> = Object.assign(
  {},
  ...[pkg.contributes.configuration].flat().map((c: { properties: object }) => c.properties),
);

test('every setting in package.json has a default and a markdownDescription', () => {
  for (const [key, p] of Object.entries(props)) {
    assert.ok('default' in p, `${key} has no default`);
    assert.ok(p.markdownDescription && p.markdownDescription.length > 10, `${key} has no markdownDescription`);
  }
});

test('package.json defaults match the server defaults', () => {
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof typeof DEFAULT_SETTINGS)[]) {
    if (key === 'search') continue;
    assert.deepEqual(props[`quals.${key}`]?.default, DEFAULT_SETTINGS[key], `quals.${key}`);
  }
});

test('the quals.search.* settings are engine options, none missing from package.json', () => {
  const declared = Object.keys(props).filter((k) => k.startsWith('quals.search.')).map((k) => k.slice('quals.search.'.length)).sort();
  assert.deepEqual(declared, [...SEARCH_SETTING_KEYS].sort());
  for (const k of SEARCH_SETTING_KEYS) assert.ok((OPTION_KEYS as string[]).includes(k), k);
});

test('malformed settings fall back to defaults; unset search options stay unset', () => {
  const s = parseSettings({ checkOn: 'sometimes', debounceMs: -5, threshold: 'x', pairs: [{ summary: 'a' }, { summary: '*.s', source: '$1' }], search: { numBeams: 8, mode: 'bogus', maxPairs: null } });
  assert.equal(s.checkOn, 'save');
  assert.equal(s.debounceMs, DEFAULT_SETTINGS.debounceMs);
  assert.equal(s.threshold, DEFAULT_SETTINGS.threshold);
  assert.deepEqual(s.pairs, [{ summary: '*.s', source: '$1' }]);
  assert.deepEqual(s.search, { numBeams: 8 });
  assert.deepEqual(parseSettings(undefined), { ...DEFAULT_SETTINGS });
  assert.deepEqual(parseSettings({ search: { diversityCount: 'hamming', mode: 'reference' } }).search, { diversityCount: 'hamming', mode: 'reference' });
  assert.deepEqual(parseSettings({ search: { diversityCount: 'most' } }).search, {});
});
