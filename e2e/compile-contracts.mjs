// Compiles the project's Solidity test doubles in e2e/contracts/ (Permit2, x402ExactPermit2Proxy
// and a MegaUSD-like EIP-2612 token) with solc-js (npm `solc`, pinned in package.json) against
// the pinned @openzeppelin/contracts, and writes their ABI, creation and runtime bytecode to
// crates/payments/evm/tests/fixtures/megaeth-contracts.json, which is committed so the Rust
// tests and the e2e chain need no compiler.
//
//   node compile-contracts.mjs           # (re)write the artifacts
//   node compile-contracts.mjs --check   # exit 1 when the committed artifacts are stale
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const solc = require('solc')

const HERE = dirname(fileURLToPath(import.meta.url))
const SOURCES = join(HERE, 'contracts')
export const ARTIFACTS = join(HERE, '../crates/payments/evm/tests/fixtures/megaeth-contracts.json')
const CONTRACTS = ['TestPermit2', 'TestX402ExactPermit2Proxy', 'TestMegaUSD']

function findImport(path) {
  try {
    return { contents: readFileSync(join(HERE, 'node_modules', path), 'utf8') }
  } catch {
    return { error: `not found: ${path}` }
  }
}

export function compile() {
  const sources = Object.fromEntries(
    CONTRACTS.map((name) => [`${name}.sol`, { content: readFileSync(join(SOURCES, `${name}.sol`), 'utf8') }]),
  )
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      evmVersion: 'cancun',
      optimizer: { enabled: true, runs: 200 },
      // No metadata hash: the bytecode then depends on the sources only, not on file paths.
      metadata: { bytecodeHash: 'none', appendCBOR: false },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  }
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }))
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join('\n'))
  const oz = JSON.parse(readFileSync(join(HERE, 'node_modules/@openzeppelin/contracts/package.json'), 'utf8'))
  const contracts = {}
  for (const name of CONTRACTS) {
    const c = out.contracts[`${name}.sol`][name]
    contracts[name] = {
      abi: c.abi,
      bytecode: `0x${c.evm.bytecode.object}`,
      deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
    }
  }
  return { compiler: `solc-js ${solc.version()}`, openzeppelin: oz.version, contracts }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = `${JSON.stringify(compile(), null, 1)}\n`
  if (process.argv.includes('--check')) {
    const committed = readFileSync(ARTIFACTS, 'utf8')
    if (committed !== text) {
      console.error(`${ARTIFACTS} is stale: run node compile-contracts.mjs`)
      process.exit(1)
    }
    console.log('contract artifacts are up to date')
  } else {
    writeFileSync(ARTIFACTS, text)
    console.log(`wrote ${CONTRACTS.join(', ')} to ${ARTIFACTS}`)
  }
}
