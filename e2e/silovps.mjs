// The SiloVPS workflow from silovps-llms.txt, and TinyCompute's /api/do/droplets, on the
// DigitalOcean fake, paid on anvil --network tempo by the mppx CLI; free calls prove the wallet
// with the mppx library's zero-amount proofs. Every paid step checks payTo's exact rise.
// Env: lib.mjs's, DO_FAKE_URL, DO_TOKEN. Prints `N passed, N failed`.
import { generatePrivateKey } from 'viem/accounts'
import { balance, env, fund, mppxCli, mppxClient, sleep, suite } from './lib.mjs'

const t = suite('silovps')
const G = env.gateway
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl e2e@silovps'

async function doState() {
  const r = await fetch(`${process.env.DO_FAKE_URL}/__fake/state`, { headers: { Authorization: `Bearer ${process.env.DO_TOKEN}` } })
  return r.ok ? r.json() : {}
}
/** The droplet behind a server id (`srv_<size>-<droplet id>`) or a bare droplet id. */
const droplet = async (id) => {
  const pid = String(id).split('-').pop()
  return (await doState()).droplets?.find((d) => String(d.id) === pid)
}

/** A fresh wallet with $5 of pathUSD: its key and its mppx library client. */
async function wallet() {
  const key = generatePrivateKey()
  const { account, mppx } = mppxClient(key)
  await fund(account.address, 5_000_000n)
  return { key, mppx }
}

/** A paid call by the mppx CLI; `{status, body, moved}` with payTo's rise in base units. */
async function paid(key, path, args) {
  const before = await balance(env.recipient)
  const r = await mppxCli(key, `${G}${path}`, args)
  return { ...r, moved: (await balance(env.recipient)) - before }
}

/** A free, proof-authenticated call by the mppx library. */
async function free(mppx, path, init = {}) {
  const r = await mppx.fetch(`${G}${path}`, init)
  const text = await r.text()
  let body
  try { body = JSON.parse(text) } catch { body = text }
  return { status: r.status, body }
}

const alice = await wallet()
let keyId, serverId, snapshotId

await t.step('the catalog is free and lists the published sizes, regions and images', async () => {
  const sizes = await (await fetch(`${G}/v1/catalog/sizes`)).json()
  const small = sizes.sizes?.find((s) => s.id === 'small')
  t.check('small: $0.02 create + $0.015/h ($0.00025/min)', small?.create_fee === '0.02' && small.hourly === '0.015' && small.per_minute === '0.00025', small)
  const regions = await (await fetch(`${G}/v1/catalog/regions`)).json()
  t.check('regions nyc1, sfo3, ams3', JSON.stringify(regions.regions?.map((r) => r.id)) === '["nyc1","sfo3","ams3"]', regions)
  const images = await (await fetch(`${G}/v1/catalog/images`)).json()
  t.check('images Ubuntu 24.04 and Debian 12', images.images?.length === 2, images)
})

await t.step('register a key, create a small server for 20 minutes, poll it until active', async () => {
  const k = await paid(alice.key, '/v1/keys', ['-J', JSON.stringify({ name: 'e2e', public_key: KEY })])
  keyId = k.body?.id
  t.check('the key is registered for $0.001', k.status === 200 && String(keyId).startsWith('key_') && k.moved === 1000n, { status: k.status, body: k.body, moved: `${k.moved}` })
  const r = await paid(alice.key, '/v1/servers', ['-J', JSON.stringify({ size: 'small', region: 'nyc1', image: 'ubuntu-24-04-x64', minutes: 20, ssh_key_ids: [keyId] })])
  serverId = r.body?.id
  t.check('create answers {id: srv_…, status: provisioning, minutes_purchased: 20, total_charged: 0.025}', r.status === 200 && String(serverId).startsWith('srv_small-') && r.body.status === 'provisioning' && r.body.minutes_purchased === 20 && r.body.total_charged === '0.025' && !!r.body.paid_until, r.body)
  t.check('payTo rose by exactly $0.025 (25000 base units)', r.moved === 25000n, `${r.moved}`)
  let got
  for (let i = 0; i < 30; i++) {
    got = await free(alice.mppx, `/v1/servers/${serverId}`)
    if (got.body?.status === 'active' && got.body.ip) break
    await sleep(500)
  }
  t.check('it becomes active with an IP, a root password and its remaining time', got.status === 200 && got.body.status === 'active' && !!got.body.ip && String(got.body.root_password).length >= 16 && got.body.remaining_minutes >= 18, got.body)
  const d = await droplet(serverId)
  t.check('the droplet got the key and the password through cloud-init', d?.ssh_key_ids?.length === 1 && String(d.user_data).includes(got.body.root_password), d)
})

await t.step('extend by a minute ($0.01 floor), power off and on, reboot', async () => {
  const e = await paid(alice.key, `/v1/servers/${serverId}/extend`, ['-J', '{"minutes":1}'])
  t.check('extend: {minutes_added: 1, charged: 0.01}, payTo +$0.01', e.status === 200 && e.body.minutes_added === 1 && e.body.charged === '0.01' && e.moved === 10000n, { body: e.body, moved: `${e.moved}` })
  const off = await paid(alice.key, `/v1/servers/${serverId}/power`, ['-J', '{"action":"off"}'])
  t.check('power off for $0.005; the droplet is off', off.status === 200 && off.moved === 5000n && (await droplet(serverId))?.status === 'off', off.body)
  const on = await paid(alice.key, `/v1/servers/${serverId}/power`, ['-J', '{"action":"on"}'])
  let status
  for (let i = 0; i < 20 && status !== 'active'; i++) { await sleep(300); status = (await droplet(serverId))?.status }
  t.check('power on for $0.005; the droplet is active', on.status === 200 && on.moved === 5000n && status === 'active', on.body)
  const rb = await paid(alice.key, `/v1/servers/${serverId}/reboot`, ['-X', 'POST'])
  t.check('reboot for $0.005', rb.status === 200 && rb.moved === 5000n, rb.body)
})

