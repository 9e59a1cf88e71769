/**
 * The live code form's model and how it becomes API calls: one POST on create; on edit a PATCH of
 * the code plus one call per added, changed or removed target (the API changes targets through
 * /v1/livecodes/{id}/targets) and, when the order shown is not the order the API will then hold,
 * one PUT /v1/livecodes/{id}/targets/order. Pure functions, unit-tested in draft.spec.ts.
 */
import type { LiveCodeInput, NewLiveCode, TargetInput } from '@/api/livecodes'
import type { LiveCode, Target } from '@/api/types'

export type Kind = 'group' | 'staff' | 'url'

export interface TargetDraft {
  key: string
  id?: string
  kind: Kind
  name: string
  /** base64 of a newly chosen image */
  image?: string
  /** object URL of the newly chosen image, for the preview */
  preview?: string
  image_url?: string | null
  url: string
  capacity: number | null
  /** ISO instant or null */
  expires_at: string | null
  weight: number
  enabled: boolean
  assigned?: number
}

export interface WindowDraft {
  days: number[]
  start: string
  end: string
}

export interface CodeDraft {
  name: string
  channel: string
  strategy: 'fill' | 'round_robin' | 'weighted'
  enabled: boolean
  warn_threshold: number | null
  tags: string[]
  windows: WindowDraft[]
  timezone: string
  welcome: string
  targets: TargetDraft[]
  fallback: TargetDraft | null
}

let seq = 0
export const newKey = (): string => `t${++seq}`

export function emptyTarget(kind: Kind = 'group'): TargetDraft {
  return {
    key: newKey(),
    kind,
    name: '',
    url: '',
    capacity: kind === 'group' ? 200 : null,
    expires_at: null,
    weight: 1,
    enabled: true,
  }
}

export function emptyDraft(timezone: string): CodeDraft {
  return {
    name: '',
    channel: '',
    strategy: 'fill',
    enabled: true,
    warn_threshold: null,
    tags: [],
    windows: [],
    timezone,
    welcome: '',
    targets: [emptyTarget('group')],
    fallback: null,
  }
}

export function targetFromApi(t: Target): TargetDraft {
  return {
    key: newKey(),
    id: t.id,
    kind: (t.kind ?? 'group') as Kind,
    name: t.name ?? '',
    image_url: t.image_url ?? null,
    url: t.url ?? '',
    capacity: t.capacity ?? null,
    expires_at: t.expires_at ?? null,
    weight: t.weight ?? 1,
    enabled: t.enabled ?? true,
    assigned: t.assigned ?? 0,
  }
}

export function draftFromCode(c: LiveCode): CodeDraft {
  return {
    name: c.name ?? '',
    channel: c.channel ?? '',
    strategy: (c.strategy ?? 'fill') as CodeDraft['strategy'],
    enabled: c.enabled ?? true,
    warn_threshold: c.warn_threshold ?? null,
    tags: [...(c.tags ?? [])],
    windows: ((c.windows ?? []) as WindowDraft[]).map((w) => ({
      days: [...(w.days ?? [1, 2, 3, 4, 5, 6, 7])],
      start: w.start ?? '00:00',
      end: w.end ?? '24:00',
    })),
    timezone: c.timezone ?? 'Asia/Shanghai',
    welcome: c.welcome?.text ?? '',
    targets: (c.targets ?? []).map(targetFromApi),
    fallback: c.fallback ? targetFromApi(c.fallback) : null,
  }
}

/** The TargetInput for a new target (everything that is set). */
export function targetBody(t: TargetDraft): TargetInput & { kind: Kind; name: string } {
  const body: TargetInput & { kind: Kind; name: string } = {
    kind: t.kind,
    name: t.name.trim(),
    capacity: t.capacity,
    expires_at: t.expires_at,
    enabled: t.enabled,
    weight: t.weight,
  }
  if (t.kind === 'url') body.url = t.url.trim()
  if (t.image) body.image = t.image
  return body
}

/** Only the fields of an existing target that changed. */
export function targetPatch(before: TargetDraft, after: TargetDraft): TargetInput | null {
  const patch: TargetInput = {}
  if (after.name.trim() !== before.name) patch.name = after.name.trim()
  if (after.capacity !== before.capacity) patch.capacity = after.capacity
  if (after.expires_at !== before.expires_at) patch.expires_at = after.expires_at
  if (after.weight !== before.weight) patch.weight = after.weight
  if (after.enabled !== before.enabled) patch.enabled = after.enabled
  if (after.kind === 'url' && after.url.trim() !== before.url) patch.url = after.url.trim()
  if (after.image) patch.image = after.image
  return Object.keys(patch).length ? patch : null
}

function codeFields(d: CodeDraft): LiveCodeInput {
  return {
    name: d.name.trim(),
    channel: d.channel.trim(),
    strategy: d.strategy,
    enabled: d.enabled,
    timezone: d.timezone,
    ...(d.warn_threshold !== null ? { warn_threshold: d.warn_threshold } : {}),
    tags: d.tags,
    windows: d.windows.length ? d.windows.map((w) => ({ ...w, days: [...w.days].sort() })) : null,
    welcome: d.welcome.trim() ? { text: d.welcome.trim() } : null,
  }
}

