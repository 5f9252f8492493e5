// MPP end-to-end cases against the gateway on anvil --network tempo, paid by the mppx CLI and
// the mppx library. Prints `N passed, N failed`.
import { balance, credentialFor, decodeB64Url, env, flyState, keys, mppxCli, mppxClient, send, sleep, suite } from './lib.mjs'

const t = suite('mpp')
const G = env.gateway
const SEED_CREATE = '{"name":"my-server","region":"sjc","config":{"image":"ubuntu:latest","init":{"cmd":["sleep","infinity"]},"guest":{"cpu_kind":"shared","cpus":1,"memory_mb":512}}}'
const json = { 'content-type': 'application/json' }

function findMachine(state, id) {
  const text = JSON.stringify(state)
  if (!text.includes(id)) return undefined
  for (const app of Object.values(state.apps ?? state)) {
    const machines = app?.machines ?? {}
    const m = Array.isArray(machines) ? machines.find((x) => x.id === id) : machines[id]
    if (m) return m
  }
  return undefined
}

let machineId

await t.step('mppx CLI creates a machine with the seed body and pays on chain', async () => {
  const before = await balance(env.recipient)
  const r = await mppxCli(keys.cli, `${G}/api/machines`, ['-J', SEED_CREATE])
  const after = await balance(env.recipient)
  t.check('create answers 200', r.status === 200, r.raw.slice(-800))
  machineId = r.body?.id
  t.check('the machine has an id and connection info', typeof machineId === 'string' && r.body.connection && Array.isArray(r.body.connection.ips), r.body)
  const receipt = r.headers['payment-receipt'] ? decodeB64Url(r.headers['payment-receipt']) : {}
  t.check('the Payment-Receipt is a tempo success with a tx hash', receipt.status === 'success' && receipt.method === 'tempo' && /^0x[0-9a-f]{64}$/.test(receipt.reference), receipt)
  t.check('payTo received exactly the quoted $0.16 (160000 base units)', after - before === 160000n, `${after - before}`)
  t.check('the machine runs at the Fly fake', findMachine(await flyState(), machineId)?.state === 'started')
})

await t.step('mppx CLI runs ls -la through exec', async () => {
  const before = await balance(env.recipient)
  const r = await mppxCli(keys.cli, `${G}/api/machines/${machineId}/exec`, ['-J', '{"command":["ls","-la"]}'])
  const after = await balance(env.recipient)
  t.check('exec answers 200 with the listing', r.status === 200 && r.body.exit_code === 0 && /\bbin\b/.test(r.body.stdout) && /\betc\b/.test(r.body.stdout), r.body)
  t.check('exec cost exactly $0.01', after - before === 10000n, `${after - before}`)
})

await t.step('a second wallet cannot see, exec on, stop or destroy the machine', async () => {
  const { mppx } = mppxClient(keys.other)
  const get = await mppx.fetch(`${G}/api/machines/${machineId}`)
  t.check('get by another wallet is 404', get.status === 404, await get.text())
  const before = await balance(env.recipient)
  const exec = await mppx.fetch(`${G}/api/machines/${machineId}/exec`, { method: 'POST', headers: json, body: '{"command":["ls"]}' })
  const execBody = await exec.json()
  const after = await balance(env.recipient)
  // Another wallet's machine looks like no machine: 404 before anything is settled.
  t.check('exec by another wallet is 404 and nothing is charged', exec.status === 404 && after === before && execBody.refunded_usd === undefined, { execBody, moved: `${after - before}` })
  const stop = await mppx.fetch(`${G}/api/machines/${machineId}/stop`, { method: 'POST' })
  t.check('stop by another wallet is 404', stop.status === 404, await stop.text())
  const del = await mppx.fetch(`${G}/api/machines/${machineId}`, { method: 'DELETE' })
  t.check('destroy by another wallet is 404', del.status === 404, await del.text())
  const list = await mppx.fetch(`${G}/api/machines`)
  t.check("another wallet's list is empty", list.status === 200 && JSON.stringify(await list.json()) === '[]')
  t.check('the machine still runs', findMachine(await flyState(), machineId)?.state === 'started')
})

