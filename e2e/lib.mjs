// Shared helpers for the e2e suites: environment, accounts, chain reads, assertions.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createClient, createPublicClient, createWalletClient, http, parseAbi } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { tempoLocalnet } from 'viem/chains'
import { Mppx, tempo } from 'mppx/client'

export const env = {
  gateway: process.env.GATEWAY_URL,
  pgA: process.env.GATEWAY_PG_A,
  pgB: process.env.GATEWAY_PG_B,
  rpc: process.env.RPC_URL,
  flyFake: process.env.FLY_FAKE_URL,
  flyToken: process.env.FLY_TOKEN,
  recipient: process.env.RECIPIENT,
  ttl: Number(process.env.CHALLENGE_TTL_SECS ?? 20),
  mppxBin: process.env.MPPX_BIN,
}

// anvil's test-mnemonic dev accounts 1..8 (account 9 is the gateway's recipient).
export const keys = {
  cli: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  other: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  replay: '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  pympp: '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  pg: '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  idem: '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
  refund: '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356',
}

export const PATH_USD = '0x20c0000000000000000000000000000000000000'
const chain = { ...tempoLocalnet, rpcUrls: { default: { http: [process.env.RPC_URL] } } }
export const publicClient = createPublicClient({ chain, transport: http(env.rpc) })

/** pathUSD balance in base units. */
export async function balance(address) {
  return publicClient.readContract({
    address: PATH_USD,
    abi: parseAbi(['function balanceOf(address) view returns (uint256)']),
    functionName: 'balanceOf',
    args: [address],
  })
}

// anvil account 0: funds fresh wallets (no suite pays from it).
const BANK = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'

/** Sends `units` of pathUSD from the bank to `to` and waits for the receipt. */
export async function fund(to, units) {
  const bank = createWalletClient({ chain, transport: http(env.rpc), account: privateKeyToAccount(BANK) })
  const hash = await bank.writeContract({
    address: PATH_USD,
    abi: parseAbi(['function transfer(address to, uint256 amount) returns (bool)']),
    functionName: 'transfer',
    args: [to, units],
  })
  await publicClient.waitForTransactionReceipt({ hash })
}

/** The wallet's credit balance (USD string) at gateway `g`, read with a zero-amount proof. */
export async function credits(g, mppx) {
  const r = await mppx.fetch(`${g}/compute/credits/balance`)
  return (await r.json()).balance_usd
}

/** The Fly fake's whole state. */
export async function flyState() {
  const r = await fetch(`${env.flyFake}/__fake/state`, { headers: { Authorization: `Bearer ${env.flyToken}` } })
  return r.ok ? r.json() : {}
}

/** An mppx client (the library) paying from `key` on the local chain. */
export function mppxClient(key) {
  const account = privateKeyToAccount(key)
  const client = createClient({ chain, transport: http(env.rpc), account })
  return { account, mppx: Mppx.create({ methods: [tempo({ account, getClient: () => client })], polyfill: false }) }
}

/** A credential for `init` at `url`, created by `mppx` from the 402 (not sent). */
export async function credentialFor(mppx, url, init = {}) {
  const first = await fetch(url, init)
  if (first.status !== 402) throw new Error(`expected 402, got ${first.status}: ${await first.text()}`)
  return mppx.createCredential(first)
}

/** `{status, headers, body}` of a request, the body parsed when it is JSON. */
export async function fetchAnswer(url, init = {}) {
  const res = await fetch(url, init)
  const text = await res.text()
  let body
  try { body = JSON.parse(text) } catch { body = text }
  return { status: res.status, headers: res.headers, body }
}

export async function send(url, init, credential) {
  return fetchAnswer(url, { ...init, headers: { ...(init.headers ?? {}), Authorization: credential } })
}

/** The problem code of a gateway error answer (last segment of its `type`). */
export const reason = (r) => (typeof r.body === 'object' ? r.body?.type?.split('/').pop() : undefined)

/** Counts answers by `status reason`. */
export const tally = (results) =>
  results.reduce((m, r) => {
    const k = `${r.status} ${reason(r) ?? ''}`.trim()
    return { ...m, [k]: (m[k] ?? 0) + 1 }
  }, {})

/** Decodes a base64url JSON header. */
export function decodeB64Url(value) {
  return JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))
}

/** Runs the mppx CLI; returns {status, headers, body} of the final response. */
export async function mppxCli(key, url, args = []) {
  const { stdout } = await promisify(execFile)(env.mppxBin, [url, '-i', ...args], {
    env: { ...process.env, MPPX_RPC_URL: env.rpc, MPPX_PRIVATE_KEY: key },
    timeout: 120_000,
    maxBuffer: 1 << 24,
  }).catch((e) => ({ stdout: e.stdout ?? '' }))
  const blocks = stdout.split(/(?=^HTTP\/1\.1 )/m)
  const last = blocks[blocks.length - 1] ?? ''
  const [head, ...rest] = last.split(/\r?\n\r?\n/)
  const lines = head.split(/\r?\n/)
  const status = Number(lines[0]?.split(' ')[1] ?? 0)
  const headers = Object.fromEntries(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]))
  const text = rest.join('\n\n').trim()
  let body
  try {
    body = JSON.parse(text)
  } catch {
    body = text
  }
  return { status, headers, body, raw: stdout }
}

/** Collects assertions; `done()` prints the `N passed, N failed` line and sets the exit code. */
export function suite(name) {
  let passed = 0
  let failed = 0
  return {
    check(label, ok, detail) {
      if (ok) {
        passed++
        console.log(`ok   ${name}: ${label}`)
      } else {
        failed++
        console.log(`FAIL ${name}: ${label}${detail === undefined ? '' : ` — ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`}`)
      }
      return ok
    },
    async step(label, fn) {
      try {
        await fn()
      } catch (e) {
        failed++
        console.log(`FAIL ${name}: ${label} threw ${e?.stack ?? e}`)
      }
    },
    done() {
      console.log(`${passed} passed, ${failed} failed`)
      process.exitCode = failed === 0 && passed > 0 ? 0 : 1
    },
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
