import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

async function waitHealthy(url: string, child: ChildProcess, ms: number) {
  const until = Date.now() + ms
  let last = ''
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`officebox exited early with code ${child.exitCode}`)
    try {
      const r = await fetch(url + '/healthz')
      if (r.ok) return
      last = `HTTP ${r.status}`
    } catch (e) {
      last = String(e)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`officebox did not become healthy at ${url}: ${last}`)
}

/**
 * Starts `officebox serve` on a free port with a fresh data directory and returns the teardown.
 * OFFICEBOX_URL set from outside means "use that running server" (e.g. while developing).
 */
export default async function globalSetup() {
  if (process.env.OFFICEBOX_URL) {
    process.env.OFFICEBOX_BASE_URL = process.env.OFFICEBOX_URL
    return async () => {}
  }
  const bin = path.resolve(here, process.env.OFFICEBOX_BIN || '../../target/debug/officebox')
  if (!fs.existsSync(bin)) throw new Error(`officebox binary not found at ${bin} (build it with cargo build, or set OFFICEBOX_BIN)`)
  const port = await freePort()
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'officebox-browser-'))
  const logDir = path.join(here, 'test-results')
  fs.mkdirSync(logDir, { recursive: true })
  const log = fs.openSync(path.join(logDir, 'server.log'), 'w')
  const child = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    stdio: ['ignore', log, log],
    env: { ...process.env, OFFICEBOX_LOG_LEVEL: process.env.OFFICEBOX_LOG_LEVEL || 'info' },
  })
  const url = `http://127.0.0.1:${port}`
  try {
    await waitHealthy(url, child, 60_000)
  } catch (e) {
    child.kill('SIGKILL')
    throw e
  }
  process.env.OFFICEBOX_BASE_URL = url
  return async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL')
          resolve()
        }, 5000)
        child.once('exit', () => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    fs.closeSync(log)
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}
