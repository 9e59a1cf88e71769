import type { Plugin } from 'vite'

export const MESSAGE_FILES: RegExp
/** The AST vue-i18n's compiler makes of one message; throws when the message does not compile. */
export function compileMessage(source: string, where?: string): Record<string, unknown>
export default function precompileMessages(): Plugin
