// x402 end-to-end cases against the gateway's Base rail on anvil (chain 84532) with Circle's
// real FiatTokenV2_2 at the Base Sepolia USDC address (installed by deploy-usdc.mjs), paid by
// the real clients: @x402/fetch + @x402/evm 2.27 (v2) and x402-fetch 1.2.0 (v1).
// Every paying case asserts on chain that payTo's USDC balance rose by exactly the price.
// Prints `N passed, N failed`.
//
// Env: GATEWAY_URL, BASE_RPC_URL, BASE_PAY_TO, BASE_SETTLER (optional: the gateway's signer).
import { createPublicClient, createWalletClient, getAddress, http, parseAbi, publicActions } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { baseSepolia } from 'viem/chains'
import { decodePaymentResponseHeader, wrapFetchWithPayment, wrapFetchWithPaymentFromConfig, x402Client, x402HTTPClient } from '@x402/fetch'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import { wrapFetchWithPayment as wrapFetchV1, decodeXPaymentResponse } from 'x402-fetch'
import { fetchAnswer, reason, sleep, suite, tally } from './lib.mjs'

const t = suite('x402')
const G = process.env.GATEWAY_URL
const RPC = process.env.BASE_RPC_URL
const PAY_TO = getAddress(process.env.BASE_PAY_TO)
const SETTLER = process.env.BASE_SETTLER ? getAddress(process.env.BASE_SETTLER) : undefined
const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
const NETWORK = 'eip155:84532'
const URL_PAID = `${G}/api/machines` // GET, $0.001, answers the payer's machines ([]) without a Fly call
const PRICE = 1000n // $0.001 in USDC base units

// Accounts 10..13 of anvil's test mnemonic (account 14 is x402_pay.py's), minted USDC by
// deploy-usdc.mjs. They hold no ETH and need none: EIP-3009 is gasless for the payer. Not
// accounts 1..7, which the MPP suites use: a wallet owns its machines on every rail.
const baseKeys = {
  v2: '0xf214f2b2cd398c806f84e317254e0f0b801d0643303237d97a22a48e01628897',
  v1: '0x701b615bbdfb9de65240bc28bd21bbc0d996645a3dd57e7b12bc2bdf6f192c82',
  replay: '0xa267530f49f8280200edf313ee7af6b827f2a8bce2897751d06a843f644967b1',
  idem: '0x47c99abed3324a2707c28affff1267e45918ec8c3f20b8aa892e8b065d2942dd',
}
const ATTACKER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' // anvil account 0: not payTo

const chain = { ...baseSepolia, rpcUrls: { default: { http: [RPC] } } }
const pub = createPublicClient({ chain, transport: http(RPC) })
const erc20 = parseAbi([
  'function balanceOf(address) view returns (uint256)',
  'function authorizationState(address authorizer, bytes32 nonce) view returns (bool)',
])

const usdc = (address) => pub.readContract({ address: USDC, abi: erc20, functionName: 'balanceOf', args: [address] })
const nonceUsed = (from, nonce) =>
  pub.readContract({ address: USDC, abi: erc20, functionName: 'authorizationState', args: [from, nonce] })

const b64json = (value) => JSON.parse(Buffer.from(value, 'base64').toString('utf8'))
const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64')

/** fetch that records the x402 request headers it sends. */
function recordingFetch(log) {
  return async (input, init) => {
    const req = new Request(input, init)
    log.push({ signature: req.headers.get('payment-signature'), xPayment: req.headers.get('x-payment') })
    return fetch(req)
  }
}

/** The @x402/fetch v2 client (ExactEvmScheme) paying from `key`. */
function v2Client(key) {
  return new x402Client().register(NETWORK, new ExactEvmScheme(privateKeyToAccount(key)))
}

/** The 402 for GET /api/machines, as the v2 client reads it. */
async function paymentRequired() {
  const res = await fetch(URL_PAID)
  const body = await res.json().catch(() => undefined)
  if (res.status !== 402) throw new Error(`expected 402, got ${res.status}`)
  return new x402HTTPClient(new x402Client()).getPaymentRequiredResponse((n) => res.headers.get(n), body)
}

