// x402 `exact` on Solana end to end: @x402/fetch + @x402/svm 2.27 (`ExactSvmScheme` with a
// keypair signer and `{rpcUrl}` of the LiteSVM shim) pay TinyCompute's GET /api/machines
// ($0.001 = 1000 USDC base units) at the gateway, which verifies, co-signs as fee payer and
// settles through the same shim. Every paying case reads the merchant's USDC account back from
// the shim and asserts it rose by exactly the price; the payers hold no SOL. Prints
// `N passed, N failed`.
//
// Env:
// - GATEWAY_URL: the gateway, with its `[payments.solana]` rail on the shim (devnet id);
// - SVM_RPC_URL: the shim's JSON-RPC URL (`svm-shim`, crates/testkit); its `/__shim/*` test
//   endpoints are used to read balances;
// - SVM_PAY_TO: the merchant wallet (base58) of the gateway's rail; its USDC account must exist;
// - SVM_PAYER_KEYS: comma-separated base58 64-byte keypairs, at least 2, each funded with USDC
//   (at least 0.003) and no SOL (xtask/src/svm.rs funds them).
// lib.mjs (the `suite` helper) also reads RPC_URL at import, as every suite's environment has.
import {
  AccountRole,
  address,
  compileTransaction,
  createKeyPairSignerFromBytes,
  decompileTransactionMessage,
  getBase58Encoder,
  getBase64EncodedWireTransaction,
  getCompiledTransactionMessageDecoder,
  getTransactionDecoder,
  partiallySignTransaction,
  setTransactionMessageFeePayer,
} from '@solana/kit'
import { decodePaymentResponseHeader, wrapFetchWithPaymentFromConfig, x402Client, x402HTTPClient } from '@x402/fetch'
import { ExactSvmScheme } from '@x402/svm/exact/client'
import { toClientSvmSigner } from '@x402/svm'
import { fetchAnswer, reason, suite, tally } from './lib.mjs'

const t = suite('svm')
const G = process.env.GATEWAY_URL
const RPC = process.env.SVM_RPC_URL
const PAY_TO = process.env.SVM_PAY_TO
const KEYS = (process.env.SVM_PAYER_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean)
const NETWORK = 'solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1' // devnet, the shim's stand-in
const USDC = '4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU'
const URL_PAID = `${G}/api/machines` // GET, $0.001, answers the payer's machines ([]) without a Fly call
const PRICE = 1000n

const b64json = (value) => JSON.parse(Buffer.from(value, 'base64').toString('utf8'))
const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64')

/** `{lamports, token}` of `owner` as the shim holds them (token: base units of its USDC ATA). */
async function balances(owner) {
  const r = await (await fetch(`${RPC}/__shim/balances/${owner}`)).json()
  return { lamports: BigInt(r.lamports), token: BigInt(r.token ?? 0) }
}
const merchant = async () => (await balances(PAY_TO)).token

/** A keypair signer from a base58 64-byte key. */
async function signer(key) {
  return toClientSvmSigner(await createKeyPairSignerFromBytes(getBase58Encoder().encode(key)))
}

/** The @x402/fetch client paying with `key` through the shim. */
async function client(key) {
  return new x402Client().register(NETWORK, new ExactSvmScheme(await signer(key), { rpcUrl: RPC }))
}

/** fetch that records the x402 request headers it sends. */
function recordingFetch(log) {
  return async (input, init) => {
    const req = new Request(input, init)
    log.push({ signature: req.headers.get('payment-signature'), xPayment: req.headers.get('x-payment') })
    return fetch(req)
  }
}

/** The 402 for GET /api/machines, as the v2 client reads it. */
async function paymentRequired() {
  const res = await fetch(URL_PAID)
  const body = await res.json().catch(() => undefined)
  if (res.status !== 402) throw new Error(`expected 402, got ${res.status}`)
  return new x402HTTPClient(new x402Client()).getPaymentRequiredResponse((n) => res.headers.get(n), body)
}