await t.step('another wallet is denied every verb on the first wallet\'s servers, keys and snapshots', async () => {
  const bob = await wallet()
  const get = await free(bob.mppx, `/v1/servers/${serverId}`)
  const del = await free(bob.mppx, `/v1/servers/${serverId}`, { method: 'DELETE' })
  const delKey = await free(bob.mppx, `/v1/keys/${keyId}`, { method: 'DELETE' })
  t.check('get, delete and key delete are 404', get.status === 404 && del.status === 404 && delKey.status === 404, [get.status, del.status, delKey.status])
  const reboot = await paid(bob.key, `/v1/servers/${serverId}/reboot`, ['-X', 'POST'])
  const power = await paid(bob.key, `/v1/servers/${serverId}/power`, ['-J', '{"action":"off"}'])
  const useKey = await paid(bob.key, '/v1/servers', ['-J', JSON.stringify({ size: 'small', ssh_key_ids: [keyId] })])
  t.check('paid verbs are 404 and nothing is settled', reboot.status === 404 && power.status === 404 && useKey.status === 404 && reboot.moved + power.moved + useKey.moved === 0n, [reboot.status, power.status, useKey.status, `${reboot.moved + power.moved + useKey.moved}`])
  const list = await free(bob.mppx, '/v1/servers')
  t.check("the other wallet's server list is empty", list.status === 200 && list.body.servers?.length === 0, list.body)
  t.check('the server still runs', (await droplet(serverId))?.status === 'active')
})

await t.step('delete snapshots the server; the snapshot is listed and restores a new server', async () => {
  const del = await free(alice.mppx, `/v1/servers/${serverId}`, { method: 'DELETE' })
  snapshotId = del.body?.snapshot?.id
  t.check('{deleted: true, snapshot: {id: snap_…, expires_in_hours: 72}}', del.status === 200 && del.body.deleted === true && String(snapshotId).startsWith('snap_') && del.body.snapshot.expires_in_hours === 72, del.body)
  t.check('the droplet is gone', (await droplet(serverId)) === undefined)
  const list = await free(alice.mppx, '/v1/servers/snapshots/list')
  t.check('the snapshot is listed', list.body?.snapshots?.some((s) => s.id === snapshotId), list.body)
  const bob = await wallet()
  const stolen = await paid(bob.key, '/v1/servers', ['-J', JSON.stringify({ size: 'small', snapshot_id: snapshotId })])
  t.check("another wallet's restore is 404 with nothing settled", stolen.status === 404 && stolen.moved === 0n, stolen.body)
  const r = await paid(alice.key, '/v1/servers', ['-J', JSON.stringify({ size: 'small', region: 'nyc1', snapshot_id: snapshotId, minutes: 20 })])
  const d = await droplet(r.body?.id)
  t.check('restore creates a server from the snapshot for $0.025', r.status === 200 && r.moved === 25000n && `snap_${d?.image?.id}` === snapshotId, { body: r.body, image: d?.image })
})

await t.step('a 1-minute server is snapshotted and destroyed by the expiry worker', async () => {
  const r = await paid(alice.key, '/v1/servers', ['-J', '{"size":"small","region":"nyc1","image":"debian-12-x64","minutes":1}'])
  const id = r.body?.id
  t.check('a 1-minute server for $0.02025', r.status === 200 && r.moved === 20250n, r.body)
  let gone = false
  for (let i = 0; i < 60 && !gone; i++) { await sleep(2000); gone = (await droplet(id)) === undefined }
  t.check('it is destroyed after its paid minute', gone)
  const list = await free(alice.mppx, '/v1/servers/snapshots/list')
  t.check('and kept as a snapshot', list.body?.snapshots?.length === 2, list.body)
})

await t.step('TinyCompute /api/do/droplets: create, get, stop, destroy paid by the mppx CLI', async () => {
  const body = '{"name":"my-droplet","region":"nyc1","size":"s-1vcpu-1gb","image":"ubuntu-24-04-x64"}'
  const c = await paid(alice.key, '/api/do/droplets', ['-J', body])
  const id = c.body?.id
  t.check('create: $0.16 setup + 10 × $0.006 = $0.22', c.status === 200 && c.moved === 220000n && c.body.price_usd === '0.22', { body: c.body, moved: `${c.moved}` })
  const g = await paid(alice.key, `/api/do/droplets/${id}`, [])
  t.check('get for $0.001', g.status === 200 && g.body.name === 'my-droplet' && g.moved === 1000n, g.body)
  const s = await paid(alice.key, `/api/do/droplets/${id}/stop`, ['-X', 'POST'])
  t.check('stop for $0.001; the droplet is off', s.status === 200 && (await droplet(id))?.status === 'off', s.body)
  const d = await paid(alice.key, `/api/do/droplets/${id}`, ['-X', 'DELETE'])
  t.check('destroy for $0.001; the droplet is gone', d.status === 200 && (await droplet(id)) === undefined, d.body)
})

t.done()