/** A PAYMENT-SIGNATURE value signed by the real v2 client for `required` (not sent). */
async function signedV2(key, required) {
  const client = v2Client(key)
  const payload = await client.createPaymentPayload(required ?? (await paymentRequired()))
  return { payload, header: new x402HTTPClient(client).encodePaymentSignatureHeader(payload)['PAYMENT-SIGNATURE'] }
}

const send = (headers) => fetchAnswer(URL_PAID, { headers })

await t.step('the 402 offers x402 v2 (header) and v1 (body) for Base Sepolia USDC', async () => {
  const res = await fetch(URL_PAID)
  const body = await res.json()
  t.check('GET /api/machines without payment is 402', res.status === 402, res.status)
  const header = res.headers.get('payment-required')
  const v2 = header ? b64json(header) : {}
  const a = v2.accepts?.[0] ?? {}
  t.check(
    'PAYMENT-REQUIRED is x402Version 2 with an exact offer of 1000 USDC units to payTo on eip155:84532',
    v2.x402Version === 2 && a.scheme === 'exact' && a.network === NETWORK && a.amount === '1000' &&
      getAddress(a.asset) === USDC && getAddress(a.payTo) === PAY_TO && a.extra?.name === 'USDC' && a.extra?.version === '2' &&
      typeof a.maxTimeoutSeconds === 'number' && v2.resource?.url === URL_PAID,
    v2,
  )
  const b = body.accepts?.[0] ?? {}
  t.check(
    'the body is x402Version 1 with base-sepolia, maxAmountRequired 1000 and the resource URL',
    body.x402Version === 1 && b.network === 'base-sepolia' && b.maxAmountRequired === '1000' && b.resource === URL_PAID &&
      getAddress(b.payTo) === PAY_TO && b.extra?.name === 'USDC',
    body,
  )
})

let capturedSignature
await t.step('@x402/fetch 2.27 (v2) pays GET /api/machines', async () => {
  const log = []
  const account = privateKeyToAccount(baseKeys.v2)
  const pay = wrapFetchWithPaymentFromConfig(recordingFetch(log), {
    schemes: [{ network: NETWORK, client: new ExactEvmScheme(account) }],
  })
  const before = await usdc(PAY_TO)
  const res = await pay(URL_PAID)
  const body = await res.json().catch(() => undefined)
  const after = await usdc(PAY_TO)
  t.check('the paid request answers 200 with []', res.status === 200 && JSON.stringify(body) === '[]', { status: res.status, body })
  const header = res.headers.get('payment-response')
  const receipt = header ? decodePaymentResponseHeader(header) : {}
  t.check(
    'PAYMENT-RESPONSE decodes to {success:true, transaction, network:"eip155:84532", payer}',
    receipt.success === true && /^0x[0-9a-fA-F]{64}$/.test(receipt.transaction ?? '') && receipt.network === NETWORK &&
      getAddress(receipt.payer ?? '0x0000000000000000000000000000000000000000') === account.address,
    receipt,
  )
  t.check('payTo received exactly the quoted $0.001 (1000 units)', after - before === PRICE, `${after - before}`)
  if (receipt.transaction) {
    const tx = await pub.getTransactionReceipt({ hash: receipt.transaction })
    t.check(
      'the transaction is mined, succeeded, called the USDC contract' + (SETTLER ? ' and was sent by the settlement key' : ''),
      tx.status === 'success' && getAddress(tx.to) === USDC && (!SETTLER || getAddress(tx.from) === SETTLER),
      { status: tx.status, from: tx.from, to: tx.to },
    )
  }
  capturedSignature = log.map((l) => l.signature).find(Boolean)
  t.check('the client sent PAYMENT-SIGNATURE (not X-PAYMENT)', !!capturedSignature && !log.some((l) => l.xPayment))
})

