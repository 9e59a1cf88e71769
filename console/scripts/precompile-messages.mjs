// Vite plugin: compiles the console's vue-i18n messages at build time, so the browser gets ready
// message ASTs and neither downloads vue-i18n's message compiler nor runs it on every first t() of
// a key (on a slow phone, a good part of a screen's first render). vite.config.ts defines
// __INTLIFY_DROP_MESSAGE_COMPILER__ so the compiler leaves the bundle.
//
// Applies to src/i18n/<locale>.ts and src/views/<screen>/messages.ts: every string that is the
// value of an object property becomes the AST vue-i18n's own compiler (JIT mode) makes of it.
// Strings inside arrays stay strings (they are read with tm(), never through t()). A message that
// does not compile fails the build.
import { baseCompile } from '@intlify/message-compiler'

export const MESSAGE_FILES = /\/src\/(i18n\/[A-Za-z-]+|views\/[^/]+\/messages)\.ts$/

/** The AST of one message, as vue-i18n compiles it at run time (minified). */
export function compileMessage(source, where = '') {
  const errors = []
  const { ast } = baseCompile(source, {
    jit: true,
    minify: true,
    location: false,
    onError: (e) => errors.push(e.message),
  })
  if (errors.length) throw new Error(`i18n message ${where} ${JSON.stringify(source)}: ${errors}`)
  // a static message (the most) is read as it is; one with parts is cached by its source
  return ast.b?.s !== undefined ? ast : { ...ast, cacheKey: source }
}

function walk(node, visit) {
  if (!node || typeof node.type !== 'string') return
  visit(node)
  for (const [k, v] of Object.entries(node)) {
    if (k === 'type' || k === 'start' || k === 'end') continue
    if (Array.isArray(v)) v.forEach((n) => walk(n, visit))
    else if (v && typeof v === 'object') walk(v, visit)
  }
}

export default function precompileMessages() {
  return {
    name: 'yutang:precompile-messages',
    enforce: 'post', // after TypeScript has become JavaScript
    transform(code, id) {
      if (!MESSAGE_FILES.test(id.split('?')[0]) || id.includes('/src/i18n/index.ts')) return null
      const edits = []
      walk(this.parse(code), (node) => {
        if (node.type !== 'Property' || node.computed) return
        const v = node.value
        const text =
          v.type === 'Literal' && typeof v.value === 'string'
            ? v.value
            : v.type === 'TemplateLiteral' && v.expressions.length === 0
              ? v.quasis[0].value.cooked
              : null
        if (text === null) return
        const key = node.key.name ?? node.key.value
        edits.push([v.start, v.end, JSON.stringify(compileMessage(text, `${id}:${key}`))])
      })
      let out = code
      for (const [start, end, text] of edits.sort((a, b) => b[0] - a[0]))
        out = out.slice(0, start) + text + out.slice(end)
      return { code: out, map: null }
    },
  }
}
