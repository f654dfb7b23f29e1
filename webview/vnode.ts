/**
 * A tiny virtual node structure: the explorer's render functions return these, the webview turns
 * them into DOM (dom.ts) and the HTML report serialises them (toHtml). Text is always a text
 * child, never markup, so document and model text cannot inject HTML on either path.
 */

export interface VElement {
  tag: string;
  /** Attribute names come from code; values may carry document text and are escaped / set as attributes. */
  attrs: Record<string, string>;
  /** Inline style properties (set through CSSOM in the webview, so the CSP needs no 'unsafe-inline'). */
  style: Record<string, string>;
  children: VChild[];
}

export type VChild = VElement | string;

type AttrValue = string | number | boolean | null | undefined;

/** Builds an element; false/null/undefined attributes are omitted, `true` becomes an empty attribute. */
export function h(
  tag: string,
  attrs: Record<string, AttrValue> = {},
  children: (VChild | null | undefined | false)[] = [],
  style: Record<string, string> = {},
): VElement {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    out[k] = v === true ? '' : String(v);
  }
  return { tag, attrs: out, style, children: children.filter((c): c is VChild => c !== null && c !== undefined && c !== false) };
}

/** All text inside a node, concatenated (for tests and accessible names). */
export function textOf(node: VChild): string {
  return typeof node === 'string' ? node : node.children.map(textOf).join('');
}

/** Depth-first search for elements matching a predicate. */
export function findAll(node: VChild, pred: (el: VElement) => boolean): VElement[] {
  if (typeof node === 'string') return [];
  const here = pred(node) ? [node] : [];
  return here.concat(node.children.flatMap((c) => findAll(c, pred)));
}

/** Elements whose class list contains `cls`. */
export function byClass(node: VChild, cls: string): VElement[] {
  return findAll(node, (el) => (el.attrs.class ?? '').split(/\s+/).includes(cls));
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML text content and double-quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const VOID = new Set(['br', 'hr', 'img', 'input', 'meta', 'link', 'col', 'wbr']);
const SAFE_NAME = /^[a-zA-Z][a-zA-Z0-9-]*$/;

/** Serialises a node to HTML; every text and attribute value is escaped. */
export function toHtml(node: VChild): string {
  if (typeof node === 'string') return escapeHtml(node);
  if (!SAFE_NAME.test(node.tag)) throw new Error(`invalid tag name ${node.tag}`);
  let attrs = '';
  for (const [k, v] of Object.entries(node.attrs)) {
    if (!SAFE_NAME.test(k) || /^on/i.test(k)) throw new Error(`refusing attribute ${k}`);
    attrs += v === '' ? ` ${k}` : ` ${k}="${escapeHtml(v)}"`;
  }
  const style = Object.entries(node.style)
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ');
  if (style) attrs += ` style="${escapeHtml(style)}"`;
  if (VOID.has(node.tag)) return `<${node.tag}${attrs}>`;
  return `<${node.tag}${attrs}>${node.children.map(toHtml).join('')}</${node.tag}>`;
}