await t.step('x402-fetch 1.2.0 (v1, viem wallet client) pays GET /api/machines', async () => {
  const wallet = createWalletClient({ chain, transport: http(RPC), account: privateKeyToAccount(baseKeys.v1) }).extend(publicActions)
  const log = []
  const pay = wrapFetchV1(recordingFetch(log), wallet)
  const before = await usdc(PAY_TO)
  const res = await pay(URL_PAID)
  const body = await res.json().catch(() => undefined)
  const after = await usdc(PAY_TO)
  t.check('the paid request answers 200 with []', res.status === 200 && JSON.stringify(body) === '[]', { status: res.status, body })
  const header = res.headers.get('x-payment-response')
  const receipt = header ? decodeXPaymentResponse(header) : {}
  t.check(
    'X-PAYMENT-RESPONSE is a success on base-sepolia with the payer',
    receipt.success === true && /^0x[0-9a-fA-F]{64}$/.test(receipt.transaction ?? '') && receipt.network === 'base-sepolia' &&
      getAddress(receipt.payer ?? '0x0000000000000000000000000000000000000000') === wallet.account.address,
    receipt,
  )
  t.check('the client sent X-PAYMENT', log.some((l) => l.xPayment) && !log.some((l) => l.signature))
  t.check('payTo received exactly $0.001 (1000 units)', after - before === PRICE, `${after - before}`)
})

await t.step('replay: a used PAYMENT-SIGNATURE is refused, 20 concurrent uses of a fresh one settle once', async () => {
  if (!capturedSignature) throw new Error('no PAYMENT-SIGNATURE captured from the v2 case')
  let before = await usdc(PAY_TO)
  const again = await send({ 'PAYMENT-SIGNATURE': capturedSignature })
  t.check('resending the settled PAYMENT-SIGNATURE is 403 verification-failed, without a new challenge', again.status === 403 && reason(again) === 'verification-failed' && !again.headers.get('payment-required'), again)
  t.check('resending charged nothing', (await usdc(PAY_TO)) === before)

  const { header, payload } = await signedV2(baseKeys.replay)
  before = await usdc(PAY_TO)
  const results = await Promise.all(Array.from({ length: 20 }, () => send({ 'PAYMENT-SIGNATURE': header })))
  const ok = results.filter((r) => r.status === 200).length
  t.check('exactly one of 20 concurrent requests answers 200', ok === 1, tally(results))
  t.check('none of the other 19 is served (all 4xx)', results.filter((r) => r.status !== 200).every((r) => r.status >= 400 && r.status < 500), tally(results))
  t.check('payTo received exactly $0.001 once', (await usdc(PAY_TO)) - before === PRICE, `${(await usdc(PAY_TO)) - before}`)
  t.check('the authorization nonce is used on chain', await nonceUsed(payload.payload.authorization.from, payload.payload.authorization.nonce))
})

await t.step('replay during settlement: every use but one is 403 without a new challenge', async () => {
  // 60 uses of one fresh authorization, 3 ms apart, so that some arrive while it is being
  // settled and mined (this spacing hit that window in 5 of 5 tries on a 2-core machine). flow.rs promises "the others get 403 verification-failed without a new
  // challenge" whatever the timing; a 402 here would invite the client to pay again.
  const { header } = await signedV2(baseKeys.replay)
  const before = await usdc(PAY_TO)
  const results = await Promise.all(
    Array.from({ length: 60 }, async (_, i) => {
      await sleep(i * 3)
      return send({ 'PAYMENT-SIGNATURE': header })
    }),
  )
  t.check('exactly one of 60 answers 200', results.filter((r) => r.status === 200).length === 1, tally(results))
  t.check(
    'the other 59 are 403 verification-failed, none a 402',
    results.filter((r) => r.status !== 200).every((r) => r.status === 403 && reason(r) === 'verification-failed'),
    tally(results),
  )
  t.check('payTo received exactly $0.001 once', (await usdc(PAY_TO)) - before === PRICE, `${(await usdc(PAY_TO)) - before}`)
})

