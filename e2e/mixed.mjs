// One 402, four rails: with Tempo (MPP), Base, Solana and MegaETH enabled, a single unpaid
// GET /api/machines answers one 402 that carries the MPP challenge (WWW-Authenticate: Payment)
// and one x402 `accepts` entry per network. Four real clients each pay that same 402 on their
// own rail — the mppx library (Tempo), @x402/fetch + @x402/evm on Base (EIP-3009),
// @x402/fetch + @x402/svm on Solana (the LiteSVM shim) and @x402/fetch + @x402/evm on MegaETH
// (Permit2 with EIP-2612 gas sponsoring) — and each payment is settled exactly once on its own
// chain: every merchant balance rises by exactly one price, on its chain only. Replays (403), a
// payment presented for another rail's offer (400, malformed for that scheme) and one claiming
// a network not offered (402) are refused with nothing settled. Prints `N passed, N failed`.
//
// Env: GATEWAY_URL, RPC_URL, RECIPIENT (Tempo); BASE_RPC_URL, BASE_PAY_TO, MIXED_BASE_KEY;
// SVM_RPC_URL, SVM_PAY_TO, MIXED_SVM_KEY; MEGAETH_RPC_URL, MEGAETH_PAY_TO, MIXED_MEGAETH_KEY
// (each payer funded on its chain by xtask; the Tempo payer is a fresh wallet funded here).
import { createPublicClient, getAddress, http, parseAbi } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { createKeyPairSignerFromBytes, getBase58Encoder } from '@solana/kit'
import { decodePaymentResponseHeader, x402Client, x402HTTPClient } from '@x402/fetch'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import { ExactSvmScheme } from '@x402/svm/exact/client'
import { toClientSvmSigner } from '@x402/svm'
import { USDM, tokenAbi } from './deploy-megaeth.mjs'
import { balance, env, fetchAnswer, fund, mppxClient, reason, suite } from './lib.mjs'

const t = suite('mixed')
const URL_PAID = `${env.gateway}/api/machines` // GET, $0.001
const NETWORKS = { base: 'eip155:84532', solana: 'solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1', megaeth: 'eip155:4326' }
const USDC_BASE = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
/** $0.001 in each rail's base units. */
const PRICE = { tempo: 1000n, base: 1000n, solana: 1000n, megaeth: 10n ** 15n }

