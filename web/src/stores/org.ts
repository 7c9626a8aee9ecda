import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api } from '@/api'
import type { CustomField, Department, Id, Member, Tag } from '@/api/types'

export interface DeptNode {
  id: Id
  label: string
  value: Id
  dept: Department
  children: DeptNode[]
}

/** Directory data shared by the directory, profile and admin pages. */
export const useOrgStore = defineStore('org', () => {
  const departments = ref<Department[]>([])
  const deptLoaded = ref(false)
  const tags = ref<Tag[]>([])
  const customFields = ref<CustomField[]>([])
  const members = ref<Record<Id, Member>>({})

  async function loadDepartments(force = false) {
    if (deptLoaded.value && !force) return departments.value
    const r = await api.departments()
    departments.value = r.items
    deptLoaded.value = true
    return departments.value
  }

  const byId = computed(() => {
    const m = new Map<Id, Department>()
    for (const d of departments.value) m.set(d.id, d)
    return m
  })

  const root = computed(() => departments.value.find((d) => d.parent_id === 0) ?? null)

  function childrenOf(id: Id): Department[] {
    return departments.value
      .filter((d) => d.parent_id === id && d.id !== id)
      .sort((a, b) => a.order - b.order || a.id - b.id)
  }

  const tree = computed<DeptNode[]>(() => {
    const kids = new Map<Id, Department[]>()
    for (const d of departments.value) {
      if (d.parent_id === 0) continue
      const arr = kids.get(d.parent_id) ?? []
      arr.push(d)
      kids.set(d.parent_id, arr)
    }
    for (const arr of kids.values()) arr.sort((a, b) => a.order - b.order || a.id - b.id)
    const build = (d: Department, seen: Set<Id>): DeptNode => {
      seen.add(d.id)
      return {
        id: d.id,
        value: d.id,
        label: d.name,
        dept: d,
        children: (kids.get(d.id) ?? []).filter((c) => !seen.has(c.id)).map((c) => build(c, seen)),
      }
    }
    const seen = new Set<Id>()
    const tops = departments.value
      .filter((d) => d.parent_id === 0 || !byId.value.has(d.parent_id))
      .sort((a, b) => a.order - b.order || a.id - b.id)
    return tops.map((d) => build(d, seen))
  })

  function deptName(id: Id): string {
    return byId.value.get(id)?.name ?? `#${id}`
  }

  /** "研发部 / 后端组" (without the root). */
  function deptPath(id: Id): string {
    const parts: string[] = []
    let cur = byId.value.get(id)
    const guard = new Set<Id>()
    while (cur && !guard.has(cur.id)) {
      guard.add(cur.id)
      if (cur.parent_id === 0 && parts.length) break
      parts.unshift(cur.name)
      cur = byId.value.get(cur.parent_id)
    }
    return parts.join(' / ')
  }

  /** ids of `id` and all of its descendants. */
  function subtreeIds(id: Id): Set<Id> {
    const out = new Set<Id>([id])
    let grew = true
    while (grew) {
      grew = false
      for (const d of departments.value) {
        if (!out.has(d.id) && out.has(d.parent_id)) {
          out.add(d.id)
          grew = true
        }
      }
    }
    return out
  }

  async function loadTags(force = false) {
    if (tags.value.length && !force) return tags.value
    tags.value = (await api.tags()).items
    return tags.value
  }

  async function loadCustomFields(force = false) {
    if (customFields.value.length && !force) return customFields.value
    customFields.value = (await api.customFields()).items
    return customFields.value
  }

  function remember(list: Member[]) {
    for (const m of list) members.value[m.id] = m
  }

  /** Fetch members not yet cached (for supervisor/leader names). */
  async function ensureMembers(ids: Id[]): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !members.value[id])
    await Promise.all(
      missing.map(async (id) => {
        try {
          members.value[id] = await api.member(id)
        } catch {
          /* invisible or gone */
        }
      }),
    )
  }

  function memberName(id: Id): string {
    return members.value[id]?.name ?? `#${id}`
  }

  function tagName(id: Id): string {
    return tags.value.find((t) => t.id === id)?.name ?? `#${id}`
  }

  return {
    departments, deptLoaded, tags, customFields, members, loadDepartments, byId, root, childrenOf, tree,
    deptName, deptPath, subtreeIds, loadTags, loadCustomFields, remember, ensureMembers, memberName, tagName,
  }
})
