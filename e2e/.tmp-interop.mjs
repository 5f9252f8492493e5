import { createPublicClient, createWalletClient, http, parseAbi, getAddress, toHex } from 'viem'
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts'
import { x402Client } from '@x402/fetch'
import { ExactEvmScheme } from '@x402/evm/exact/client'
const M = 'test test test test test test test test test test test junk'
for (const i of [15,16,17,18,19]) { const a = mnemonicToAccount(M, {addressIndex: i}); console.log(i, a.address, toHex(a.getHdKey().privateKey)) }
const RPC='http://127.0.0.1:18545'
const payerKey = toHex(mnemonicToAccount(M, {addressIndex: 16}).getHdKey().privateKey)
const payer = privateKeyToAccount(payerKey)
const pub = createPublicClient({ transport: http(RPC) })
const dev = createWalletClient({ account: mnemonicToAccount(M,{addressIndex:0}), chain: {id:4326,name:'m',nativeCurrency:{name:'E',symbol:'E',decimals:18},rpcUrls:{default:{http:[RPC]}}}, transport: http(RPC) })
const USDM='0xFAfDdbb3FC7688494971a79cc65DCa3EF82079E7'
await dev.writeContract({address:USDM, abi: parseAbi(['function mint(address,uint256)']), functionName:'mint', args:[payer.address, 10n**18n]})
const payTo = mnemonicToAccount(M,{addressIndex:15}).address
const required = { x402Version: 2, resource: {url:'http://x/api/machines', description:'d', mimeType:'application/json'},
  accepts: [{scheme:'exact', network:'eip155:4326', amount:'1000000000000000', asset: USDM, payTo, maxTimeoutSeconds:300, extra:{name:'MegaUSD', version:'1', assetTransferMethod:'permit2'}}],
  extensions: { eip2612GasSponsoring: { info: { description: 'x', version: '1' }, schema: {} } } }
const client = new x402Client().register('eip155:4326', new ExactEvmScheme(payer, { rpcUrl: RPC }))
const p = await client.createPaymentPayload(required)
console.log(JSON.stringify(p, null, 1))
const proxyAbi = parseAbi([
 'struct TokenPermissions { address token; uint256 amount; }',
 'struct PermitTransferFrom { TokenPermissions permitted; uint256 nonce; uint256 deadline; }',
 'struct Witness { address to; uint256 validAfter; }',
 'struct EIP2612Permit { uint256 value; uint256 deadline; bytes32 r; bytes32 s; uint8 v; }',
 'function settleWithPermit(EIP2612Permit permit2612, PermitTransferFrom permit, address owner, Witness witness, bytes signature)'])
const a = p.payload.permit2Authorization, i = p.extensions.eip2612GasSponsoring.info
const sig = i.signature.slice(2)
const h = await dev.writeContract({address:'0x402085c248EeA27D92E8b30b2C58ed07f9E20001', abi: proxyAbi, functionName:'settleWithPermit', args:[
 {value: BigInt(i.amount), deadline: BigInt(i.deadline), r: '0x'+sig.slice(0,64), s:'0x'+sig.slice(64,128), v: parseInt(sig.slice(128,130),16)},
 {permitted:{token:a.permitted.token, amount: BigInt(a.permitted.amount)}, nonce: BigInt(a.nonce), deadline: BigInt(a.deadline)},
 a.from, {to: a.witness.to, validAfter: BigInt(a.witness.validAfter)}, p.payload.signature], gas: 500000n})
const r = await pub.waitForTransactionReceipt({hash:h})
console.log('status', r.status, 'logs', r.logs.length)
const erc = parseAbi(['function balanceOf(address) view returns (uint256)'])
console.log('payTo', await pub.readContract({address:USDM, abi:erc, functionName:'balanceOf', args:[payTo]}), 'payer eth', await pub.getBalance({address: payer.address}))
