/**
 * Synthetic news corpus for the tiny QAGen model: short texts over a closed vocabulary (people,
 * teams, cities, numbers, dates), the question-answer pairs each fact supports, and one-fact
 * corruptions for the held-out evaluation set. Everything is driven by a seeded PRNG, so the same
 * seed yields the same corpus on every machine.
 */
import { mulberry32 } from '../../src/modelgen/random-bart';
import { buildTokenizer, QAGEN_SEP_TOKEN } from '../../src/modelgen/tokenizer-builder';

export { mulberry32 };

export type Rng = () => number;

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => String(from + i));

export const POOLS = {
  person: ['Fury', 'Klitschko', 'Joshua', 'Wilder', 'Usyk', 'Parker', 'Ruiz', 'Whyte', 'Chisora', 'Haye', 'Smith', 'Jones',
    'Brown', 'Taylor', 'Wilson', 'Evans', 'Thomas', 'Walker', 'Wright', 'Hall', 'Wood', 'Clarke', 'Hughes', 'Edwards',
    'Turner', 'Hill', 'Moore', 'Martin', 'Jackson', 'Harris', 'Lewis', 'Young', 'King', 'Baker', 'Adams', 'Nelson',
    'Carter', 'Mitchell', 'Roberts', 'Campbell', 'Murphy', 'Cooper', 'Ward', 'Morris', 'Bell', 'Kelly', 'Howard', 'Reed',
    'Price', 'Bennett', 'Russell', 'Foster', 'Murray', 'Hunt', 'Mills', 'Garcia', 'Silva', 'Rossi', 'Novak', 'Petrov'],
  team: ['Arsenal', 'Chelsea', 'Everton', 'Fulham', 'Brentford', 'Burnley', 'Watford', 'Juventus', 'Barcelona', 'Sevilla',
    'Lazio', 'Ajax', 'Benfica', 'Celtic', 'Rangers', 'Wolves', 'Brighton', 'Bayern', 'Feyenoord', 'Galatasaray',
    'Fiorentina', 'Atalanta', 'Villarreal', 'Monaco'],
  city: ['Dusseldorf', 'Paris', 'London', 'Berlin', 'Madrid', 'Rome', 'Vienna', 'Prague', 'Warsaw', 'Lisbon', 'Dublin',
    'Oslo', 'Stockholm', 'Helsinki', 'Athens', 'Budapest', 'Munich', 'Hamburg', 'Cologne', 'Milan', 'Lyon', 'Marseille',
    'Geneva', 'Zurich', 'Brussels', 'Rotterdam', 'Copenhagen', 'Krakow', 'Tokyo', 'Boston', 'Chicago', 'Denver', 'Dallas',
    'Toronto', 'Sydney', 'Cairo', 'Nairobi', 'Lagos'],
  day: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'],
  month: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November',
    'December'],
  season: range(2001, 24),
  birth: range(1970, 30),
  num: range(2, 59),
} as const;
export type Pool = keyof typeof POOLS;
/** Pools whose corruption is a "wrong number/date" rather than an entity error. */
export const NUMERIC_POOLS: ReadonlySet<Pool> = new Set(['num', 'season', 'birth', 'day', 'month']);
const ENTITY_POOLS: ReadonlySet<Pool> = new Set(['person', 'team', 'city']);

/**
 * One fact: a relation name and its slot values (slot name -> surface word).
 * Questions are kept short (at most 6 tokens before the separator): the reference search stops
 * once it has numBeams finished sequences, so long QA pairs would rarely be generated at all.
 */
export interface Fact {
  rel: RelName;
  slots: Record<string, string>;
}
type Question = [question: (s: Record<string, string>) => string, answer: (s: Record<string, string>) => string];
interface Relation {
  slots: Record<string, Pool>;
  text: (s: Record<string, string>) => string;
  qs: Question[];
}

const slot = (k: string) => (s: Record<string, string>) => s[k]!;

