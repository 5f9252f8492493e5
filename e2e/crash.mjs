// Crash recovery, driven by `cargo xtask e2e` (xtask/src/crash.rs) once per crash point:
//   node crash.mjs pay <point>    a fresh funded wallet buys a machine with the mppx library
//                                 from a gateway that stops at <point> (and is then kill -9ed);
//   node crash.mjs check <point>  against the restarted gateway: the payment ends as the point
//                                 implies — never taken (after-record), or credited to the
//                                 payer with no machine left running (after-broadcast,
//                                 during-provider) — and never both delivered and credited.
// Env: GATEWAY_URL, CRASH_STATE (a file passing the wallet from pay to check), lib.mjs's.
import { readFileSync, writeFileSync } from 'node:fs'
import { generatePrivateKey } from 'viem/accounts'
import { balance, credits, env, flyState, fund, mppxClient, sleep, suite } from './lib.mjs'

const [mode, point] = process.argv.slice(2)
const G = env.gateway
const STATE = process.env.CRASH_STATE
const NAME = `crash-${point}`
// shared/1/512 for the default 10 minutes: $0.11 + 10 × $0.005.
const PRICE_UNITS = 160000n
const PRICE_USD = '0.16'
const BODY = JSON.stringify({ name: NAME, region: 'sjc', config: { image: 'ubuntu:latest', init: { cmd: ['sleep', 'infinity'] }, guest: { cpu_kind: 'shared', cpus: 1, memory_mb: 512 } } })

/** Machines named NAME at the Fly fake that still exist. */
function liveMachines(state) {
  const out = []
  for (const app of Object.values(state.apps ?? {})) {
    const machines = app?.machines ?? {}
    for (const m of Array.isArray(machines) ? machines : Object.values(machines)) {
      if (m?.name === NAME && m.state !== 'destroyed') out.push(m)
    }
  }
  return out
}

if (mode === 'pay') {
  const key = generatePrivateKey()
  const { account, mppx } = mppxClient(key)
  await fund(account.address, 1_000_000n)
  writeFileSync(STATE, JSON.stringify({ key, recipientBefore: String(await balance(env.recipient)) }))
  try {
    const r = await mppx.fetch(`${G}/api/machines`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, signal: AbortSignal.timeout(150_000) })
    console.log(`pay: answered ${r.status} ${await r.text()}`)
  } catch (e) {
    console.log(`pay: no answer (${e?.cause?.code ?? e?.name ?? e})`)
  }
} else {
  const t = suite(`crash ${point}`)
  const saved = JSON.parse(readFileSync(STATE, 'utf8'))
  const { mppx } = mppxClient(saved.key)
  const expectCredit = point !== 'after-record'
  let seen
  // Recovery picks a payment up once its lease (60 s) lapsed and it is stale (30 s).
  for (let i = 0; i < 75; i++) {
    const moved = (await balance(env.recipient)) - BigInt(saved.recipientBefore)
    seen = { moved, credit: await credits(G, mppx), machines: liveMachines(await flyState()).length }
    const credited = moved === PRICE_UNITS && seen.credit === PRICE_USD && seen.machines === 0
    if (expectCredit ? credited : i >= 30) break
    await sleep(2000)
  }
  const shown = { ...seen, moved: `${seen.moved}` }
  if (expectCredit) {
    t.check('the money moved once and the payer was credited exactly the price', seen.moved === PRICE_UNITS && seen.credit === PRICE_USD, shown)
    t.check('no machine is left running unpaid', seen.machines === 0, shown)
  } else {
    t.check('the transaction was never broadcast: nothing moved', seen.moved === 0n, shown)
    t.check('nothing was credited or created for a payment never taken', seen.credit === '0' && seen.machines === 0, shown)
  }
  t.done()
}
