/**
 * Turns virtual nodes into real DOM. Text goes through text nodes and attributes through
 * setAttribute (never innerHTML); inline styles go through CSSOM, which a CSP without
 * 'unsafe-inline' allows.
 */
import type { VChild } from './vnode';

export function toDom(node: VChild, doc: Document = document): Node {
  if (typeof node === 'string') return doc.createTextNode(node);
  const el = doc.createElement(node.tag);
  for (const [k, v] of Object.entries(node.attrs)) {
    if (/^on/i.test(k)) throw new Error(`refusing event handler attribute ${k}`);
    el.setAttribute(k, v);
  }
  for (const [k, v] of Object.entries(node.style)) el.style.setProperty(k, v);
  for (const c of node.children) el.appendChild(toDom(c, doc));
  return el;
}

/** What each region last rendered, so identical re-renders leave the DOM (and focus) alone. */
const rendered = new WeakMap<HTMLElement, string>();

/**
 * Replaces the content of `host` with `node` unless it renders the same as last time, keeping
 * keyboard focus on the element with the same `data-focus-key` so a re-render does not throw the
 * user out of the list.
 */
export function patchRegion(host: HTMLElement, node: VChild | null): void {
  const key = node === null ? '' : JSON.stringify(node);
  if (rendered.get(host) === key) return;
  const active = host.ownerDocument.activeElement;
  const focusKey = active instanceof HTMLElement && host.contains(active) ? active.closest<HTMLElement>('[data-focus-key]')?.dataset.focusKey : undefined;
  host.replaceChildren(...(node === null ? [] : [toDom(node, host.ownerDocument)]));
  rendered.set(host, key);
  host.hidden = node === null;
  if (focusKey) host.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
}