await t.step('tampered, misdirected and malformed payments are refused without a charge', async () => {
  const required = await paymentRequired()
  const { payload, header: genuine } = await signedV2(baseKeys.v2, required)
  const before = await usdc(PAY_TO)

  const lowered = structuredClone(payload)
  lowered.accepted.amount = '1'
  let r = await send({ 'PAYMENT-SIGNATURE': b64(lowered) })
  t.check(
    'accepted.amount changed to 1: 402 invalid_payment_requirements with a fresh PAYMENT-REQUIRED',
    r.status === 402 && reason(r) === 'invalid_payment_requirements' && !!r.headers.get('payment-required'),
    r,
  )

  const value = structuredClone(payload)
  value.payload.authorization.value = '1'
  r = await send({ 'PAYMENT-SIGNATURE': b64(value) })
  t.check('authorization.value changed after signing: 402 …_authorization_value_mismatch', r.status === 402 && reason(r) === 'invalid_exact_evm_payload_authorization_value_mismatch', r)

  const signature = structuredClone(payload)
  const s = signature.payload.signature
  signature.payload.signature = s.slice(0, 10) + (s[10] === 'a' ? 'b' : 'a') + s.slice(11)
  r = await send({ 'PAYMENT-SIGNATURE': b64(signature) })
  t.check('signature altered: 402 invalid_exact_evm_payload_signature', r.status === 402 && reason(r) === 'invalid_exact_evm_payload_signature', r)

  const underpay = structuredClone(required)
  underpay.accepts = underpay.accepts.map((a) => ({ ...a, amount: '1' }))
  r = await send({ 'PAYMENT-SIGNATURE': (await signedV2(baseKeys.v2, underpay)).header })
  t.check('a validly signed payment of 1 unit (client fed a lowered price): 402 invalid_payment_requirements', r.status === 402 && reason(r) === 'invalid_payment_requirements', r)

  const misdirected = structuredClone(required)
  misdirected.accepts = misdirected.accepts.map((a) => ({ ...a, payTo: ATTACKER }))
  r = await send({ 'PAYMENT-SIGNATURE': (await signedV2(baseKeys.v2, misdirected)).header })
  t.check('a validly signed v2 payment to another payTo: 402 invalid_payment_requirements', r.status === 402 && reason(r) === 'invalid_payment_requirements', r)

  // v1: the same misdirection through X-PAYMENT, signed by the real v1 client.
  const wallet = createWalletClient({ chain, transport: http(RPC), account: privateKeyToAccount(baseKeys.v2) }).extend(publicActions)
  const v1Log = []
  const v1Body = await (await fetch(URL_PAID)).json()
  const v1Fetch = async (input, init) => {
    const req = new Request(input, init)
    if (!req.headers.get('x-payment')) {
      const doctored = { ...v1Body, accepts: v1Body.accepts.map((a) => ({ ...a, payTo: ATTACKER })) }
      return new Response(JSON.stringify(doctored), { status: 402, headers: { 'content-type': 'application/json' } })
    }
    v1Log.push(req.headers.get('x-payment'))
    return fetch(req)
  }
  const v1 = await wrapFetchV1(v1Fetch, wallet)(URL_PAID)
  const v1Reason = (await v1.json().catch(() => ({}))).type?.split('/').pop()
  t.check(
    'a validly signed v1 payment to another payTo: 402 invalid_exact_evm_payload_recipient_mismatch',
    v1.status === 402 && v1Log.length === 1 && v1Reason === 'invalid_exact_evm_payload_recipient_mismatch',
    [v1.status, v1Reason],
  )

  r = await send({ 'PAYMENT-SIGNATURE': '%%% not base64 %%%' })
  t.check('PAYMENT-SIGNATURE that is not base64: 400', r.status === 400, r)
  r = await send({ 'X-PAYMENT': Buffer.from('not json').toString('base64') })
  t.check('X-PAYMENT that is base64 but not JSON: 400', r.status === 400, r)
  r = await send({ 'PAYMENT-SIGNATURE': b64({ x402Version: 2, accepted: payload.accepted }) })
  t.check('PAYMENT-SIGNATURE without `payload`: 400', r.status === 400, r)

  t.check('none of them charged anything', (await usdc(PAY_TO)) === before, `${(await usdc(PAY_TO)) - before}`)
  r = await send({ 'PAYMENT-SIGNATURE': genuine })
  t.check('the untampered original still pays (200)', r.status === 200, r)
  t.check('and payTo received exactly $0.001', (await usdc(PAY_TO)) - before === PRICE, `${(await usdc(PAY_TO)) - before}`)
})

