"""The PyPI x402 2.25.0 client with its SVM signer (x402Client + register_exact_svm_client
(KeypairSigner, rpc_url=<the LiteSVM shim>) + x402HttpxClient) pays the gateway's Solana rail
for GET /api/machines ($0.001 = 1000 devnet-USDC base units) and checks, on the shim, that the
merchant's USDC account rose by exactly the price and the payer holds no SOL. Prints
`N passed, N failed`.

Env: GATEWAY_URL, SVM_RPC_URL (the shim), SVM_PAY_TO (merchant wallet), SVM_PAYER_KEYS
(comma-separated base58 64-byte keypairs, funded with USDC and no SOL; this uses the last one,
so e2e/svm.mjs and this can share the list)."""

import asyncio
import base64
import json
import os
import re
import urllib.request

from x402 import x402Client
from x402.http.clients import x402HttpxClient
from x402.mechanisms.svm import KeypairSigner
from x402.mechanisms.svm.exact import register_exact_svm_client

GATEWAY = os.environ["GATEWAY_URL"]
RPC = os.environ["SVM_RPC_URL"]
PAY_TO = os.environ["SVM_PAY_TO"]
KEY = [k.strip() for k in os.environ["SVM_PAYER_KEYS"].split(",") if k.strip()][-1]
NETWORK = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"
PRICE = 1000  # GET /api/machines: $0.001 in USDC base units

passed = failed = 0


def check(label, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   svm-py: {label}")
    else:
        failed += 1
        print(f"FAIL svm-py: {label} — {detail}")


def balances(owner):
    """(lamports, USDC base units) of `owner`, read from the shim."""
    with urllib.request.urlopen(f"{RPC}/__shim/balances/{owner}") as r:
        b = json.load(r)
    return int(b["lamports"]), int(b["token"] or 0)


async def main():
    signer = KeypairSigner.from_base58(KEY)
    client = x402Client()
    register_exact_svm_client(client, signer, networks=NETWORK, rpc_url=RPC)
    (_, before), payer_before = balances(PAY_TO), balances(signer.address)
    check("the payer holds USDC and no SOL", payer_before[1] >= PRICE and payer_before[0] == 0, payer_before)
    async with x402HttpxClient(client, timeout=60) as http:
        response = await http.get(f"{GATEWAY}/api/machines")
    (_, after), payer_after = balances(PAY_TO), balances(signer.address)
    check(
        "GET /api/machines answers 200 with []",
        response.status_code == 200 and response.text.strip() == "[]",
        f"{response.status_code} {response.text[:400]}",
    )
    header = response.headers.get("payment-response", "")
    receipt = json.loads(base64.b64decode(header)) if header else {}
    check(
        "PAYMENT-RESPONSE is a v2 success on devnet with the payer and a base58 signature",
        receipt.get("success") is True
        and receipt.get("network") == NETWORK
        and receipt.get("payer") == signer.address
        and re.fullmatch(r"[1-9A-HJ-NP-Za-km-z]{86,88}", str(receipt.get("transaction", ""))) is not None,
        receipt,
    )
    check("the merchant USDC account rose by exactly 1000 units", after - before == PRICE, after - before)
    check("the payer paid exactly 1000 units", payer_before[1] - payer_after[1] == PRICE, payer_before[1] - payer_after[1])
    check("the payer still holds 0 SOL (the gateway paid the fee)", payer_after[0] == 0, payer_after[0])


try:
    asyncio.run(main())
except Exception as e:  # noqa: BLE001 - any failure is a failed case
    failed += 1
    print(f"FAIL svm-py: raised {e!r}")
print(f"{passed} passed, {failed} failed")
