/* Safe element builders: every value reaches the page as text or an attribute, never as markup
 * (no innerHTML anywhere), so a comment or a feature value cannot inject markup or script. */

const SVG_NS = "http://www.w3.org/2000/svg";

export const $ = (id) => document.getElementById(id);

/** An HTML element: `text` sets its text, `className` and `dataset` their properties, any other
 * prop an attribute (`true` as a bare attribute; `false`, null and undefined leave it out). */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else if (name === "className") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of [].concat(children)) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** An SVG element with these attributes and, optionally, this text. */
export function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== null) node.textContent = String(text);
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

export function show(node, visible) {
  node.hidden = !visible;
}

/** Show a message in `node`, or hide it when there is none. */
export function setMessage(node, message) {
  node.textContent = message || "";
  node.hidden = !message;
}