await t.step('mppx CLI stops and destroys the machine', async () => {
  const stop = await mppxCli(keys.cli, `${G}/api/machines/${machineId}/stop`, ['-X', 'POST'])
  t.check('stop answers 200', stop.status === 200, stop.raw.slice(-500))
  t.check('the machine is stopped at the Fly fake', findMachine(await flyState(), machineId)?.state === 'stopped')
  const del = await mppxCli(keys.cli, `${G}/api/machines/${machineId}`, ['-X', 'DELETE'])
  t.check('destroy answers 200', del.status === 200, del.raw.slice(-500))
  t.check('the machine is destroyed at the Fly fake', ['destroyed', undefined].includes(findMachine(await flyState(), machineId)?.state))
})

const { mppx: payer } = mppxClient(keys.replay)

await t.step('a credential used twice settles once; the second use is 403 without a challenge', async () => {
  const cred = await credentialFor(payer, `${G}/api/machines`)
  const before = await balance(env.recipient)
  const first = await send(`${G}/api/machines`, {}, cred)
  const second = await send(`${G}/api/machines`, {}, cred)
  const after = await balance(env.recipient)
  t.check('first use is 200', first.status === 200, first.body)
  t.check('second use is 403 verification-failed', second.status === 403 && String(second.body.type).endsWith('/verification-failed'), second.body)
  t.check('second use carries no new challenge', !second.headers.get('www-authenticate'))
  t.check('payTo rose by one payment only', after - before === 1000n, `${after - before}`)
})

await t.step('one credential sent 50 times concurrently settles once', async () => {
  const cred = await credentialFor(payer, `${G}/api/machines`)
  const before = await balance(env.recipient)
  const results = await Promise.all(Array.from({ length: 50 }, () => send(`${G}/api/machines`, {}, cred)))
  const after = await balance(env.recipient)
  const ok = results.filter((r) => r.status === 200).length
  const denied = results.filter((r) => r.status === 403 && !r.headers.get('www-authenticate')).length
  t.check('exactly one 200 and 49 403s', ok === 1 && denied === 49, results.map((r) => r.status).join(','))
  t.check('payTo rose by one payment only', after - before === 1000n, `${after - before}`)
})

function tamper(cred, edit) {
  const c = decodeB64Url(cred.replace(/^Payment\s+/i, ''))
  const req = decodeB64Url(c.challenge.request)
  edit(req)
  c.challenge.request = Buffer.from(JSON.stringify(req)).toString('base64url')
  return `Payment ${Buffer.from(JSON.stringify(c)).toString('base64url')}`
}

await t.step('tampered, wrong-recipient, wrong-amount, expired and malformed credentials are refused', async () => {
  const cred = await credentialFor(payer, `${G}/api/machines`)
  const tampered = await send(`${G}/api/machines`, {}, tamper(cred, (r) => { r.amount = '1' }))
  t.check('tampered amount: 402 invalid-challenge with a fresh challenge', tampered.status === 402 && String(tampered.body.type).endsWith('/invalid-challenge') && !!tampered.headers.get('www-authenticate'), tampered.body)
  const recipient = await send(`${G}/api/machines`, {}, tamper(cred, (r) => { r.recipient = '0x000000000000000000000000000000000000dEaD' }))
  t.check('wrong recipient: 402 invalid-challenge', recipient.status === 402 && String(recipient.body.type).endsWith('/invalid-challenge'), recipient.body)
  const wrongRoute = await send(`${G}/api/machines`, { method: 'POST', headers: json, body: SEED_CREATE.replace('my-server', 'amount-check') }, cred)
  t.check('a $0.001 credential on the $0.16 create: 402', wrongRoute.status === 402, wrongRoute.body)
  const malformed = await send(`${G}/api/machines`, {}, 'Payment !!!not-base64!!!')
  t.check('malformed: 402 malformed-credential', malformed.status === 402 && String(malformed.body.type).endsWith('/malformed-credential'), malformed.body)
  const x402garbage = await fetch(`${G}/api/machines`, { headers: { 'X-PAYMENT': '%%%' } })
  t.check('malformed x402 header: 400 problem+json', x402garbage.status === 400 && x402garbage.headers.get('content-type') === 'application/problem+json')
  const stillGood = await send(`${G}/api/machines`, {}, cred)
  t.check('the untampered credential still pays once', stillGood.status === 200, stillGood.body)
  const late = await credentialFor(payer, `${G}/api/machines`)
  await sleep((env.ttl + 2) * 1000)
  const expired = await send(`${G}/api/machines`, {}, late)
  t.check('expired challenge: 402 payment-expired', expired.status === 402 && String(expired.body.type).endsWith('/payment-expired'), expired.body)
})

