// The attacker's cases of the money-and-tenancy hardening (issue 8) on the Tempo chain, paid
// and signed by the real mppx library: one signed transaction re-encoded as several
// credentials, wallet proofs replayed or moved to another route, a credential bought for one
// route spent on another of the same price. Prints `N passed, N failed`.
import { generatePrivateKey } from 'viem/accounts'
import { balance, credentialFor, credits, decodeB64Url, env, fund, keys, mppxClient, publicClient, send, sleep, suite } from './lib.mjs'

const t = suite('hardening')
const G = env.gateway
const json = { 'content-type': 'application/json' }

const decode = (cred) => decodeB64Url(cred.replace(/^Payment\s+/i, ''))
const encode = (c) => `Payment ${Buffer.from(JSON.stringify(c)).toString('base64url')}`
const withSignature = (c, signature) => encode({ ...c, payload: { ...c.payload, signature } })

await t.step('one signed transaction sent as three credentials is counted at most once', async () => {
  const { account, mppx } = mppxClient(generatePrivateKey())
  const cred = await credentialFor(mppx, `${G}/api/machines`)
  const c = decode(cred)
  const signed = c.payload.signature
  const variants = [cred, withSignature(c, `0x${signed.slice(2).toUpperCase()}`), withSignature(c, signed.slice(2))]
  const answers = []
  for (const v of variants) answers.push(await send(`${G}/api/machines`, {}, v))
  const statuses = answers.map((a) => a.status)
  t.check('nothing is delivered to the unfunded wallet', statuses.every((s) => s !== 200), statuses)
  t.check('the re-encodings are the same payment: refused without a new pending row', answers.slice(1).every((a) => a.status === 403), answers.map((a) => a.body))
  // The attacker funds the wallet and broadcasts the signed transaction itself.
  await fund(account.address, 1_000_000n)
  const before = await balance(env.recipient)
  const broadcast = await publicClient.request({ method: 'eth_sendRawTransaction', params: [signed] }).catch((e) => String(e))
  // Longer than the reconciler's and the recovery worker's period (15 s each).
  await sleep(35_000)
  const moved = (await balance(env.recipient)) - before
  const credited = await credits(G, mppx)
  t.check('payTo got at most the one $0.001 payment', moved <= 1000n, { moved: `${moved}`, broadcast })
  t.check('the wallet was credited at most once', Number(credited) <= 0.001, credited)
})

await t.step('a wallet proof is single-use and bound to its method and path', async () => {
  const { mppx } = mppxClient(keys.other)
  const body = '{"label":"e2e-proof"}'
  const init = { method: 'POST', headers: json, body }
  const proof = await credentialFor(mppx, `${G}/compute/api-keys`, init)
  const first = await send(`${G}/compute/api-keys`, init, proof)
  t.check('the proof creates an API key', first.status === 201 && String(first.body.api_key).startsWith('cgk_'), first.body)
  const again = await send(`${G}/compute/api-keys`, init, proof)
  t.check('the same proof again creates nothing', again.status >= 400 && !again.body?.api_key, again.body)
  const elsewhere = await credentialFor(mppx, `${G}/compute/credits/balance`)
  const moved = await send(`${G}/compute/api-keys`, init, elsewhere)
  t.check('a proof made for GET /compute/credits/balance creates no key', moved.status >= 400 && !moved.body?.api_key, moved.body)
  const fresh = await credentialFor(mppx, `${G}/compute/credits/balance`)
  const read = await send(`${G}/compute/credits/balance`, {}, fresh)
  t.check('a proof works on the request it was made for', read.status === 200, read.body)
})

await t.step('two wallets answering one proof challenge are each served once', async () => {
  // A challenge names no payer: every wallet asking in the same second gets the same one.
  const [a, b] = [mppxClient(keys.other).mppx, mppxClient(keys.pympp).mppx]
  const challenge = await fetch(`${G}/compute/credits/balance`)
  const [ca, cb] = [await a.createCredential(challenge), await b.createCredential(challenge)]
  const [ra, rb] = [await send(`${G}/compute/credits/balance`, {}, ca), await send(`${G}/compute/credits/balance`, {}, cb)]
  t.check('both wallets read their own balance', ra.status === 200 && rb.status === 200 && ra.body.wallet !== rb.body.wallet, [ra.body, rb.body])
  const replay = await send(`${G}/compute/credits/balance`, {}, cb)
  t.check("and each proof stays single-use", replay.status === 403, replay.body)
})

await t.step('an MPP credential bought for GET /api/machines/{id} is refused on DELETE of it', async () => {
  const { mppx } = mppxClient(keys.replay)
  const created = await mppx.fetch(`${G}/api/machines`, {
    method: 'POST',
    headers: json,
    body: '{"name":"scoped","ttl_minutes":1,"config":{"image":"ubuntu:latest","init":{"cmd":["sleep","infinity"]}}}',
  })
  const m = await created.json()
  t.check('a machine to aim at', created.status === 200 && typeof m.id === 'string', m)
  const url = `${G}/api/machines/${m.id}`
  const forGet = await credentialFor(mppx, url)
  const before = await balance(env.recipient)
  const del = await send(url, { method: 'DELETE' }, forGet)
  t.check('DELETE with it: 402 and nothing paid', del.status === 402 && (await balance(env.recipient)) === before, del.body)
  const get = await send(url, {}, forGet)
  t.check('the credential pays the GET it was bought for; the machine is still there', get.status === 200 && get.body.id === m.id, get.body)
})

t.done()
