//! MegaETH for `cargo xtask e2e`: a third anvil with chain id 4326 on which
//! `e2e/deploy-megaeth.mjs` installs the project's test doubles of Permit2,
//! x402ExactPermit2Proxy and USDm ("MegaUSD", 18 decimals, EIP-2612, no EIP-3009) at their
//! canonical addresses (`anvil_setCode`), mints USDm to the payers (who hold no ETH) and gives
//! the gateway's settlement key gas. The gateway gets a second `[[payments.evm]]` entry
//! ([`megaeth_config`], next to Base's); e2e/megaeth.mjs pays it with @x402/fetch +
//! @x402/evm 2.27 through Permit2 and the `eip2612GasSponsoring` extension.
//!
//! `e2e.rs` calls [`start_megaeth_chain`], gives the gateway [`megaeth_config`], the suites
//! [`megaeth_env`] and runs [`megaeth_suite`].
//!
//! The keys are anvil's public test-mnemonic keys, at indices no other suite uses.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::procs::{Proc, free_port, wait_rpc};
use crate::util::{root, run as sh};

/// Account 19 of anvil's test mnemonic: receives MegaETH payments (`payTo`).
const PAY_TO: &str = "0x8626f6940E2eb28930eFb4CeF49B2d1F2C9C1199";
/// Account 20 of anvil's test mnemonic: the MegaETH rail's settlement key (submits the proxy's
/// `settle` / `settleWithPermit` and pays the gas). It is not one of anvil's ten funded
/// accounts, so deploy-megaeth.mjs gives it ETH.
const SIGNER_KEY: &str = "0xeaa861a9a01391ed3d587d8a5a84ca56ee277629a8b02c22093a419bf240e65d";
const SETTLER: &str = "0x09DB0a93B389bEF724429898f539AEB7ac2Dd55f";
/// Accounts 16..18 of anvil's test mnemonic: the payers of e2e/megaeth.mjs (and account 22, see
/// [`MIXED_PAYER_KEY`]). They get USDm and
/// no ETH: the gateway pays every gas.
const PAYER_KEYS: [&str; 3] = [
    "0xea6c44ac03bff858b476bba40716402b03e41b8e97e276d1baec7c37d42484a0",
    "0x689af8efa8c651a91ad287602527f3af2fe9f6501a7ac4b061667b5a93e037fd",
    "0xde9be858da4a475276426320d5e9262ecfc3ba460bfac56360bfa6c4c28b4ee0",
];
const PAYERS: &str = "0x2546BcD3c84621e976D8185a91A922aE77ECEc30,0xbDA5747bFD65F08deb54cb465eB87D40e51B197E,\
                      0xdD2FD4581271e230360230F9337D5c0430Bf44C0,0x08135Da0A343E492FA2d4282F2AE34c6c5CC1BbE";
/// Account 22 of anvil's test mnemonic: e2e/mixed.mjs's MegaETH payer (the last of [`PAYERS`]).
const MIXED_PAYER_KEY: &str = "0x224b7eb7449992aac96d631d9677f7bf5888245eef6d6eeda31e62d2f29a83e4";

/// Starts anvil with chain id 4326, installs the contracts and funds the accounts
/// (`e2e/deploy-megaeth.mjs`); returns the process and its URL.
pub(crate) fn start_megaeth_chain(anvil: &Path, work: &Path) -> Result<(Proc, String), String> {
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let proc = Proc::spawn(
        "anvil-megaeth",
        Command::new(anvil).args(["--chain-id", "4326", "--host", "127.0.0.1", "--port", &port.to_string()]),
        &work.join("anvil-megaeth.log"),
    )?;
    wait_rpc(&url, Duration::from_secs(30))?;
    sh(Command::new("node")
        .arg("deploy-megaeth.mjs")
        .current_dir(root().join("e2e"))
        .env("RPC_URL", &url)
        .env("MINT_TO", PAYERS.replace(' ', ""))
        .env("GAS_TO", SETTLER))?;
    Ok((proc, url))
}

/// The `[[payments.evm]]` entry of the MegaETH rail (the chain's defaults: USDm through
/// Permit2, rail id `megaeth`).
pub(crate) fn megaeth_config(rpc: &str) -> String {
    format!(
        "\n[[payments.evm]]\nchain_id = 4326\nrpc_url = \"{rpc}\"\npay_to = \"{PAY_TO}\"\nsigner_key = \"{SIGNER_KEY}\"\n"
    )
}

/// The environment of e2e/megaeth.mjs and e2e/mixed.mjs.
pub(crate) fn megaeth_env(c: &mut Command, rpc: &str) {
    c.env("MEGAETH_RPC_URL", rpc)
        .env("MEGAETH_PAY_TO", PAY_TO)
        .env("MEGAETH_SETTLER", SETTLER)
        .env("MEGAETH_PAYER_KEYS", PAYER_KEYS.join(","))
        .env("MIXED_MEGAETH_KEY", MIXED_PAYER_KEY);
}

/// The MegaETH suite: @x402/fetch + @x402/evm 2.27 paying USDm through Permit2.
pub(crate) fn megaeth_suite() -> (&'static str, Command) {
    let mut node = Command::new("node");
    node.arg("megaeth.mjs");
    ("x402 on MegaETH (@x402/fetch + @x402/evm, Permit2 + EIP-2612)", node)
}