/** A PAYMENT-SIGNATURE value the real client builds for `required` (not sent). */
async function signed(key, required) {
  const c = await client(key)
  const payload = await c.createPaymentPayload(required ?? (await paymentRequired()))
  return { payload, header: new x402HTTPClient(c).encodePaymentSignatureHeader(payload)['PAYMENT-SIGNATURE'] }
}



const send = (headers) => fetchAnswer(URL_PAID, { headers })

/** The Solana entry of an `accepts` list. */
const svmOffer = (accepts) => (accepts ?? []).find((a) => a.network === NETWORK || a.network === 'solana-devnet') ?? {}

await t.step('setup: two funded payers without SOL and an existing merchant account', async () => {
  t.check('SVM_PAYER_KEYS has at least two keys', KEYS.length >= 2, KEYS.length)
  for (const key of KEYS.slice(0, 2)) {
    const { address } = await signer(key)
    const b = await balances(address)
    t.check(`payer ${address} holds >= 3000 USDC units and 0 SOL`, b.token >= 3n * PRICE && b.lamports === 0n, b)
  }
  const m = await (await fetch(`${RPC}/__shim/balances/${PAY_TO}`)).json()
  t.check('the merchant USDC account exists', m.token !== null, m)
})

await t.step('the 402 offers x402 exact on Solana devnet (v2 header, v1 body)', async () => {
  const res = await fetch(URL_PAID)
  const body = await res.json()
  t.check('GET /api/machines without payment is 402', res.status === 402, res.status)
  const header = res.headers.get('payment-required')
  const a = svmOffer(header ? b64json(header).accepts : [])
  t.check(
    'PAYMENT-REQUIRED has an exact offer of 1000 devnet-USDC units to SVM_PAY_TO with extra.feePayer',
    a.scheme === 'exact' && a.network === NETWORK && a.amount === '1000' && a.asset === USDC && a.payTo === PAY_TO &&
      typeof a.extra?.feePayer === 'string' && a.extra.feePayer !== PAY_TO,
    a,
  )
  const b = svmOffer(body.accepts)
  t.check(
    'the v1 body has the same offer on solana-devnet with maxAmountRequired and the resource',
    b.network === 'solana-devnet' && b.maxAmountRequired === '1000' && b.resource === URL_PAID && b.extra?.feePayer === a.extra?.feePayer,
    b,
  )
})

let captured
await t.step('@x402/fetch + @x402/svm 2.27 pay GET /api/machines', async () => {
  const log = []
  const { address } = await signer(KEYS[0])
  const pay = wrapFetchWithPaymentFromConfig(recordingFetch(log), {
    schemes: [{ network: NETWORK, client: new ExactSvmScheme(await signer(KEYS[0]), { rpcUrl: RPC }) }],
  })
  const [before, payerBefore] = [await merchant(), await balances(address)]
  const res = await pay(URL_PAID)
  const body = await res.json().catch(() => undefined)
  const [after, payerAfter] = [await merchant(), await balances(address)]
  t.check('the paid request answers 200 with []', res.status === 200 && JSON.stringify(body) === '[]', { status: res.status, body })
  const header = res.headers.get('payment-response')
  const receipt = header ? decodePaymentResponseHeader(header) : {}
  t.check(
    'PAYMENT-RESPONSE is {success:true, transaction:<base58 signature>, network:devnet, payer}',
    receipt.success === true && /^[1-9A-HJ-NP-Za-km-z]{86,88}$/.test(receipt.transaction ?? '') && receipt.network === NETWORK &&
      receipt.payer === address,
    receipt,
  )
  t.check('the merchant USDC account rose by exactly 1000 units', after - before === PRICE, `${after - before}`)
  t.check('the payer paid exactly 1000 units and still holds 0 SOL', payerBefore.token - payerAfter.token === PRICE && payerAfter.lamports === 0n, { payerBefore, payerAfter })
  captured = log.map((l) => l.signature).find(Boolean)
  t.check('the client sent PAYMENT-SIGNATURE (not X-PAYMENT)', !!captured && !log.some((l) => l.xPayment))
  if (captured) {
    const tx = Buffer.from(b64json(captured).payload.transaction, 'base64')
    t.check('the payload is a v0 transaction with an empty fee-payer signature slot', tx[0] === 2 && tx.subarray(1, 65).every((b) => b === 0) && tx[129] === 0x80)
  }
})