await t.step('Idempotency-Key: same request returns the stored answer without a second charge; another request is 409', async () => {
  const { mppx } = mppxClient(keys.idem)
  const key = `e2e-${Date.now()}`
  const body = SEED_CREATE.replace('my-server', 'idem-server')
  const init = { method: 'POST', headers: { ...json, 'Idempotency-Key': key }, body }
  const before = await balance(env.recipient)
  const a = await mppx.fetch(`${G}/api/machines`, init)
  const aBody = await a.json()
  const b = await mppx.fetch(`${G}/api/machines`, init)
  const bBody = await b.json()
  const after = await balance(env.recipient)
  t.check('both answers are 200 with the same machine', a.status === 200 && b.status === 200 && aBody.id === bBody.id, [aBody.id, bBody.id])
  t.check('payTo rose once ($0.16)', after - before === 160000n, `${after - before}`)
  const c = await mppx.fetch(`${G}/api/machines`, { ...init, body: body.replace('idem-server', 'other-server') })
  t.check('same key, other body: 409', c.status === 409, await c.text())
})

await t.step('a failed action after settlement is credited to the payer', async () => {
  const { mppx } = mppxClient(keys.refund)
  await fetch(`${env.flyFake}/__fake/fail-next`, {
    method: 'POST',
    headers: { ...json, Authorization: `Bearer ${env.flyToken}` },
    body: JSON.stringify({ path_contains: '/machines', method: 'POST', status: 422, count: 1 }),
  })
  const r = await mppx.fetch(`${G}/api/machines`, { method: 'POST', headers: json, body: SEED_CREATE.replace('my-server', 'doomed') })
  const body = await r.json()
  t.check('the error says the amount was credited, with the balance', r.status >= 400 && body.refunded_usd === '0.16' && body.credit_balance_usd === '0.16', body)
  // The credit pays for the next machine: the wallet proves itself with a zero-amount proof.
  const before = await balance(env.recipient)
  const paid = await mppx.fetch(`${G}/api/machines`, { method: 'POST', headers: { ...json, 'X-Use-Credits': 'true' }, body: SEED_CREATE.replace('my-server', 'on-credits') })
  const paidBody = await paid.json()
  const after = await balance(env.recipient)
  t.check('credits pay for a machine (wallet proven by a zero-amount proof)', paid.status === 200 && typeof paidBody.id === 'string' && paid.headers.get('credit-balance') === '0', [paid.status, paidBody, paid.headers.get('credit-balance')])
  t.check('nothing moved on chain for the credit payment', after === before, `${after - before}`)
})

await t.step('two gateway processes sharing PostgreSQL settle one credential once', async () => {
  const { mppx } = mppxClient(keys.pg)
  const cred = await credentialFor(mppx, `${env.pgA}/api/machines`)
  const before = await balance(env.recipient)
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => send(`${i % 2 ? env.pgB : env.pgA}/api/machines`, {}, cred)))
  const after = await balance(env.recipient)
  const ok = results.filter((r) => r.status === 200).length
  t.check('exactly one of 20 requests over two processes succeeds', ok === 1 && results.every((r) => r.status === 200 || r.status === 403), results.map((r) => r.status).join(','))
  t.check('payTo rose once', after - before === 1000n, `${after - before}`)
})

await t.step('a machine is stopped when its paid time runs out', async () => {
  const { mppx } = mppxClient(keys.other)
  const r = await mppx.fetch(`${G}/api/machines`, { method: 'POST', headers: json, body: '{"name":"short","ttl_minutes":1,"config":{"image":"ubuntu:latest","init":{"cmd":["sleep","infinity"]}}}' })
  const m = await r.json()
  t.check('a 1-minute machine is created', r.status === 200 && typeof m.id === 'string', m)
  let state
  for (let i = 0; i < 60; i++) {
    await sleep(2000)
    state = findMachine(await flyState(), m.id)?.state
    if (state === 'stopped') break
  }
  t.check('the expiry worker stopped it after its paid minute', state === 'stopped', state)
})

t.done()