export const RELATIONS = {
  beat: {
    slots: { a: 'person', b: 'person', c: 'city', d: 'day' },
    text: (s) => `${s.a} beat ${s.b} in ${s.c} on ${s.d}.`,
    qs: [[(s) => `Who beat ${s.b}?`, slot('a')], [(s) => `Who did ${s.a} beat?`, slot('b')],
      [(s) => `Where did ${s.a} fight?`, slot('c')], [(s) => `When did ${s.b} fight?`, slot('d')]],
  },
  signed: {
    slots: { t: 'team', a: 'person', n: 'num' },
    text: (s) => `${s.t} signed ${s.a} for ${s.n} million.`,
    qs: [[(s) => `Which team signed ${s.a}?`, slot('t')], [(s) => `Who did ${s.t} sign?`, slot('a')],
      [(s) => `What did ${s.a} cost?`, (s) => `${s.n} million`]],
  },
  visited: {
    slots: { a: 'person', c: 'city', m: 'month' },
    text: (s) => `${s.a} visited ${s.c} in ${s.m}.`,
    qs: [[(s) => `Who visited ${s.c}?`, slot('a')], [(s) => `Which city did ${s.a} visit?`, slot('c')],
      [(s) => `When did ${s.a} visit?`, slot('m')]],
  },
  won: {
    slots: { t: 'team', n: 'num', y: 'season' },
    text: (s) => `${s.t} won ${s.n} games in ${s.y}.`,
    qs: [[(s) => `How many did ${s.t} win?`, slot('n')], [(s) => `Which team won ${s.n} games?`, slot('t')],
      [(s) => `When did ${s.t} win?`, slot('y')]],
  },
  scored: {
    slots: { a: 'person', n: 'num', t: 'team' },
    text: (s) => `${s.a} scored ${s.n} goals for ${s.t}.`,
    qs: [[(s) => `How many did ${s.a} score?`, slot('n')], [(s) => `Who scored for ${s.t}?`, slot('a')],
      [(s) => `Who did ${s.a} score for?`, slot('t')]],
  },
  born: {
    slots: { a: 'person', c: 'city', y: 'birth' },
    text: (s) => `${s.a} was born in ${s.c} in ${s.y}.`,
    qs: [[(s) => `Where was ${s.a} born?`, slot('c')], [(s) => `Who was born in ${s.c}?`, slot('a')],
      [(s) => `When was ${s.a} born?`, slot('y')]],
  },
  joined: {
    slots: { a: 'person', t: 'team', m: 'month' },
    text: (s) => `${s.a} joined ${s.t} in ${s.m}.`,
    qs: [[(s) => `Which team did ${s.a} join?`, slot('t')], [(s) => `Who joined ${s.t}?`, slot('a')],
      [(s) => `When did ${s.a} join?`, slot('m')]],
  },
} satisfies Record<string, Relation>;
export type RelName = keyof typeof RELATIONS;
const REL_NAMES = Object.keys(RELATIONS) as RelName[];
const rel = (f: Fact): Relation => RELATIONS[f.rel];

/** Sentences with no fact in them: the model must learn to ignore them. */
export const FILLERS = ['The crowd was loud.', 'Fans waited for hours.', 'Tickets sold out quickly.', 'The weather was cold.',
  'The match was shown live.', 'Officials said little.', 'The mood was tense.'];

/** Every surface word the texts and questions can contain (each becomes one tokenizer token). */
export function allWords(): string[] {
  const words = new Set<string>();
  const add = (text: string) => text.split(/[^A-Za-z0-9]+/).filter(Boolean).forEach((w) => words.add(w));
  for (const pool of Object.values(POOLS)) pool.forEach(add);
  FILLERS.forEach(add);
  // Render every template with placeholder slots to collect its fixed words.
  for (const r of Object.values(RELATIONS) as Relation[]) {
    const ph = Object.fromEntries(Object.keys(r.slots).map((k) => [k, 'X']));
    add(r.text(ph));
    for (const [q, a] of r.qs) add(`${q(ph)} ${a(ph)}`);
  }
  words.delete('X');
  return [...words].sort();
}