await t.step('replay: the used PAYMENT-SIGNATURE is 403, 20 concurrent uses of a fresh one pay once', async () => {
  if (!captured) throw new Error('no PAYMENT-SIGNATURE captured from the paying case')
  let before = await merchant()
  const again = await send({ 'PAYMENT-SIGNATURE': captured })
  t.check('resending the settled PAYMENT-SIGNATURE is 403 without a new challenge', again.status === 403 && !again.headers.get('payment-required'), again)
  t.check('resending charged nothing', (await merchant()) === before)

  const { header } = await signed(KEYS[1])
  before = await merchant()
  const results = await Promise.all(Array.from({ length: 20 }, () => send({ 'PAYMENT-SIGNATURE': header })))
  t.check('exactly one of 20 concurrent requests answers 200', results.filter((r) => r.status === 200).length === 1, tally(results))
  t.check(
    'the other 19 are 403 without a new challenge',
    results.filter((r) => r.status !== 200).every((r) => r.status === 403 && !r.headers.get('payment-required')),
    tally(results),
  )
  t.check('the merchant received exactly 1000 units once', (await merchant()) - before === PRICE, `${(await merchant()) - before}`)
})

await t.step('tampered amounts are refused with a fresh 402 and no charge', async () => {
  const required = await paymentRequired()
  const before = await merchant()
  const { payload, header: genuine } = await signed(KEYS[1], required)

  const lowered = structuredClone(payload)
  lowered.accepted.amount = '1'
  let r = await send({ 'PAYMENT-SIGNATURE': b64(lowered) })
  t.check('accepted.amount changed to 1: 402 invalid_payment_requirements with PAYMENT-REQUIRED', r.status === 402 && reason(r) === 'invalid_payment_requirements' && !!r.headers.get('payment-required'), r)

  const cheap = structuredClone(required)
  cheap.accepts = cheap.accepts.map((a) => (a.network === NETWORK ? { ...a, amount: '1' } : a))
  r = await send({ 'PAYMENT-SIGNATURE': (await signed(KEYS[1], cheap)).header })
  t.check('a validly signed payment of 1 unit (client fed a lowered price): 402 invalid_payment_requirements', r.status === 402 && reason(r) === 'invalid_payment_requirements', r)

  // The transaction moves 999 units while `accepted` claims the real offer.
  const under = structuredClone(required)
  under.accepts = under.accepts.map((a) => (a.network === NETWORK ? { ...a, amount: '999' } : a))
  const underpaid = (await signed(KEYS[1], under)).payload
  underpaid.accepted = payload.accepted
  r = await send({ 'PAYMENT-SIGNATURE': b64(underpaid) })
  t.check('a transfer of 999 under the real offer: 402 invalid_exact_svm_payload_amount_mismatch', r.status === 402 && reason(r) === 'invalid_exact_svm_payload_amount_mismatch', r)

  const misdirected = structuredClone(required)
  misdirected.accepts = misdirected.accepts.map((a) => (a.network === NETWORK ? { ...a, payTo: a.extra.feePayer } : a))
  r = await send({ 'PAYMENT-SIGNATURE': (await signed(KEYS[1], misdirected)).header })
  t.check('a payment to another payTo: 402', r.status === 402, r)

  t.check('none of them charged anything', (await merchant()) === before, `${(await merchant()) - before}`)
  r = await send({ 'PAYMENT-SIGNATURE': genuine })
  t.check('the untampered original still pays (200)', r.status === 200, r)
  t.check('and the merchant received exactly 1000 units', (await merchant()) - before === PRICE, `${(await merchant()) - before}`)
})

/**
 * `payload` with its transaction rebuilt by `edit(message)` (a decompiled v0 message) and signed
 * again by the payer `key`, as an attacker holding a genuine payload would.
 */