export function createBody(d: CodeDraft): NewLiveCode {
  return {
    ...codeFields(d),
    name: d.name.trim(),
    channel: d.channel.trim(),
    targets: d.targets.map(targetBody),
    fallback: d.fallback ? targetBody(d.fallback) : null,
  } as NewLiveCode
}

export type Step =
  | { op: 'patch-code'; body: LiveCodeInput }
  | { op: 'add'; index: number; body: TargetInput & { kind: Kind; name: string } }
  | { op: 'update'; index: number; id: string; body: TargetInput }
  | { op: 'delete'; id: string; name: string }
  /** put the targets in the order shown; the ids of added targets are known only once added */
  | { op: 'reorder' }

/** The calls that turn `before` (as loaded) into `after` (as edited). */
export function editSteps(before: CodeDraft, after: CodeDraft): Step[] {
  const body = codeFields(after)
  const fb = after.fallback
  const fbBefore = before.fallback
  if (!fb && fbBefore) body.fallback = null
  else if (fb && (!fbBefore || fb.id !== fbBefore.id || targetPatch(fbBefore, fb))) {
    // a changed fallback is replaced as a whole (the API has no fallback PATCH)
    body.fallback = targetBody(fb)
  }
  const steps: Step[] = [{ op: 'patch-code', body }]
  const keep = new Set(after.targets.map((t) => t.id).filter(Boolean))
  for (const t of before.targets) {
    if (t.id && !keep.has(t.id)) steps.push({ op: 'delete', id: t.id, name: t.name })
  }
  const byId = new Map(before.targets.map((t) => [t.id, t]))
  after.targets.forEach((t, index) => {
    const old = t.id ? byId.get(t.id) : undefined
    if (!old) steps.push({ op: 'add', index, body: targetBody(t) })
    else {
      const patch = targetPatch(old, t)
      if (patch) steps.push({ op: 'update', index, id: t.id!, body: patch })
    }
  })
  if (!sameOrder(apiOrderAfterSteps(before, after), after.targets)) steps.push({ op: 'reorder' })
  return steps
}

/** The API keeps saved targets in their order and appends added ones in the order they are sent. */
function apiOrderAfterSteps(before: CodeDraft, after: CodeDraft): TargetDraft[] {
  const keep = new Set(after.targets.map((t) => t.id).filter(Boolean))
  const byId = new Map(after.targets.filter((t) => t.id).map((t) => [t.id, t]))
  const kept = before.targets.filter((t) => t.id && keep.has(t.id)).map((t) => byId.get(t.id)!)
  return [...kept, ...after.targets.filter((t) => !t.id)]
}

function sameOrder(a: TargetDraft[], b: TargetDraft[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i])
}

/** The `target_ids` of the reorder call: every target shown, in the order shown. */
export function targetOrder(targets: TargetDraft[]): string[] {
  return targets.map((t) => t.id).filter((id): id is string => !!id)
}

/** Whether an item can move there (saved and new targets alike: the API reorders saved ones). */
export function canMove(targets: TargetDraft[], from: number, to: number): boolean {
  return from !== to && to >= 0 && to < targets.length && from >= 0 && from < targets.length
}

export function move<T>(list: T[], from: number, to: number): T[] {
  const copy = [...list]
  const [item] = copy.splice(from, 1)
  copy.splice(to, 0, item as T)
  return copy
}

const TARGET_FIELDS = new Set([
  'kind',
  'name',
  'image',
  'image_url',
  'url',
  'capacity',
  'expires_at',
  'weight',
  'enabled',
  'assigned',
])

/**
 * Where an API field error belongs in the form: `name`, `targets.2.image`, `fallback.url`, or
 * `targets` (a target field the API names without saying which target).
 */
export function errorPath(
  field: string,
  message: string,
  ctx: { targetIndex?: number; fallback?: boolean; targetCount: number },
): string {
  if (ctx.targetIndex !== undefined) return `targets.${ctx.targetIndex}.${field}`
  const m = /targets\[(\d+)\]/.exec(message) ?? /targets\[(\d+)\]/.exec(field)
  if (m) {
    const f = field.replace(/^targets\[\d+\]\.?/, '') || 'name'
    return `targets.${m[1]}.${f}`
  }
  if (/^fallback/.test(field) || /^fallback/.test(message))
    return `fallback.${field.replace(/^fallback\.?/, '') || 'name'}`
  if (TARGET_FIELDS.has(field) && field !== 'name' && field !== 'enabled') {
    if (ctx.fallback && ctx.targetCount === 0) return `fallback.${field}`
    if (ctx.targetCount === 1 && !ctx.fallback) return `targets.0.${field}`
    return 'targets'
  }
  return field
}