const evmChain = (id, rpc) => ({ id, name: `anvil-${id}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [rpc] } } })
const baseClient = createPublicClient({ chain: evmChain(84532, process.env.BASE_RPC_URL), transport: http(process.env.BASE_RPC_URL) })
const megaClient = createPublicClient({ chain: evmChain(4326, process.env.MEGAETH_RPC_URL), transport: http(process.env.MEGAETH_RPC_URL) })
const erc20 = parseAbi(['function balanceOf(address) view returns (uint256)'])

/** Every merchant's balance on its own chain, in base units. */
async function merchants() {
  const svm = await (await fetch(`${process.env.SVM_RPC_URL}/__shim/balances/${process.env.SVM_PAY_TO}`)).json()
  return {
    tempo: await balance(env.recipient),
    base: await baseClient.readContract({ address: USDC_BASE, abi: erc20, functionName: 'balanceOf', args: [getAddress(process.env.BASE_PAY_TO)] }),
    solana: BigInt(svm.token ?? 0),
    megaeth: await megaClient.readContract({ address: USDM, abi: tokenAbi, functionName: 'balanceOf', args: [getAddress(process.env.MEGAETH_PAY_TO)] }),
  }
}

/** `after - before` per rail. */
const delta = (before, after) => Object.fromEntries(Object.keys(before).map((k) => [k, after[k] - before[k]]))
const show = (d) => JSON.stringify(d, (_, v) => (typeof v === 'bigint' ? v.toString() : v))
/** Whether `d` is exactly `PRICE` on `rails` and 0 elsewhere. */
const settledOn = (d, rails) => Object.keys(d).every((k) => d[k] === (rails.includes(k) ? PRICE[k] : 0n))

const b64json = (value) => JSON.parse(Buffer.from(value, 'base64').toString('utf8'))
const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64')

// The x402 clients, each registered for its own network only, so each picks its own entry.
const svmSigner = toClientSvmSigner(await createKeyPairSignerFromBytes(getBase58Encoder().encode(process.env.MIXED_SVM_KEY)))
const x402Clients = {
  base: new x402Client().register(NETWORKS.base, new ExactEvmScheme(privateKeyToAccount(process.env.MIXED_BASE_KEY))),
  solana: new x402Client().register(NETWORKS.solana, new ExactSvmScheme(svmSigner, { rpcUrl: process.env.SVM_RPC_URL })),
  megaeth: new x402Client().register(
    NETWORKS.megaeth,
    new ExactEvmScheme(privateKeyToAccount(process.env.MIXED_MEGAETH_KEY), { rpcUrl: process.env.MEGAETH_RPC_URL }),
  ),
}
const tempoPayer = mppxClient(generatePrivateKey())

// The one 402, kept whole (status, headers, body) so every client reads the same answer.
const first = await fetch(URL_PAID)
const firstText = await first.text()
const the402 = () => new Response(firstText, { status: first.status, headers: first.headers })
const required = await new x402HTTPClient(new x402Client()).getPaymentRequiredResponse(
  (n) => first.headers.get(n),
  JSON.parse(firstText),
)

await t.step('/health lists the four rails, each ready', async () => {
  const h = await (await fetch(`${env.gateway}/health`)).json()
  const rails = (h.rails ?? []).map((r) => r.rail).sort()
  t.check('/health names tempo, base, solana and megaeth', JSON.stringify(rails) === JSON.stringify(['base', 'megaeth', 'solana', 'tempo']), rails)
  t.check('no rail reports a readiness problem', (h.rails ?? []).every((r) => (r.problems ?? []).length === 0), h.rails)
})

await t.step('one 402 carries the MPP challenge and one x402 offer per network (v2 header and v1 body)', async () => {
  t.check('GET /api/machines without payment is 402', first.status === 402, first.status)
  const challenge = first.headers.get('www-authenticate') ?? ''
  t.check('WWW-Authenticate carries an MPP Payment challenge with method tempo', /Payment /.test(challenge) && /method="tempo"/.test(challenge), challenge)
  const v2 = b64json(first.headers.get('payment-required') ?? 'e30=')
  const networks = (v2.accepts ?? []).map((a) => a.network).sort()
  t.check('PAYMENT-REQUIRED has exactly one exact offer per x402 network', JSON.stringify(networks) === JSON.stringify(Object.values(NETWORKS).sort()), networks)
  const v1 = JSON.parse(firstText).accepts ?? []
  t.check('the v1 body offers Base and Solana (x402 v1 has no Permit2, so no MegaETH)', v1.some((a) => a.network === 'base-sepolia') && v1.some((a) => a.network === 'solana-devnet'), v1.map((a) => a.network))
})

// The credentials, all made from the one 402 before any is sent.
const headers = {}
await t.step('each real client builds its payment from that same 402', async () => {
  await fund(tempoPayer.account.address, 1_000_000n)
  headers.tempo = { Authorization: await tempoPayer.mppx.createCredential(the402()) }
  for (const rail of ['base', 'solana', 'megaeth']) {
    const payload = await x402Clients[rail].createPaymentPayload(required)
    t.check(`the ${rail} client chose the ${NETWORKS[rail]} offer`, payload.accepted?.network === NETWORKS[rail], payload.accepted)
    headers[rail] = { 'PAYMENT-SIGNATURE': new x402HTTPClient(x402Clients[rail]).encodePaymentSignatureHeader(payload)['PAYMENT-SIGNATURE'] }
  }
})

await t.step('a payment presented for another network than it was signed for is refused, nothing settled', async () => {
  const before = await merchants()
  const present = (rail, accepted) =>
    fetchAnswer(URL_PAID, { headers: { 'PAYMENT-SIGNATURE': b64({ ...b64json(headers[rail]['PAYMENT-SIGNATURE']), accepted }) } })
  // Another rail's offer: the payload has the wrong shape for that scheme, a malformed payment.
  for (const [rail, claimed] of [['base', 'megaeth'], ['megaeth', 'base'], ['solana', 'base']]) {
    const r = await present(rail, required.accepts.find((a) => a.network === NETWORKS[claimed]))
    t.check(`a ${rail} payment claiming the ${claimed} offer: 400 invalid_payload`, r.status === 400 && reason(r) === 'invalid_payload', { status: r.status, body: r.body })
  }
  // The same offer on a network not offered here (mainnet): refused with a fresh challenge.
  for (const [rail, mainnet] of [['base', 'eip155:8453'], ['solana', 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp']]) {
    const r = await present(rail, { ...required.accepts.find((a) => a.network === NETWORKS[rail]), network: mainnet })
    t.check(`a ${rail} payment claiming ${mainnet}: 402 with PAYMENT-REQUIRED (${reason(r)})`, r.status === 402 && !!r.headers.get('payment-required'), { status: r.status, body: r.body })
  }
  const d = delta(before, await merchants())
  t.check('no merchant balance moved on any chain', settledOn(d, []), show(d))
})

await t.step('the four payments of the same route each settle once, on their own chain', async () => {
  for (const rail of ['tempo', 'base', 'solana', 'megaeth']) {
    const before = await merchants()
    const r = await fetchAnswer(URL_PAID, { headers: headers[rail] })
    const d = delta(before, await merchants())
    t.check(`${rail}: the paid GET answers 200 with []`, r.status === 200 && Array.isArray(r.body), { status: r.status, body: r.body })
    const receipt = rail === 'tempo' ? r.headers.get('payment-receipt') : r.headers.get('payment-response')
    t.check(`${rail}: the answer carries its rail's receipt`, !!receipt && (rail === 'tempo' || decodePaymentResponseHeader(receipt).network === NETWORKS[rail]), receipt)
    t.check(`${rail}: exactly one price settled, on its own chain only`, settledOn(d, [rail]), show(d))
  }
})

await t.step('each used payment, sent again, is refused with nothing settled', async () => {
  const before = await merchants()
  for (const rail of ['tempo', 'base', 'solana', 'megaeth']) {
    const r = await fetchAnswer(URL_PAID, { headers: headers[rail] })
    t.check(`${rail}: the replay is 403 verification-failed`, r.status === 403 && reason(r) === 'verification-failed', { status: r.status, body: r.body })
  }
  const d = delta(before, await merchants())
  t.check('no merchant balance moved on any chain', settledOn(d, []), show(d))
})

t.done()
