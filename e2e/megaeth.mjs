// x402 end-to-end cases against the gateway's MegaETH rail: anvil with chain id 4326 and the
// project's test doubles of Permit2, x402ExactPermit2Proxy and USDm (18 decimals, EIP-2612, no
// EIP-3009) at their canonical addresses (deploy-megaeth.mjs), paid by the real client:
// @x402/fetch + @x402/evm 2.27 `ExactEvmScheme(account, {rpcUrl})`, which signs the Permit2
// witness transfer and, because the 402 advertises `eip2612GasSponsoring` and it can read the
// chain, the EIP-2612 permit that lets the gateway approve Permit2 for it. The payers hold no
// ETH: the gateway's settlement key sends `settleWithPermit` and pays the gas.
// Every paying case asserts on chain that payTo's USDm balance rose by exactly the price.
// Prints `N passed, N failed`.
//
// Env: GATEWAY_URL, MEGAETH_RPC_URL, MEGAETH_PAY_TO, MEGAETH_SETTLER, MEGAETH_PAYER_KEYS (3 keys).
import { createPublicClient, getAddress, http, parseAbi, toFunctionSelector } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { decodePaymentResponseHeader, wrapFetchWithPaymentFromConfig, x402Client, x402HTTPClient } from '@x402/fetch'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import { PERMIT2, PROXY, USDM, tokenAbi } from './deploy-megaeth.mjs'
import { fetchAnswer, reason, suite, tally } from './lib.mjs'

const t = suite('megaeth')
const G = process.env.GATEWAY_URL
const RPC = process.env.MEGAETH_RPC_URL
const PAY_TO = getAddress(process.env.MEGAETH_PAY_TO)
const SETTLER = getAddress(process.env.MEGAETH_SETTLER)
const [mainKey, replayKey, tamperKey] = (process.env.MEGAETH_PAYER_KEYS ?? '').split(',')
const NETWORK = 'eip155:4326'
const URL_PAID = `${G}/api/machines` // GET, $0.001, answers the payer's machines ([]) without a Fly call
const PRICE = 10n ** 15n // $0.001 in USDm base units (18 decimals)
const SETTLE_WITH_PERMIT = toFunctionSelector(
  'settleWithPermit((uint256,uint256,bytes32,bytes32,uint8),((address,uint256),uint256,uint256),address,(address,uint256),bytes)',
)

const chain = {
  id: 4326,
  name: 'anvil-megaeth',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [RPC] } },
}
const pub = createPublicClient({ chain, transport: http(RPC) })
const permit2Abi = parseAbi(['function nonceBitmap(address owner, uint256 wordPos) view returns (uint256)'])
const read = (functionName, args) => pub.readContract({ address: USDM, abi: tokenAbi, functionName, args })
const usdm = (address) => read('balanceOf', [address])
const allowance = (owner) => read('allowance', [owner, PERMIT2])
const eth = (address) => pub.getBalance({ address })
/** Whether Permit2 marks `nonce` of `owner` used (bit `nonce & 0xff` of word `nonce >> 8`). */
const nonceUsed = async (owner, nonce) => {
  const n = BigInt(nonce)
  const word = await pub.readContract({ address: PERMIT2, abi: permit2Abi, functionName: 'nonceBitmap', args: [owner, n >> 8n] })
  return ((word >> (n & 0xffn)) & 1n) === 1n
}

const b64json = (value) => JSON.parse(Buffer.from(value, 'base64').toString('utf8'))
const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64')

const send = (headers) => fetchAnswer(URL_PAID, { headers })

/** fetch that records the PAYMENT-SIGNATURE it sends. */
function recordingFetch(log) {
  return async (input, init) => {
    const req = new Request(input, init)
    const signature = req.headers.get('payment-signature')
    if (signature) log.push(signature)
    return fetch(req)
  }
}

/** The real client for `key`: with `rpcUrl` it can read allowance and nonces(), so it signs the permit. */
const client = (key, withRpc = true) =>
  new x402Client().register(NETWORK, new ExactEvmScheme(privateKeyToAccount(key), withRpc ? { rpcUrl: RPC } : undefined))

/** The 402 for GET /api/machines, as the v2 client reads it. */
async function paymentRequired() {
  const res = await fetch(URL_PAID)
  const body = await res.json().catch(() => undefined)
  if (res.status !== 402) throw new Error(`expected 402, got ${res.status}`)
  return new x402HTTPClient(new x402Client()).getPaymentRequiredResponse((n) => res.headers.get(n), body)
}

/** A payment signed by the real client for `required` (not sent): the payload and its header. */
async function signed(key, required, withRpc = true) {
  const c = client(key, withRpc)
  const payload = await c.createPaymentPayload(required ?? (await paymentRequired()))
  return { payload, header: new x402HTTPClient(c).encodePaymentSignatureHeader(payload)['PAYMENT-SIGNATURE'] }
}

