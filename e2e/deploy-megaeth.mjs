// Installs the project's test doubles on an anvil with chain id 4326 (MegaETH) at their
// canonical addresses: Permit2, x402ExactPermit2Proxy and a MegaUSD-like EIP-2612 token (USDm,
// 18 decimals), from the committed artifacts (compile-contracts.mjs), then mints USDm to the
// payers (who get no ETH) and gives GAS_TO (the gateway's settlement key) 1000 ETH.
//
//   RPC_URL=http://127.0.0.1:8545 MINT_TO=0xabc…,0xdef… [GAS_TO=0x…,…] [MINT_AMOUNT=100000000000000000000] node deploy-megaeth.mjs
//
// Each contract is deployed from anvil dev account 0, then its runtime code (with the token's
// EIP-712 immutables filled in by its constructor) is copied to the canonical address.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createPublicClient, createTestClient, createWalletClient, getAddress, http, parseAbi } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'

export const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3'
export const PROXY = '0x402085c248EeA27D92E8b30b2C58ed07f9E20001'
export const USDM = '0xFAfDdbb3FC7688494971a79cc65DCa3EF82079E7'
const MNEMONIC = 'test test test test test test test test test test test junk'
const ARTIFACTS = new URL('../crates/payments/evm/tests/fixtures/megaeth-contracts.json', import.meta.url)

export const tokenAbi = parseAbi([
  'function mint(address to, uint256 amount)',
  'function balanceOf(address account) view returns (uint256)',
  'function allowance(address owner, address spender) view returns (uint256)',
  'function nonces(address owner) view returns (uint256)',
  'function name() view returns (string)',
  'function decimals() view returns (uint8)',
  'function eip712Domain() view returns (bytes1, string, string, uint256, address, bytes32, uint256[])',
])
const proxyAbi = parseAbi(['function PERMIT2() view returns (address)'])

/**
 * Installs the contracts on the anvil at `rpcUrl`, mints `amount` USDm (base units) to each of
 * `mintTo` and sets the ETH balance of each of `gasTo` to 1000 ETH.
 */
export async function deployMegaeth(rpcUrl, mintTo, amount = 100n * 10n ** 18n, gasTo = []) {
  const transport = http(rpcUrl)
  const pub = createPublicClient({ transport })
  const chainId = await pub.getChainId()
  if (chainId !== 4326) throw new Error(`chain id is ${chainId}, expected 4326 (MegaETH)`)
  const chain = {
    id: chainId,
    name: 'anvil-megaeth',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  }
  const deployer = createWalletClient({ account: mnemonicToAccount(MNEMONIC, { addressIndex: 0 }), chain, transport })
  const test = createTestClient({ mode: 'anvil', chain, transport })
  const { contracts } = JSON.parse(readFileSync(ARTIFACTS, 'utf8'))

  const send = async (hashPromise) => {
    const receipt = await pub.waitForTransactionReceipt({ hash: await hashPromise, pollingInterval: 100 })
    if (receipt.status !== 'success') throw new Error(`transaction ${receipt.transactionHash} reverted`)
    return receipt
  }
  const install = async (name, at) => {
    const { contractAddress } = await send(deployer.sendTransaction({ data: contracts[name].bytecode }))
    await test.setCode({ address: at, bytecode: await pub.getCode({ address: contractAddress }) })
  }
  await install('TestPermit2', PERMIT2)
  await install('TestX402ExactPermit2Proxy', PROXY)
  await install('TestMegaUSD', USDM)
  for (const to of mintTo) {
    await send(deployer.writeContract({ address: USDM, abi: tokenAbi, functionName: 'mint', args: [getAddress(to), amount] }))
  }
  for (const to of gasTo) {
    await test.setBalance({ address: getAddress(to), value: 1000n * 10n ** 18n })
  }

  const read = (address, abi, functionName, args = []) => pub.readContract({ address, abi, functionName, args })
  const [name, decimals, domain, permit2] = [
    await read(USDM, tokenAbi, 'name'),
    await read(USDM, tokenAbi, 'decimals'),
    await read(USDM, tokenAbi, 'eip712Domain'),
    await read(PROXY, proxyAbi, 'PERMIT2'),
  ]
  if (name !== 'MegaUSD' || decimals !== 18 || domain[1] !== 'MegaUSD' || domain[2] !== '1' || getAddress(domain[4]) !== USDM) {
    throw new Error(`USDm reads name=${name} decimals=${decimals} domain=${domain}`)
  }
  if (getAddress(permit2) !== PERMIT2) throw new Error(`the proxy's PERMIT2 is ${permit2}`)
  for (const to of mintTo) {
    const b = await read(USDM, tokenAbi, 'balanceOf', [getAddress(to)])
    if (b < amount) throw new Error(`balance of ${to} is ${b} after minting ${amount}`)
  }
  return { name, version: domain[2], decimals }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rpc = process.env.RPC_URL
  if (!rpc) {
    console.error('RPC_URL is required')
    process.exit(2)
  }
  const list = (name) => (process.env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  const [mintTo, gasTo] = [list('MINT_TO'), list('GAS_TO')]
  const amount = BigInt(process.env.MINT_AMOUNT ?? (100n * 10n ** 18n).toString())
  try {
    const t = await deployMegaeth(rpc, mintTo, amount, gasTo)
    console.log(
      `Permit2 at ${PERMIT2}, x402ExactPermit2Proxy at ${PROXY}, USDm ("${t.name}" v${t.version}, ${t.decimals} decimals) ` +
        `at ${USDM}: minted ${amount} to ${mintTo.length} payer(s), gas to ${gasTo.length} settler(s)`,
    )
  } catch (e) {
    console.error(`deploy-megaeth failed: ${e?.stack ?? e}`)
    process.exit(1)
  }
}
