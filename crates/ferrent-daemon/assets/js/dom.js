// Small DOM helpers. Text from the daemon (names, paths, tracker messages) only ever
// goes into text nodes, never into HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Creates an element: h('td', {class: 'num', text: '4 MiB'}, child, ...). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An icon from the sprite in index.html. */
export function icon(name) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS(SVG_NS, 'use');
  use.setAttribute('href', `#i-${name}`);
  svg.append(use);
  return svg;
}

/** Points an existing <svg><use></svg> at another icon. */
export function setIcon(svg, name) {
  svg.querySelector('use')?.setAttribute('href', `#i-${name}`);
}

/** An icon-only button with a tooltip and an accessible name. */
export function iconButton(name, label, onClick, extraClass = '') {
  return h('button', {
    type: 'button', class: `icon-btn small ${extraClass}`.trim(), title: label, 'aria-label': label,
    onclick: (event) => { event.stopPropagation(); onClick(event); },
  }, icon(name));
}

/** A progress bar; `fraction` from 0 to 1. */
export function bar(fraction, state) {
  const fill = h('i');
  const el = h('div', { class: 'bar', dataset: { state: state || '' } }, fill);
  setBar(el, fraction, state);
  return el;
}

/** Updates a bar made by `bar` (or the detail view's). */
export function setBar(el, fraction, state) {
  const fill = el.firstElementChild;
  const percent = `${Math.max(0, Math.min(100, fraction * 100)).toFixed(2)}%`;
  if (fill.style.getPropertyValue('--p') !== percent) fill.style.setProperty('--p', percent);
  if (state !== undefined && el.dataset.state !== state) el.dataset.state = state;
}

/** Sets text only when it changed (keeps selections and avoids layout work). */
export function setText(el, text) {
  const value = String(text);
  if (el.textContent !== value) el.textContent = value;
}

/** Removes every child. */
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
}

/** `document.getElementById`, failing loudly when the page and the script disagree. */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing element #${id}`);
  return el;
}