await t.step('the 402 offers USDm on eip155:4326 through Permit2 and advertises eip2612GasSponsoring', async () => {
  const res = await fetch(URL_PAID)
  const body = await res.json()
  t.check('GET /api/machines without payment is 402', res.status === 402, res.status)
  const header = res.headers.get('payment-required')
  const v2 = header ? b64json(header) : {}
  const a = (v2.accepts ?? []).find((e) => e.network === NETWORK) ?? {}
  t.check(
    'PAYMENT-REQUIRED has an exact offer of 10^15 USDm units (18 decimals) to payTo with assetTransferMethod permit2',
    a.scheme === 'exact' && a.amount === PRICE.toString() && getAddress(a.asset ?? PAY_TO) === USDM &&
      getAddress(a.payTo ?? USDM) === PAY_TO && a.extra?.name === 'MegaUSD' && a.extra?.version === '1' &&
      a.extra?.assetTransferMethod === 'permit2',
    v2.accepts,
  )
  t.check(
    'the Base offer is still there, side by side',
    (v2.accepts ?? []).some((e) => e.network === 'eip155:84532' && e.extra?.assetTransferMethod === undefined),
    v2.accepts?.map((e) => e.network),
  )
  t.check(
    'extensions.eip2612GasSponsoring is advertised (info.version "1", the client fills the rest)',
    v2.extensions?.eip2612GasSponsoring?.info?.version === '1' && v2.extensions.eip2612GasSponsoring.info.signature === undefined,
    v2.extensions,
  )
  t.check('the v1 body has no MegaETH entry (x402 v1 has no Permit2)', !(body.accepts ?? []).some((e) => `${e.network}`.includes('4326')), body.accepts)
})

let captured
await t.step('@x402/fetch 2.27 + ExactEvmScheme(account, {rpcUrl}) pays GET /api/machines with a gasless permit', async () => {
  const account = privateKeyToAccount(mainKey)
  const log = []
  const pay = wrapFetchWithPaymentFromConfig(recordingFetch(log), {
    schemes: [{ network: NETWORK, client: new ExactEvmScheme(account, { rpcUrl: RPC }) }],
  })
  const [payToBefore, payerBefore, ethBefore, allowanceBefore] = [
    await usdm(PAY_TO),
    await usdm(account.address),
    await eth(account.address),
    await allowance(account.address),
  ]
  t.check('the payer holds no ETH and has not approved Permit2', ethBefore === 0n && allowanceBefore === 0n, { ethBefore, allowanceBefore })
  const res = await pay(URL_PAID)
  const body = await res.json().catch(() => undefined)
  t.check('the paid request answers 200 with []', res.status === 200 && JSON.stringify(body) === '[]', { status: res.status, body })
  const header = res.headers.get('payment-response')
  const receipt = header ? decodePaymentResponseHeader(header) : {}
  t.check(
    'PAYMENT-RESPONSE decodes to {success:true, transaction, network:"eip155:4326", payer, amount}',
    receipt.success === true && /^0x[0-9a-fA-F]{64}$/.test(receipt.transaction ?? '') && receipt.network === NETWORK &&
      getAddress(receipt.payer ?? PAY_TO) === account.address && receipt.amount === PRICE.toString(),
    receipt,
  )
  const [payToAfter, payerAfter, ethAfter] = [await usdm(PAY_TO), await usdm(account.address), await eth(account.address)]
  t.check('payTo received exactly $0.001 (10^15 units)', payToAfter - payToBefore === PRICE, `${payToAfter - payToBefore}`)
  t.check('the payer paid exactly $0.001', payerBefore - payerAfter === PRICE, `${payerBefore - payerAfter}`)
  t.check('the payer still holds no ETH: the gateway paid the gas', ethAfter === 0n, `${ethAfter}`)
  captured = log[log.length - 1]
  const sent = captured ? b64json(captured) : {}
  t.check(
    'the client sent a Permit2 authorization for the proxy and the EIP-2612 permit for Permit2',
    getAddress(sent.payload?.permit2Authorization?.spender ?? PAY_TO) === PROXY &&
      getAddress(sent.extensions?.eip2612GasSponsoring?.info?.spender ?? PAY_TO) === PERMIT2 &&
      sent.extensions.eip2612GasSponsoring.info.amount === PRICE.toString(),
    sent.extensions,
  )
  if (receipt.transaction) {
    const tx = await pub.getTransaction({ hash: receipt.transaction })
    const mined = await pub.getTransactionReceipt({ hash: receipt.transaction })
    t.check(
      'the transaction is mined, succeeded, is settleWithPermit on the proxy and was sent by the settlement key',
      mined.status === 'success' && getAddress(tx.to) === PROXY && getAddress(tx.from) === SETTLER && tx.input.startsWith(SETTLE_WITH_PERMIT),
      { status: mined.status, from: tx.from, to: tx.to, selector: tx.input.slice(0, 10) },
    )
  }
  const nonce = sent.payload?.permit2Authorization?.nonce
  t.check('the Permit2 nonce is used on chain', !!nonce && (await nonceUsed(account.address, nonce)))
  t.check('the permit approved exactly the price, all used (allowance back to 0)', (await allowance(account.address)) === 0n)
})