export const pick = <T>(rng: Rng, a: readonly T[]): T => a[Math.floor(rng() * a.length)]!;
export function shuffle<T>(rng: Rng, a: readonly T[]): T[] {
  const out = a.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export interface Text {
  facts: Fact[];
  text: string;
}

/** A text of nFacts facts and nFill filler sentences; an entity appears in at most one fact. */
export function sampleText(rng: Rng, nFacts: number, nFill = 0): Text {
  const used = new Map<Pool, Set<string>>();
  const draw = (pool: Pool): string => {
    const u = used.get(pool) ?? used.set(pool, new Set()).get(pool)!;
    let x: string;
    do x = pick(rng, POOLS[pool]);
    while (u.has(x));
    u.add(x);
    return x;
  };
  const facts: Fact[] = [];
  for (let i = 0; i < nFacts; i++) {
    const name = pick(rng, REL_NAMES);
    const slots: Record<string, string> = {};
    for (const [k, pool] of Object.entries(RELATIONS[name].slots) as [string, Pool][]) slots[k] = draw(pool);
    facts.push({ rel: name, slots });
  }
  const sentences = facts.map(factText);
  for (let i = 0; i < nFill; i++) sentences.splice(Math.floor(rng() * (sentences.length + 1)), 0, pick(rng, FILLERS));
  return { facts, text: sentences.join(' ') };
}

export const factText = (f: Fact): string => rel(f).text(f.slots);
export const render = (facts: Fact[]): string => facts.map(factText).join(' ');

export interface QaPair {
  question: string;
  answer: string;
}
export const qaPairs = (f: Fact): QaPair[] => rel(f).qs.map(([q, a]) => ({ question: q(f.slots), answer: a(f.slots) }));

export type CorruptionKind = 'swap' | 'number' | 'invented';
export interface Corruption {
  fact: Fact;
  /** The slot value that was changed: what the source says ... */
  original: string;
  /** ... and what the corrupted summary says instead. */
  corrupted: string;
}

/**
 * One-slot corruptions of fact f of source text src: `swap` puts an entity from elsewhere in the
 * source into the slot, `number` a number/date the
 * source does not contain, `invented` an entity the source never mentions. Missing kinds could
 * not be built for this fact.
 */
export function corrupt(rng: Rng, f: Fact, src: Text): Partial<Record<CorruptionKind, Corruption>> {
  const slots = Object.entries(rel(f).slots) as [string, Pool][];
  const inSource = (pool: Pool) =>
    new Set(src.facts.flatMap((g) => (Object.entries(rel(g).slots) as [string, Pool][]).filter(([, p]) => p === pool).map(([k]) => g.slots[k]!)));
  const change = (k: string, value: string): Corruption => ({ fact: { rel: f.rel, slots: { ...f.slots, [k]: value } }, original: f.slots[k]!, corrupted: value });
  const out: Partial<Record<CorruptionKind, Corruption>> = {};
  for (const [k, pool] of shuffle(rng, slots)) {
    const others = [...inSource(pool)].filter((x) => !Object.values(f.slots).includes(x));
    if (ENTITY_POOLS.has(pool) && others.length) {
      out.swap = change(k, pick(rng, others));
      break;
    }
  }
  for (const [k, pool] of shuffle(rng, slots)) {
    if (NUMERIC_POOLS.has(pool)) {
      const s = inSource(pool);
      out.number = change(k, pick(rng, POOLS[pool].filter((x) => !s.has(x))));
      break;
    }
  }
  for (const [k, pool] of shuffle(rng, slots)) {
    if (ENTITY_POOLS.has(pool)) {
      const s = inSource(pool);
      out.invented = change(k, pick(rng, POOLS[pool].filter((x) => !s.has(x))));
      break;
    }
  }
  return out;
}

/** One held-out case: a source, its faithful summary, and the same summary with one fact corrupted per kind. */
export interface EvalCase {
  source: string;
  faithful: string;
  corrupted: Record<CorruptionKind, { summary: string; original: string; corrupted: string }>;
}

/** The held-out evaluation set; its seed is far from the training seed's stream. */
export function evalSet(seed: number, count: number): EvalCase[] {
  const rng = mulberry32(seed + 1000003);
  const out: EvalCase[] = [];
  while (out.length < count) {
    const src = sampleText(rng, 4 + Math.floor(rng() * 2), 1 + Math.floor(rng() * 2));
    const k = out.length % 2 === 0 ? 1 : 2; // summaries of one or two facts
    const facts = src.facts.slice(0, k);
    const c = corrupt(rng, facts[0]!, src);
    if (!c.swap || !c.number || !c.invented) continue;
    const summary = (kind: CorruptionKind) => ({
      summary: render([c[kind]!.fact, ...facts.slice(1)]),
      original: c[kind]!.original,
      corrupted: c[kind]!.corrupted,
    });
    out.push({ source: src.text, faithful: render(facts), corrupted: { swap: summary('swap'), number: summary('number'), invented: summary('invented') } });
  }
  return out;
}

/** Tokenizer files for the closed vocabulary (deterministic: no randomness involved). */
export function tinyTokenizer() {
  return buildTokenizer({ words: allWords(), extraTokens: [QAGEN_SEP_TOKEN] });
}