await t.step('payment-identifier: the same id returns the stored response without a second charge', async () => {
  const id = `e2e-pid-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`
  const account = privateKeyToAccount(baseKeys.idem)
  const extension = {
    key: 'payment-identifier',
    enrichPaymentPayload: async (payload) => ({
      ...payload,
      extensions: { ...(payload.extensions ?? {}), 'payment-identifier': { info: { id } } },
    }),
  }
  const log = []
  const client = v2Client(baseKeys.idem).registerExtension(extension)
  const pay = wrapFetchWithPayment(recordingFetch(log), client)
  const [payToBefore, payerBefore] = [await usdc(PAY_TO), await usdc(account.address)]
  const first = await pay(URL_PAID)
  const firstBody = await first.text()
  const second = await pay(URL_PAID)
  const secondBody = await second.text()
  const sent = log.map((l) => l.signature).filter(Boolean).map(b64json)
  t.check(
    'the client put extensions["payment-identifier"].info.id in both payments',
    sent.length === 2 && sent.every((p) => p.extensions?.['payment-identifier']?.info?.id === id) &&
      sent[0].payload.authorization.nonce !== sent[1].payload.authorization.nonce,
    sent.map((p) => p.extensions),
  )
  t.check('both answer 200 with the same body', first.status === 200 && second.status === 200 && firstBody === secondBody, [first.status, second.status])
  const [r1, r2] = [first, second].map((r) => (r.headers.get('payment-response') ? decodePaymentResponseHeader(r.headers.get('payment-response')) : {}))
  t.check('the second PAYMENT-RESPONSE is the stored one (same transaction)', !!r1.transaction && r1.transaction === r2.transaction, [r1, r2])
  t.check('payTo received $0.001 once', (await usdc(PAY_TO)) - payToBefore === PRICE, `${(await usdc(PAY_TO)) - payToBefore}`)
  t.check('the payer paid $0.001 once', payerBefore - (await usdc(account.address)) === PRICE)
  if (sent.length === 2) {
    t.check('the second authorization was never settled', !(await nonceUsed(account.address, sent[1].payload.authorization.nonce)))
  }
  // The same id on another request (GET /api/volumes, same price) is a conflict, not a charge.
  const before = await usdc(PAY_TO)
  const other = await pay(`${G}/api/volumes`)
  t.check('the same id on another request is 409', other.status === 409, [other.status, await other.text()])
  t.check('and charged nothing', (await usdc(PAY_TO)) === before)
})

await t.step('Idempotency-Key with x402-fetch (v1): the same key is charged once', async () => {
  const wallet = createWalletClient({ chain, transport: http(RPC), account: privateKeyToAccount(baseKeys.idem) }).extend(publicActions)
  const pay = wrapFetchV1(fetch, wallet)
  const key = `e2e-idem-${Date.now()}`
  const before = await usdc(PAY_TO)
  const first = await pay(URL_PAID, { headers: { 'Idempotency-Key': key } })
  const second = await pay(URL_PAID, { headers: { 'Idempotency-Key': key } })
  t.check('both answer 200', first.status === 200 && second.status === 200, [first.status, second.status])
  const tx = (r) => (r.headers.get('x-payment-response') ? decodeXPaymentResponse(r.headers.get('x-payment-response')).transaction : undefined)
  t.check('the second X-PAYMENT-RESPONSE names the same transaction', !!tx(first) && tx(first) === tx(second), [tx(first), tx(second)])
  t.check('payTo received $0.001 once', (await usdc(PAY_TO)) - before === PRICE, `${(await usdc(PAY_TO)) - before}`)
})

