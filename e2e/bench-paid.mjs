// Figure 3 of `cargo xtask bench`: the gateway's own time on a paid machine create. COUNT paid
// `POST /api/machines` (TinyCompute, $0.16, the Fly fake), one after another, each paid by the
// mppx library from one fresh wallet; then the gateway's JSON log (span close lines, logged with
// `--log-span-timings`) is read back. Per paid request (found by its `X-Request-Id`):
//
//   own time = lifetime of its `request` span − the union of the intervals, inside it, of its
//              chain RPC spans (`chain_rpc`, and alloy's HTTP transport span `request` of
//              target `alloy_transport_http`, one per JSON-RPC round trip the mpp and alloy
//              libraries make) and its provider spans (`provider_call`).
//
// A span's lifetime is time.busy + time.idle; its interval ends at its close line's timestamp.
// Prints one JSON line: {"count","p50_ms","p99_ms","max_ms","mean_request_ms","mean_chain_ms",
// "mean_provider_ms"}. Env: GATEWAY_URL, RPC_URL, GATEWAY_LOG (the log file), COUNT.
import { readFileSync } from 'node:fs'
import { generatePrivateKey } from 'viem/accounts'
import { env, fund, mppxClient } from './lib.mjs'

const COUNT = Number(process.env.COUNT ?? 200)
const PRICE = 160_000n // $0.16 in pathUSD base units, the seed create's price
const json = { 'content-type': 'application/json' }
const body = (i) =>
  `{"name":"bench-${i}","region":"sjc","config":{"image":"ubuntu:latest","init":{"cmd":["sleep","infinity"]},"guest":{"cpu_kind":"shared","cpus":1,"memory_mb":512}}}`

const { account, mppx } = mppxClient(generatePrivateKey())
// The price of every create, and as much again for the transaction fees (paid in pathUSD).
await fund(account.address, 2n * PRICE * BigInt(COUNT))

const ids = []
for (let i = 0; i < COUNT; i++) {
  const r = await mppx.fetch(`${env.gateway}/api/machines`, { method: 'POST', headers: json, body: body(i) })
  const text = await r.text()
  if (r.status !== 200) throw new Error(`paid create ${i} answered ${r.status}: ${text}`)
  ids.push(r.headers.get('x-request-id'))
}

const UNIT_MS = { ns: 1e-6, 'µs': 1e-3, ms: 1, s: 1000 }
/** tracing-subscriber's duration text (`1.23ms`, `456µs`) in milliseconds. */
function millis(text) {
  const m = /^([0-9.]+)(ns|µs|ms|s)$/.exec(text ?? '')
  if (!m) throw new Error(`unreadable span time ${text}`)
  return Number(m[1]) * UNIT_MS[m[2]]
}
/** An RFC 3339 timestamp in milliseconds since the epoch, keeping its microseconds. */
function epochMs(ts) {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(ts)
  if (!m) throw new Error(`unreadable timestamp ${ts}`)
  return Date.parse(`${m[1]}${m[3]}`) + Number(`0.${m[2] ?? '0'}`) * 1000
}
/** The kind of span a close line is about, or undefined. */
function kind(line) {
  const name = line.span?.name
  if (name === 'request' && line.span.request_id) return 'request'
  if (name === 'chain_rpc' || (name === 'request' && String(line.target).startsWith('alloy_transport_http'))) return 'chain'
  if (name === 'provider_call') return 'provider'
  return undefined
}

const wanted = new Set(ids)
const per = new Map(ids.map((id) => [id, { request: undefined, chain: [], provider: [] }]))
for (const text of readFileSync(process.env.GATEWAY_LOG, 'utf8').split('\n')) {
  if (!text.startsWith('{')) continue
  let line
  try {
    line = JSON.parse(text)
  } catch {
    continue
  }
  if (line.fields?.message !== 'close') continue
  const id = [...(line.spans ?? []), line.span].find((s) => s?.name === 'request' && s.request_id)?.request_id
  const k = kind(line)
  if (!wanted.has(id) || !k) continue
  const end = epochMs(line.timestamp)
  const interval = [end - millis(line.fields['time.busy']) - millis(line.fields['time.idle']), end]
  const entry = per.get(id)
  if (k === 'request') entry.request = interval
  else entry[k].push(interval)
}

/** Total length of the union of `intervals`, each clipped to [from, to]. */
function covered(intervals, from, to) {
  const clipped = intervals.map(([a, b]) => [Math.max(a, from), Math.min(b, to)]).filter(([a, b]) => b > a)
  clipped.sort((x, y) => x[0] - y[0])
  let total = 0
  let [start, end] = [-Infinity, -Infinity]
  for (const [a, b] of clipped) {
    if (a > end) {
      if (end > start) total += end - start
      ;[start, end] = [a, b]
    } else end = Math.max(end, b)
  }
  if (end > start) total += end - start
  return total
}

const own = []
const sums = { request: 0, chain: 0, provider: 0 }
for (const [id, e] of per) {
  if (!e.request) throw new Error(`no request span close line for ${id} in ${process.env.GATEWAY_LOG}`)
  // Without these spans the figure would silently include chain or provider time.
  if (e.chain.length === 0) throw new Error(`request ${id} has no chain RPC span: cannot exclude chain time`)
  if (e.provider.length === 0) throw new Error(`request ${id} has no provider_call span: cannot exclude provider time`)
  const [from, to] = e.request
  const chain = covered(e.chain, from, to)
  const provider = covered(e.provider, from, to)
  own.push(to - from - covered([...e.chain, ...e.provider], from, to))
  sums.request += to - from
  sums.chain += chain
  sums.provider += provider
}
own.sort((a, b) => a - b)
/** Nearest-rank percentile. */
const pct = (p) => own[Math.min(own.length - 1, Math.ceil((p / 100) * own.length) - 1)]
const round = (x) => Math.round(x * 1000) / 1000
console.log(
  JSON.stringify({
    count: own.length,
    p50_ms: round(pct(50)),
    p99_ms: round(pct(99)),
    max_ms: round(own[own.length - 1]),
    mean_request_ms: round(sums.request / own.length),
    mean_chain_ms: round(sums.chain / own.length),
    mean_provider_ms: round(sums.provider / own.length),
  }),
)
