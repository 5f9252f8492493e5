"""The PyPI x402 2.25.0 client (x402Client + register_exact_evm_client(EthAccountSigner) +
x402HttpxClient) pays the gateway's Base rail on anvil (chain 84532, real FiatTokenV2_2 at the
Base Sepolia USDC address). Prints `N passed, N failed`.

Env: GATEWAY_URL, BASE_RPC_URL, BASE_PAY_TO."""

import asyncio
import base64
import json
import os
import urllib.request

from eth_account import Account
from x402 import x402Client
from x402.http.clients import x402HttpxClient
from x402.mechanisms.evm import EthAccountSigner
from x402.mechanisms.evm.exact import register_exact_evm_client

GATEWAY = os.environ["GATEWAY_URL"]
RPC = os.environ["BASE_RPC_URL"]
PAY_TO = os.environ["BASE_PAY_TO"]
USDC = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
KEY = "0xc526ee95bf44d8fc405a158bb884d9d1238d99f0612e9f33d006bb0789009aaa"  # test mnemonic account 14
PRICE = 1000  # GET /api/machines: $0.001 in USDC base units

passed = failed = 0


def check(label, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   x402-py: {label}")
    else:
        failed += 1
        print(f"FAIL x402-py: {label} — {detail}")


def usdc_balance(address):
    data = "0x70a08231" + address.lower().removeprefix("0x").rjust(64, "0")
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [{"to": USDC, "data": data}, "latest"]})
    req = urllib.request.Request(RPC, body.encode(), {"content-type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return int(json.load(r)["result"], 16)


async def main():
    account = Account.from_key(KEY)
    client = x402Client()
    register_exact_evm_client(client, EthAccountSigner(account))
    before, payer_before = usdc_balance(PAY_TO), usdc_balance(account.address)
    async with x402HttpxClient(client, timeout=60) as http:
        response = await http.get(f"{GATEWAY}/api/machines")
    after, payer_after = usdc_balance(PAY_TO), usdc_balance(account.address)
    check("GET /api/machines answers 200 with []", response.status_code == 200 and response.text.strip() == "[]", f"{response.status_code} {response.text[:400]}")
    header = response.headers.get("payment-response", "")
    receipt = json.loads(base64.b64decode(header)) if header else {}
    check(
        "PAYMENT-RESPONSE is a v2 success on eip155:84532 with the payer",
        receipt.get("success") is True
        and receipt.get("network") == "eip155:84532"
        and str(receipt.get("payer", "")).lower() == account.address.lower()
        and str(receipt.get("transaction", "")).startswith("0x"),
        receipt,
    )
    check("payTo received exactly $0.001 (1000 units)", after - before == PRICE, after - before)
    check("the payer paid exactly $0.001", payer_before - payer_after == PRICE, payer_before - payer_after)


try:
    asyncio.run(main())
except Exception as e:  # noqa: BLE001 - any failure is a failed case
    failed += 1
    print(f"FAIL x402-py: raised {e!r}")
print(f"{passed} passed, {failed} failed")
