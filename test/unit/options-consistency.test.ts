import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { OPTION_FLAGS, optionsFromFlags } from '../../src/cli/options-flags';
import { DEFAULT_OPTIONS, DEFAULT_PAIR_THRESHOLD, OPTION_KEYS, OptionsError, resolveOptions } from '../../src/scoring/options';

/** Options deliberately not exposed to users (internal memory bound). */
const INTERNAL = new Set(['maxLogitsFloats']);

describe('one option set, three surfaces', () => {
  type Section = { properties: Record<string, { markdownDescription?: string }> };
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { contributes: { configuration: Section | Section[] } };
  // The settings are grouped in sections (General, Model, Advanced search).
  const settings: Section['properties'] = Object.assign({}, ...[pkg.contributes.configuration].flat().map((c) => c.properties));

  it('every user-facing option has a VS Code setting quals.search.<key> with a description', () => {
    const exposed = OPTION_KEYS.filter((k) => !INTERNAL.has(k));
    const searchKeys = Object.keys(settings)
      .filter((k) => k.startsWith('quals.search.'))
      .map((k) => k.slice('quals.search.'.length));
    assert.deepEqual([...searchKeys].sort(), [...exposed].sort());
    for (const k of searchKeys) assert.ok(settings[`quals.search.${k}`]!.markdownDescription, `quals.search.${k} needs a markdownDescription`);
  });

  it('every user-facing option has a CLI flag', () => {
    const exposed = OPTION_KEYS.filter((k) => !INTERNAL.has(k));
    assert.deepEqual(Object.values(OPTION_FLAGS).sort(), [...exposed].sort());
  });

  it('CLI flag values become typed options: numbers parsed, choices passed through for validation', () => {
    assert.deepEqual(optionsFromFlags({ beams: '4', 'diversity-count': 'hamming', mode: 'reference' }), { numBeams: 4, diversityCount: 'hamming', mode: 'reference' });
    assert.equal(resolveOptions(optionsFromFlags({ 'diversity-count': 'hamming', beams: '4', groups: '4' })).diversityCount, 'hamming');
  });

  it('the VS Code threshold setting defaults to the engine\'s pair threshold', () => {
    assert.equal((settings['quals.threshold'] as { default?: number }).default, DEFAULT_PAIR_THRESHOLD);
  });

  it('defaults are the reference settings', () => {
    assert.equal(DEFAULT_OPTIONS.numBeams, 60);
    assert.equal(DEFAULT_OPTIONS.numBeamGroups, 60);
    assert.equal(DEFAULT_OPTIONS.diversityStrength, 0.5);
    assert.equal(DEFAULT_OPTIONS.minLength, 8);
    assert.equal(DEFAULT_OPTIONS.maxLength, 60);
    assert.equal(DEFAULT_OPTIONS.lengthPenalty, 1);
    assert.equal(DEFAULT_OPTIONS.maxPairs, 10);
    assert.equal(DEFAULT_OPTIONS.mode, 'paper');
  });

  it('merges layers in order, later wins, undefined ignored', () => {
    const o = resolveOptions({ minLength: 3, numBeams: 10, numBeamGroups: 5 }, { minLength: 4, numBeams: undefined });
    assert.equal(o.minLength, 4);
    assert.equal(o.numBeams, 10);
  });

  it('rejects settings that cannot work, with a message naming the option', () => {
    assert.throws(() => resolveOptions({ numBeams: 10, numBeamGroups: 3 }), (e: unknown) => e instanceof OptionsError && /multiple of numBeamGroups/.test(e.message));
    assert.throws(() => resolveOptions({ minLength: 70 }), /minLength/);
    assert.throws(() => resolveOptions({ mode: 'fast' as 'paper' }), /mode/);
    assert.throws(() => resolveOptions({ numBeams: 0 }), /numBeams/);
    assert.throws(() => resolveOptions({ diversityCount: 'proposals' as 'fairseq' }), /diversityCount must be "fairseq" or "hamming"/);
  });
});
