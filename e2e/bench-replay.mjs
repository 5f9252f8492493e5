// Figure 6 of `cargo xtask bench`: the replay store under replicas. CREDENTIALS MPP Tempo
// credentials (made by the mppx library for `GET /api/machines`, $0.001, each from its own fresh
// wallet so no two are the same transaction), each sent REPLAYS times, all at once, alternating
// between two gateway processes on one PostgreSQL. Prints one JSON line: {"credentials",
// "requests","seconds","rps","ok","denied","tally","settled_units","price_units"}, where
// `settled_units` is what the recipient's pathUSD balance rose by during the storm.
// Env: GATEWAY_PG_A, GATEWAY_PG_B, RPC_URL, RECIPIENT, CREDENTIALS, REPLAYS.
import { generatePrivateKey } from 'viem/accounts'
import { balance, credentialFor, env, fund, mppxClient, send, tally } from './lib.mjs'

const N = Number(process.env.CREDENTIALS ?? 50)
const R = Number(process.env.REPLAYS ?? 20)
const PRICE = 1000n // $0.001 in pathUSD base units
const gateways = [env.pgA, env.pgB]

const wallets = Array.from({ length: N }, () => mppxClient(generatePrivateKey()))
for (const w of wallets) await fund(w.account.address, 1_000_000n)
const credentials = []
for (let i = 0; i < N; i += 10) {
  const batch = wallets.slice(i, i + 10).map((w) => credentialFor(w.mppx, `${env.pgA}/api/machines`))
  credentials.push(...(await Promise.all(batch)))
}

// Replay j of credential i goes to gateway (i + j) mod 2, in the order replay 0 of every
// credential, then replay 1, …: every credential is in flight on both gateways at once.
const requests = []
for (let j = 0; j < R; j++) for (let i = 0; i < N; i++) requests.push([gateways[(i + j) % 2], credentials[i]])

const before = await balance(env.recipient)
const started = performance.now()
const results = await Promise.all(requests.map(([g, c]) => send(`${g}/api/machines`, {}, c)))
const seconds = (performance.now() - started) / 1000
const after = await balance(env.recipient)

console.log(
  JSON.stringify({
    credentials: N,
    requests: results.length,
    seconds: Math.round(seconds * 1000) / 1000,
    rps: Math.round(results.length / seconds),
    ok: results.filter((r) => r.status === 200).length,
    denied: results.filter((r) => r.status === 403).length,
    tally: tally(results),
    settled_units: String(after - before),
    price_units: String(PRICE),
  }),
)