await t.step('a v2 payment made for GET /api/machines/{id} is refused on DELETE of the same machine', async () => {
  // Same URL, same price: only the route (the v2 resource's description) tells them apart.
  const account = privateKeyToAccount(baseKeys.replay)
  const pay = wrapFetchWithPaymentFromConfig(fetch, { schemes: [{ network: NETWORK, client: new ExactEvmScheme(account) }] })
  const created = await pay(`${G}/api/machines`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"name":"bound","ttl_minutes":1,"config":{"image":"ubuntu:latest","init":{"cmd":["sleep","infinity"]}}}',
  })
  const m = await created.json()
  t.check('a machine to aim at', created.status === 200 && typeof m.id === 'string', m)
  const url = `${G}/api/machines/${m.id}`
  const res = await fetch(url)
  const body = await res.json().catch(() => undefined)
  const required = new x402HTTPClient(new x402Client()).getPaymentRequiredResponse((n) => res.headers.get(n), body)
  const { payload, header } = await signedV2(baseKeys.replay, required)
  const before = await usdc(PAY_TO)
  const del = await fetch(url, { method: 'DELETE', headers: { 'PAYMENT-SIGNATURE': header } })
  const nonce = payload.payload.authorization.nonce
  t.check('DELETE with it: 402, nothing settled', del.status === 402 && (await usdc(PAY_TO)) === before && !(await nonceUsed(account.address, nonce)), del.status)
  const get = await fetch(url, { headers: { 'PAYMENT-SIGNATURE': header } })
  const got = await get.json().catch(() => undefined)
  t.check('the same payment on the GET it was made for: 200, the machine is still there', get.status === 200 && got?.id === m.id, { status: get.status, got })
})

await t.step('X-Auth-* headers signed by a viem account authenticate free calls and create an API key', async () => {
  // As x402Compute's own clients sign them: EIP-191 personal_sign over the nine-line message.
  const account = privateKeyToAccount(baseKeys.idem)
  const { createHash, randomUUID } = await import('node:crypto')
  const signed = async (method, path, body, { nonce = randomUUID().replaceAll('-', ''), ts = Date.now(), signer = account } = {}) => {
    const digest = createHash('sha256').update(body).digest('hex')
    const address = account.address.toLowerCase()
    const message = ['X402-COMPUTE-AUTH', 'v1', 'base', address, method, path, digest, String(ts), nonce].join('\n')
    return {
      'content-type': 'application/json',
      'X-Auth-Address': address,
      'X-Auth-Chain': 'base',
      'X-Auth-Signature': await signer.signMessage({ message }),
      'X-Auth-Timestamp': String(ts),
      'X-Auth-Nonce': nonce,
      'X-Auth-Sig-Encoding': 'hex',
    }
  }
  const balance = await fetch(`${G}/compute/credits/balance`, { headers: await signed('GET', '/compute/credits/balance', '') })
  const balanceBody = await balance.json()
  t.check('a signed balance read answers for the signer', balance.status === 200 && balanceBody.wallet === account.address.toLowerCase(), balanceBody)
  const body = '{"label":"e2e"}'
  const headers = await signed('POST', '/compute/api-keys', body)
  const created = await fetch(`${G}/compute/api-keys`, { method: 'POST', headers, body })
  const key = await created.json()
  t.check('a signed request creates an API key', created.status === 201 && String(key.api_key).startsWith('cgk_'), key)
  const replay = await fetch(`${G}/compute/api-keys`, { method: 'POST', headers, body })
  t.check('the same signed headers again: 401', replay.status === 401, await replay.text())
  const stale = await fetch(`${G}/compute/api-keys`, { method: 'POST', headers: await signed('POST', '/compute/api-keys', body, { ts: Date.now() - 600_000 }), body })
  t.check('a stale timestamp: 401', stale.status === 401, await stale.text())
  const otherBody = await fetch(`${G}/compute/api-keys`, { method: 'POST', headers: await signed('POST', '/compute/api-keys', '{}'), body })
  t.check('another body than the signed one: 401', otherBody.status === 401, await otherBody.text())
  const mallory = privateKeyToAccount(baseKeys.replay)
  const forged = await fetch(`${G}/compute/api-keys`, { method: 'POST', headers: await signed('POST', '/compute/api-keys', body, { signer: mallory }), body })
  t.check('another signer than X-Auth-Address: 401', forged.status === 401, await forged.text())
})

t.done()
