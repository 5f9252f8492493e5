"""pympp 0.16 pays the gateway on anvil --network tempo (challenges expire in 20 s, see
payments-mpp.md §4): a TinyCompute read and, with the DigitalOcean fake (DO_FAKE_URL), a SiloVPS
server create and extend. Prints `N passed, N failed`."""

import asyncio
import base64
import json
import os
import sys
import urllib.request

from mpp.client import Mpp
from mpp.methods.tempo import TempoAccount
from mpp.methods.tempo import client as tempo

GATEWAY = os.environ["GATEWAY_URL"]
RPC = os.environ["RPC_URL"]
RECIPIENT = os.environ["RECIPIENT"]
PATH_USD = "0x20c0000000000000000000000000000000000000"
KEY = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"  # anvil account 4

passed = failed = 0


def check(label, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   pympp: {label}")
    else:
        failed += 1
        print(f"FAIL pympp: {label} — {detail}")


def balance(address):
    data = "0x70a08231" + address.lower().removeprefix("0x").rjust(64, "0")
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [{"to": PATH_USD, "data": data}, "latest"]})
    req = urllib.request.Request(RPC, body.encode(), {"content-type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return int(json.load(r)["result"], 16)


async def main():
    account = TempoAccount.from_key(KEY)
    before = balance(RECIPIENT)
    async with Mpp(methods=[tempo.charge(account=account, rpc_url=RPC, chain_id=1337)]) as mpp:
        response = await mpp.fetch(f"{GATEWAY}/api/machines")
    after = balance(RECIPIENT)
    check("GET /api/machines answers 200", response.status_code == 200, response.text[:400])
    receipt = response.headers.get("payment-receipt", "")
    decoded = json.loads(base64.urlsafe_b64decode(receipt + "=" * (-len(receipt) % 4))) if receipt else {}
    check("the receipt is a tempo success", decoded.get("status") == "success" and decoded.get("method") == "tempo", decoded)
    check("payTo received exactly $0.001 (1000 base units)", after - before == 1000, after - before)
    if os.environ.get("DO_FAKE_URL"):
        await silovps(account)


async def silovps(account):
    """SiloVPS: a small server for 20 minutes ($0.025), then one more minute ($0.01 floor);
    each a single 402 paid, as the seed's clients expect."""
    async with Mpp(methods=[tempo.charge(account=account, rpc_url=RPC, chain_id=1337)]) as mpp:
        before = balance(RECIPIENT)
        body = {"size": "small", "region": "nyc1", "image": "ubuntu-24-04-x64", "minutes": 20}
        created = await mpp.fetch(f"{GATEWAY}/v1/servers", method="POST", json=body)
        moved = balance(RECIPIENT) - before
        data = created.json() if created.status_code == 200 else {}
        check("POST /v1/servers (small, 20 min) answers srv_… provisioning",
              str(data.get("id", "")).startswith("srv_") and data.get("status") == "provisioning", created.text[:400])
        check("total_charged 0.025 and payTo rose by exactly 25000 base units",
              data.get("total_charged") == "0.025" and moved == 25000, (data, moved))
        before = balance(RECIPIENT)
        extended = await mpp.fetch(f"{GATEWAY}/v1/servers/{data.get('id')}/extend", method="POST", json={"minutes": 1})
        moved = balance(RECIPIENT) - before
        data = extended.json() if extended.status_code == 200 else {}
        check("extend by one minute charges the $0.01 floor",
              data.get("charged") == "0.01" and data.get("minutes_added") == 1 and moved == 10000, (extended.text[:300], moved))


try:
    asyncio.run(main())
except Exception as e:  # noqa: BLE001 - any failure is a failed case
    failed += 1
    print(f"FAIL pympp: raised {e!r}")
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 and passed > 0 else 1)