await t.step('replay: a used payment is refused with nothing settled; 20 concurrent uses of a fresh one settle once', async () => {
  if (!captured) throw new Error('no PAYMENT-SIGNATURE captured from the paying case')
  let before = await usdm(PAY_TO)
  const again = await send({ 'PAYMENT-SIGNATURE': captured })
  t.check(
    'resending the settled PAYMENT-SIGNATURE is 403 verification-failed, without a new challenge',
    again.status === 403 && reason(again) === 'verification-failed' && !again.headers.get('payment-required'),
    { status: again.status, body: again.body },
  )
  t.check('resending settled nothing', (await usdm(PAY_TO)) === before)

  const { header, payload } = await signed(replayKey)
  before = await usdm(PAY_TO)
  const results = await Promise.all(Array.from({ length: 20 }, () => send({ 'PAYMENT-SIGNATURE': header })))
  t.check('exactly one of 20 concurrent requests answers 200', results.filter((r) => r.status === 200).length === 1, tally(results))
  t.check(
    'the other 9 are 403 verification-failed, none a 402',
    results.filter((r) => r.status !== 200).every((r) => r.status === 403 && reason(r) === 'verification-failed'),
    tally(results),
  )
  t.check('payTo received exactly $0.001 once', (await usdm(PAY_TO)) - before === PRICE, `${(await usdm(PAY_TO)) - before}`)
  const { from, nonce } = payload.payload.permit2Authorization
  t.check('its Permit2 nonce is used on chain', await nonceUsed(getAddress(from), nonce))
})

await t.step('tampered amounts are refused without a charge; the untampered payment still pays', async () => {
  const required = await paymentRequired()
  const account = privateKeyToAccount(tamperKey)
  const { payload, header: genuine } = await signed(tamperKey, required)
  const before = await usdm(PAY_TO)
  const cases = []
  const accepted = structuredClone(payload)
  accepted.accepted.amount = '1'
  cases.push(['accepted.amount changed to 1', accepted, 'invalid_payment_requirements'])
  for (const amount of ['1', (PRICE * 2n).toString()]) {
    const permitted = structuredClone(payload)
    permitted.payload.permit2Authorization.permitted.amount = amount
    cases.push([`permitted.amount changed to ${amount} after signing`, permitted, 'permit2_amount_mismatch'])
  }
  const permit = structuredClone(payload)
  permit.extensions.eip2612GasSponsoring.info.amount = '1'
  cases.push(['the EIP-2612 permit amount changed to 1', permit, 'permit2_2612_amount_mismatch'])
  for (const [label, tampered, code] of cases) {
    const r = await send({ 'PAYMENT-SIGNATURE': b64(tampered) })
    t.check(`${label}: 402 ${code} with a fresh PAYMENT-REQUIRED`, r.status === 402 && reason(r) === code && !!r.headers.get('payment-required'), { status: r.status, body: r.body })
  }
  const underpay = structuredClone(required)
  underpay.accepts = underpay.accepts.map((a) => ({ ...a, amount: '1' }))
  const r = await send({ 'PAYMENT-SIGNATURE': (await signed(tamperKey, underpay)).header })
  t.check('a validly signed payment of 1 unit (client fed a lowered price): 402 invalid_payment_requirements', r.status === 402 && reason(r) === 'invalid_payment_requirements', { status: r.status, body: r.body })
  t.check('none of them charged anything', (await usdm(PAY_TO)) === before, `${(await usdm(PAY_TO)) - before}`)
  t.check('nor used the Permit2 nonce', !(await nonceUsed(account.address, payload.payload.permit2Authorization.nonce)))
  const ok = await send({ 'PAYMENT-SIGNATURE': genuine })
  t.check('the untampered original still pays (200)', ok.status === 200, { status: ok.status, body: ok.body })
  t.check('and payTo received exactly $0.001', (await usdm(PAY_TO)) - before === PRICE, `${(await usdm(PAY_TO)) - before}`)
})

await t.step('without the permit and without an allowance: 412 permit2_allowance_required, nothing settled', async () => {
  // Without {rpcUrl} the client cannot read the chain, so it signs no EIP-2612 permit.
  const account = privateKeyToAccount(tamperKey)
  const { payload, header } = await signed(tamperKey, undefined, false)
  const before = await usdm(PAY_TO)
  t.check('the client sent no sponsoring permit, and the payer has no allowance', !payload.extensions?.eip2612GasSponsoring?.info?.signature && (await allowance(account.address)) === 0n, payload.extensions)
  const r = await send({ 'PAYMENT-SIGNATURE': header })
  t.check(
    '412 permit2_allowance_required with a fresh PAYMENT-REQUIRED (which advertises the extension)',
    r.status === 412 && reason(r) === 'permit2_allowance_required' &&
      !!b64json(r.headers.get('payment-required') ?? 'e30=').extensions?.eip2612GasSponsoring,
    { status: r.status, body: r.body },
  )
  t.check('nothing settled', (await usdm(PAY_TO)) === before && !(await nonceUsed(account.address, payload.payload.permit2Authorization.nonce)))
})

t.done()
