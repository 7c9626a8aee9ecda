// Light code highlighting for text previews: highlight.js core with a handful of languages
// (keeps the lazy chunk small). Output is escaped by highlight.js itself.
import hljs from 'highlight.js/lib/core'
import bash from 'highlight.js/lib/languages/bash'
import css from 'highlight.js/lib/languages/css'
import java from 'highlight.js/lib/languages/java'
import javascript from 'highlight.js/lib/languages/javascript'
import json from 'highlight.js/lib/languages/json'
import markdown from 'highlight.js/lib/languages/markdown'
import python from 'highlight.js/lib/languages/python'
import rust from 'highlight.js/lib/languages/rust'
import sql from 'highlight.js/lib/languages/sql'
import typescript from 'highlight.js/lib/languages/typescript'
import xml from 'highlight.js/lib/languages/xml'
import yaml from 'highlight.js/lib/languages/yaml'
import go from 'highlight.js/lib/languages/go'

const LANGS: Record<string, any> = { bash, css, java, javascript, json, markdown, python, rust, sql, typescript, xml, yaml, go }
for (const [name, lang] of Object.entries(LANGS)) hljs.registerLanguage(name, lang)

const BY_EXT: Record<string, string> = {
  sh: 'bash', bash: 'bash', css: 'css', java: 'java', js: 'javascript', mjs: 'javascript', json: 'json',
  md: 'markdown', markdown: 'markdown', py: 'python', rs: 'rust', sql: 'sql', ts: 'typescript', tsx: 'typescript',
  vue: 'xml', html: 'xml', xml: 'xml', svg: 'xml', yml: 'yaml', yaml: 'yaml', go: 'go', toml: 'yaml',
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** HTML for `text`: highlighted when the language (server hint or file extension) is known. */
export function highlight(text: string, language: string | undefined, filename: string): string {
  const ext = filename.includes('.') ? filename.split('.').pop()!.toLowerCase() : ''
  const lang = [language?.toLowerCase(), BY_EXT[language?.toLowerCase() ?? ''], BY_EXT[ext]].find((l) => l && hljs.getLanguage(l))
  if (!lang || text.length > 300_000) return escape(text)
  try {
    return hljs.highlight(text, { language: lang, ignoreIllegals: true }).value
  } catch {
    return escape(text)
  }
}