async function rewritten(payload, key, edit) {
  const tx = getTransactionDecoder().decode(Buffer.from(payload.payload.transaction, 'base64'))
  const message = decompileTransactionMessage(getCompiledTransactionMessageDecoder().decode(tx.messageBytes))
  const rebuilt = compileTransaction(edit(message))
  const signedTx = await partiallySignTransaction([(await createKeyPairSignerFromBytes(getBase58Encoder().encode(key))).keyPair], rebuilt)
  return { ...payload, payload: { ...payload.payload, transaction: getBase64EncodedWireTransaction(signedTx) } }
}

/** The `TransferChecked` (instruction data tag 12) of a message. */
const transferOf = (message) => message.instructions.find((i) => i.data?.[0] === 12)

await t.step('crafted transactions are refused before co-signing, with nothing settled', async () => {
  const required = await paymentRequired()
  const { address: payer } = await signer(KEYS[1])
  const [before, payerBefore] = [await merchant(), await balances(payer)]
  const { payload } = await signed(KEYS[1], required)
  const feePayer = svmOffer(required.accepts).extra.feePayer
  const plain = decompileTransactionMessage(
    getCompiledTransactionMessageDecoder().decode(getTransactionDecoder().decode(Buffer.from(payload.payload.transaction, 'base64')).messageBytes),
  )
  t.check(
    'the real client builds compute limit, compute price, TransferChecked (and at most a memo)',
    [3, 4].includes(plain.instructions.length) && plain.instructions.indexOf(transferOf(plain)) === 2,
    plain.instructions.length,
  )
  const cases = [
    [
      'a second TransferChecked (1 unit, same accounts) inserted after the first',
      (m) => {
        const transfer = transferOf(m)
        const data = Uint8Array.from(transfer.data)
        new DataView(data.buffer).setBigUint64(1, 1n, true)
        const list = [...m.instructions]
        list.splice(3, 0, { ...transfer, data })
        return { ...m, instructions: list }
      },
      // 3 + 1 instructions: the fourth is not a memo; 4 + 1: one too many.
      [plain.instructions.length === 3 ? 'invalid_exact_svm_payload_unknown_fourth_instruction' : 'invalid_exact_svm_payload_transaction_instructions_length'],
    ],
    [
      "the fee payer added as an account of the transfer instruction",
      (m) => ({
        ...m,
        instructions: m.instructions.map((i) =>
          i === transferOf(m) ? { ...i, accounts: [...i.accounts, { address: address(feePayer), role: AccountRole.READONLY }] } : i,
        ),
      }),
      ['invalid_exact_svm_payload_transaction_fee_payer_transferring_funds'],
    ],
    [
      'another fee payer than the offered one',
      (m) => setTransactionMessageFeePayer(address(PAY_TO), m),
      ['invalid_exact_svm_fee_payer_mismatch'],
    ],
  ]
  for (const [label, edit, codes] of cases) {
    const r = await send({ 'PAYMENT-SIGNATURE': b64(await rewritten(payload, KEYS[1], edit)) })
    t.check(`${label}: 402 ${codes.join(' or ')}`, r.status === 402 && codes.includes(reason(r)), { status: r.status, reason: reason(r) })
  }

  // A genuine payment whose blockhash expires before it is presented.
  const late = (await signed(KEYS[1], required)).header
  const expired = await (await fetch(`${RPC}/__shim/expire-blockhash`, { method: 'POST' })).json()
  t.check('the shim moved to a new blockhash', typeof expired.blockhash === 'string', expired)
  const r = await send({ 'PAYMENT-SIGNATURE': late })
  t.check('a payment on an expired blockhash: 402 invalid_exact_svm_payload_transaction', r.status === 402 && reason(r) === 'invalid_exact_svm_payload_transaction', { status: r.status, body: r.body })

  const payerAfter = await balances(payer)
  t.check('none of them settled: merchant and payer balances unchanged', (await merchant()) === before && payerAfter.token === payerBefore.token && payerAfter.lamports === 0n, { before, payerBefore, payerAfter })
  const fresh = await send({ 'PAYMENT-SIGNATURE': (await signed(KEYS[1])).header })
  t.check('a fresh payment on the new blockhash pays (200) exactly 1000 units', fresh.status === 200 && (await merchant()) - before === PRICE, fresh.status)
})

t.done()
