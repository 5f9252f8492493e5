// Peer (a) of `cargo xtask bench`: the mppx 0.11 Node server issuing the same Tempo challenge as
// the gateway's unpaid `GET /api/machines` ($0.001 of pathUSD to the same recipient), so the
// 402 issuance rate can be compared. Prints `listening on http://127.0.0.1:PORT`.
// Env: PORT (0 = any), RECIPIENT, SECRET_KEY.
import * as http from 'node:http'
import { Mppx, tempo } from 'mppx/server'

const mppx = Mppx.create({
  methods: [tempo({ currency: '0x20c0000000000000000000000000000000000000', recipient: process.env.RECIPIENT })],
  secretKey: process.env.SECRET_KEY,
  realm: 'bench.local',
})
const charge = Mppx.toNodeListener(mppx.charge({ amount: '0.001' }))
const server = http.createServer(async (req, res) => {
  const result = await charge(req, res)
  if (result.status === 402) return
  res.end('[]')
})
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`)
})
