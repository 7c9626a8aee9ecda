// The one HTTP client of the SPA: JSON over fetch, same-origin cookies, CSRF header on
// unsafe methods, `{code, message}` error bodies turned into ApiError.

export const API_BASE = '/api/v1'

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: any
  /** Seconds from a `Retry-After` header (429), if any. */
  readonly retryAfter: number | null
  /** The whole parsed error body (some answers carry extra fields). */
  readonly body: any

  constructor(status: number, code: string, message: string, details?: any, retryAfter?: number | null, body?: any) {
    super(message || code)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
    this.retryAfter = retryAfter ?? null
    this.body = body
  }
}

let csrfToken: string | null = null

/** Set from `Me.csrf_token` (login, setup, /auth/me). Null before login. */
export function setCsrfToken(token: string | null) {
  csrfToken = token
}

/** The header value unsafe requests carry (XHR uploads build their own request). */
export function csrfHeader(): string {
  return csrfToken || '1'
}

type GlobalHandler = (err: ApiError, path: string) => void
let globalHandler: GlobalHandler | null = null

/** Router-level reactions (401 → login, 409 setup_required → setup). */
export function onApiError(handler: GlobalHandler) {
  globalHandler = handler
}

export type Query = Record<string, string | number | boolean | null | undefined>

export interface RequestOptions {
  query?: Query
  body?: unknown
  form?: FormData
  /** Do not run the global 401/setup handler (e.g. the initial /auth/me probe). */
  silent?: boolean
  signal?: AbortSignal
}

export function buildUrl(path: string, query?: Query): string {
  let url = API_BASE + path
  if (query) {
    const params = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null || v === '') continue
      params.append(k, String(v))
    }
    const s = params.toString()
    if (s) url += '?' + s
  }
  return url
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

async function raw(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  let body: BodyInit | undefined
  if (opts.form) {
    body = opts.form
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.body)
  }
  if (UNSAFE.has(method)) {
    // Without a session the server accepts any non-empty value.
    headers['X-CSRF-Token'] = csrfToken || '1'
  }
  let res: Response
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    })
  } catch (e) {
    if ((e as any)?.name === 'AbortError') throw e
    throw new ApiError(0, 'network_error', String((e as any)?.message ?? e))
  }
  if (!res.ok) {
    const err = await toApiError(res)
    if (!opts.silent && globalHandler) globalHandler(err, path)
    throw err
  }
  return res
}

/** Upload progress: loaded / total bytes (total 0 when unknown). */
export type ProgressFn = (loaded: number, total: number) => void

export interface XhrUpload<T> {
  promise: Promise<T>
  abort: () => void
}

/**
 * multipart upload through XMLHttpRequest, for a progress bar (fetch has no upload progress).
 * Same error handling as the fetch client.
 */
export function xhrUpload<T>(path: string, query: Query | undefined, file: Blob, filename: string | undefined, onProgress?: ProgressFn): XhrUpload<T> {
  const xhr = new XMLHttpRequest()
  const promise = new Promise<T>((resolve, reject) => {
    const form = new FormData()
    if (filename) form.append('file', file, filename)
    else form.append('file', file)
    xhr.open('POST', buildUrl(path, query))
    xhr.withCredentials = true
    xhr.setRequestHeader('Accept', 'application/json')
    xhr.setRequestHeader('X-CSRF-Token', csrfHeader())
    if (onProgress) {
      xhr.upload.onprogress = (ev) => onProgress(ev.loaded, ev.lengthComputable ? ev.total : 0)
    }
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'Network error'))
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'Aborted'))
    xhr.onload = () => {
      const text = xhr.responseText
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve((text ? JSON.parse(text) : undefined) as T)
        } catch (e) {
          reject(new ApiError(xhr.status, 'bad_response', String(e)))
        }
        return
      }
      const ra = xhr.getResponseHeader('Retry-After')
      const res = new Response(text, { status: xhr.status, statusText: xhr.statusText, headers: ra ? { 'Retry-After': ra } : {} })
      toApiError(res).then((err) => {
        if (globalHandler) globalHandler(err, path)
        reject(err)
      }, reject)
    }
    xhr.send(form)
  })
  return { promise, abort: () => xhr.abort() }
}

async function toApiError(res: Response): Promise<ApiError> {
  const ra = res.headers.get('Retry-After')
  const retryAfter = ra !== null && ra !== '' && !isNaN(Number(ra)) ? Number(ra) : null
  let code = ''
  let message = ''
  let details: any
  let body: any
  try {
    const text = await res.text()
    if (text) {
      try {
        const j = JSON.parse(text)
        body = j
        code = typeof j.code === 'string' ? j.code : ''
        message = typeof j.message === 'string' ? j.message : ''
        details = j.details
      } catch {
        message = text.slice(0, 300)
      }
    }
  } catch {
    /* ignore */
  }
  if (!code) code = defaultCode(res.status)
  return new ApiError(res.status, code, message || res.statusText, details, retryAfter, body)
}

function defaultCode(status: number): string {
  switch (status) {
    case 400: return 'bad_request'
    case 401: return 'unauthorized'
    case 403: return 'forbidden'
    case 404: return 'not_found'
    case 409: return 'conflict'
    case 413: return 'payload_too_large'
    case 422: return 'validation_failed'
    case 429: return 'too_many_attempts'
    default: return status >= 500 ? 'internal' : 'http_error'
  }
}

async function json<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T
  const text = await res.text()
  if (!text) return undefined as T
  return JSON.parse(text) as T
}

export const http = {
  async get<T>(path: string, query?: Query, opts: RequestOptions = {}): Promise<T> {
    return json<T>(await raw('GET', path, { ...opts, query }))
  },
  async post<T>(path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    return json<T>(await raw('POST', path, { ...opts, body }))
  },
  async put<T>(path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    return json<T>(await raw('PUT', path, { ...opts, body }))
  },
  async patch<T>(path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    return json<T>(await raw('PATCH', path, { ...opts, body }))
  },
  async del<T = void>(path: string, opts: RequestOptions = {}): Promise<T> {
    return json<T>(await raw('DELETE', path, opts))
  },
  /** multipart/form-data upload with one part named `file`. */
  async upload<T>(method: 'POST' | 'PUT', path: string, file: Blob, filename?: string): Promise<T> {
    const form = new FormData()
    if (filename) form.append('file', file, filename)
    else form.append('file', file)
    return json<T>(await raw(method, path, { form }))
  },
  /** Fetch a binary answer (xlsx, zip) and hand it to the browser as a download. */
  async download(method: 'GET' | 'POST', path: string, query?: Query, fallbackName = 'download'): Promise<string> {
    const res = await raw(method, path, { query })
    const blob = await res.blob()
    const name = filenameFrom(res.headers.get('Content-Disposition')) || fallbackName
    saveBlob(blob, name)
    return name
  },
}

export function filenameFrom(cd: string | null): string | null {
  if (!cd) return null
  const star = /filename\*\s*=\s*(?:UTF-8'')?([^;]+)/i.exec(cd)
  if (star) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''))
    } catch {
      /* fall through */
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(cd)
  return plain ? plain[1].trim() : null
}

export function saveBlob(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.rel = 'noopener'
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
