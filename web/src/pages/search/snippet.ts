// Search snippets are server HTML with only <b>…</b> (everything else escaped). Before v-html we
// rebuild them from a parsed, inert document keeping text and <b> only, so a server mistake can
// never inject markup.

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c)
}

function walk(node: Node): string {
  let out = ''
  node.childNodes.forEach((child) => {
    if (child.nodeType === Node.TEXT_NODE) out += esc(child.textContent ?? '')
    else if (child.nodeType === Node.ELEMENT_NODE) {
      const inner = walk(child)
      out += (child as Element).tagName === 'B' ? `<b>${inner}</b>` : inner
    }
  })
  return out
}

export function safeSnippet(html: string): string {
  if (!html) return ''
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html')
  return walk(doc.body)
}
