//! The chain behind the shim: a LiteSVM with the SPL programs, a USDC-like mint at a fixed
//! address, slot / block-height bookkeeping, transaction statuses and the test hooks' state
//! changes (funding, airdrops, blockhash expiry, held transactions).

use std::collections::HashMap;

use litesvm::LiteSVM;
use litesvm_token::spl_token;
use litesvm_token::spl_token::state::{Account as TokenAccount, AccountState, Mint};
use solana_account::Account;
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_program_option::COption;
use solana_program_pack::Pack;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;

/// How many blocks a blockhash stays valid on a real cluster (`MAX_PROCESSING_AGE`).
pub const BLOCKHASH_VALIDITY_BLOCKS: u64 = 150;

/// Settings of one shim chain.
#[derive(Clone, Debug)]
pub struct ChainConfig {
    /// The mint's address (default: devnet USDC).
    pub mint: Pubkey,
    /// The mint's decimals (default 6).
    pub decimals: u8,
}

impl Default for ChainConfig {
    fn default() -> Self {
        ChainConfig { mint: Pubkey::from_str_const(super::DEVNET_USDC), decimals: 6 }
    }
}

/// A failed execution: the error and the program logs.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The transaction error (serialised the way Solana's RPC serialises it).
    pub err: TransactionError,
    /// Program logs.
    pub logs: Vec<String>,
}

/// The status of a transaction the chain executed.
#[derive(Clone, Debug)]
pub struct Landed {
    /// The slot it landed in.
    pub slot: u64,
    /// `None` when it succeeded.
    pub err: Option<TransactionError>,
}

/// The LiteSVM world.
pub struct Chain {
    svm: LiteSVM,
    config: ChainConfig,
    mint_authority: Pubkey,
    slot: u64,
    landed: HashMap<Signature, Landed>,
    hold: bool,
    held: Vec<VersionedTransaction>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain").field("mint", &self.config.mint).field("slot", &self.slot).finish_non_exhaustive()
    }
}

/// The first slot (and block height) of a fresh chain.
const FIRST_SLOT: u64 = 1_000;

impl Chain {
    /// A chain with the SPL programs, signature verification and blockhash checks on, and the
    /// mint in place (supply 0, authority a throwaway key).
    pub fn new(config: ChainConfig) -> Chain {
        let mut svm = LiteSVM::new().with_transaction_history(1_000_000);
        svm.warp_to_slot(FIRST_SLOT);
        let mint_authority = Keypair::new().pubkey();
        let mut chain =
            Chain { svm, config, mint_authority, slot: FIRST_SLOT, landed: HashMap::new(), hold: false, held: vec![] };
        chain.write_mint(0);
        chain
    }

    /// The mint and its decimals.
    pub fn mint(&self) -> (Pubkey, u8) {
        (self.config.mint, self.config.decimals)
    }

    /// The current slot, which is also the block height.
    pub fn slot(&self) -> u64 {
        self.slot
    }

    /// The only valid blockhash and the last block height it is valid at.
    pub fn latest_blockhash(&self) -> (Hash, u64) {
        (self.svm.latest_blockhash(), self.slot + BLOCKHASH_VALIDITY_BLOCKS)
    }

    /// Whether transactions with `hash` can still land (LiteSVM accepts the latest only).
    pub fn is_blockhash_valid(&self, hash: &Hash) -> bool {
        *hash == self.svm.latest_blockhash()
    }

    /// Makes a new blockhash the only valid one and advances past the old one's lifetime.
    pub fn expire_blockhash(&mut self) -> Hash {
        self.svm.expire_blockhash();
        self.advance(BLOCKHASH_VALIDITY_BLOCKS + 1);
        self.svm.latest_blockhash()
    }

    /// An account, if it exists.
    pub fn account(&self, key: &Pubkey) -> Option<Account> {
        self.svm.get_account(key).filter(|a| a.lamports > 0 || !a.data.is_empty())
    }

    /// Lamports of `key` (0 when it does not exist).
    pub fn balance(&self, key: &Pubkey) -> u64 {
        self.svm.get_balance(key).unwrap_or(0)
    }

    /// Rent-exempt minimum for `len` bytes of data, in lamports.
    pub fn rent_exempt(&self, len: usize) -> u64 {
        self.svm.minimum_balance_for_rent_exemption(len)
    }

    /// The associated token account of `owner` for the mint (SPL Token).
    pub fn ata(&self, owner: &Pubkey) -> Pubkey {
        spl_associated_token_account_interface::address::get_associated_token_address_with_program_id(
            owner,
            &self.config.mint,
            &spl_token::ID,
        )
    }

    /// The token balance of `owner`'s associated token account, `None` when it does not exist.
    pub fn token_balance(&self, owner: &Pubkey) -> Option<u64> {
        self.token_account(&self.ata(owner)).map(|a| a.amount)
    }

    /// A token account of the mint, parsed.
    pub fn token_account(&self, address: &Pubkey) -> Option<TokenAccount> {
        let account = self.account(address).filter(|a| a.owner == spl_token::ID)?;
        TokenAccount::unpack(account.data.get(..TokenAccount::LEN)?).ok()
    }

    /// Creates `owner`'s associated token account if needed and mints `amount` base units to
    /// it (0 just creates it). Returns the account and its new balance.
    ///
    /// # Errors
    /// When the balance or the supply would overflow.
    pub fn fund(&mut self, owner: &Pubkey, amount: u64) -> Result<(Pubkey, u64), String> {
        let ata = self.ata(owner);
        let mut account = self.token_account(&ata).unwrap_or(TokenAccount {
            mint: self.config.mint,
            owner: *owner,
            amount: 0,
            delegate: COption::None,
            state: AccountState::Initialized,
            is_native: COption::None,
            delegated_amount: 0,
            close_authority: COption::None,
        });
        account.amount = account.amount.checked_add(amount).ok_or("token balance overflow")?;
        let supply = self.mint_supply().checked_add(amount).ok_or("mint supply overflow")?;
        let mut data = vec![0u8; TokenAccount::LEN];
        TokenAccount::pack(account, &mut data).map_err(|e| format!("pack: {e}"))?;
        let lamports = self.rent_exempt(TokenAccount::LEN);
        self.set(ata, Account { lamports, data, owner: spl_token::ID, executable: false, rent_epoch: 0 })?;
        self.write_mint(supply);
        Ok((ata, account.amount))
    }

    /// Adds `lamports` to `key` (a system account when it is new). Returns the new balance.
    ///
    /// # Errors
    /// When the balance would overflow.
    pub fn airdrop(&mut self, key: &Pubkey, lamports: u64) -> Result<u64, String> {
        let mut account = self.svm.get_account(key).unwrap_or_else(|| Account {
            lamports: 0,
            data: vec![],
            owner: Pubkey::default(),
            executable: false,
            rent_epoch: 0,
        });
        account.lamports = account.lamports.checked_add(lamports).ok_or("lamports overflow")?;
        let balance = account.lamports;
        self.set(*key, account)?;
        Ok(balance)
    }

    /// Simulates `tx` (signatures and blockhash checked, nothing changes): compute units and
    /// logs, or the failure.
    pub fn simulate(&self, tx: &VersionedTransaction) -> Result<(u64, Vec<String>), Failure> {
        match self.svm.simulate_transaction(tx.clone()) {
            Ok(info) => Ok((info.meta.compute_units_consumed, info.meta.logs)),
            Err(f) => Err(Failure { err: f.err, logs: f.meta.logs }),
        }
    }

    /// Sends `tx`: with preflight (`skip_preflight == false`) a failing simulation refuses it
    /// and nothing lands; otherwise it executes in a new slot (or is held, see
    /// [`Chain::set_hold`]). Returns its signature.
    ///
    /// # Errors
    /// The preflight failure.
    pub fn send(&mut self, tx: VersionedTransaction, skip_preflight: bool) -> Result<Signature, Failure> {
        let signature = tx.signatures.first().copied().unwrap_or_default();
        if !skip_preflight {
            self.simulate(&tx)?;
        }
        if self.hold {
            self.held.push(tx);
        } else {
            self.execute(tx);
        }
        Ok(signature)
    }

    /// While `hold` is on, sent transactions are accepted but not executed (their status stays
    /// unknown) until [`Chain::release`].
    pub fn set_hold(&mut self, hold: bool) {
        self.hold = hold;
    }

    /// Executes the held transactions in order; returns how many there were.
    pub fn release(&mut self) -> usize {
        let held = std::mem::take(&mut self.held);
        let n = held.len();
        for tx in held {
            self.execute(tx);
        }
        n
    }

    /// Drops the held transactions (as a cluster drops what it never includes); returns how
    /// many there were.
    pub fn drop_held(&mut self) -> usize {
        std::mem::take(&mut self.held).len()
    }

    /// How many transactions are held.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// The status of a landed transaction.
    pub fn status(&self, signature: &Signature) -> Option<&Landed> {
        self.landed.get(signature)
    }

    /// How many transactions landed.
    pub fn landed(&self) -> usize {
        self.landed.len()
    }

    fn execute(&mut self, tx: VersionedTransaction) {
        let signature = tx.signatures.first().copied().unwrap_or_default();
        self.advance(1);
        let result = self.svm.send_transaction(tx);
        // LiteSVM records failed transactions that were included (their fee was charged).
        let included = result.is_ok() || self.svm.get_transaction(&signature).is_some();
        if included && !self.landed.contains_key(&signature) {
            self.landed.insert(signature, Landed { slot: self.slot, err: result.err().map(|f| f.err) });
        }
    }

    fn advance(&mut self, blocks: u64) {
        self.slot += blocks;
        self.svm.warp_to_slot(self.slot);
    }

    fn mint_supply(&self) -> u64 {
        self.account(&self.config.mint)
            .and_then(|a| Mint::unpack(a.data.get(..Mint::LEN)?).ok())
            .map_or(0, |m| m.supply)
    }

    fn write_mint(&mut self, supply: u64) {
        let mint = Mint {
            mint_authority: COption::Some(self.mint_authority),
            supply,
            decimals: self.config.decimals,
            is_initialized: true,
            freeze_authority: COption::None,
        };
        let mut data = vec![0u8; Mint::LEN];
        // Packing a valid, initialised mint into a buffer of its exact length cannot fail.
        if Mint::pack(mint, &mut data).is_ok() {
            let lamports = self.rent_exempt(Mint::LEN);
            let account = Account { lamports, data, owner: spl_token::ID, executable: false, rent_epoch: 0 };
            // Setting a non-executable account cannot fail either.
            let _ = self.set(self.config.mint, account);
        }
    }

    fn set(&mut self, key: Pubkey, account: Account) -> Result<(), String> {
        self.svm.set_account(key, account).map_err(|e| format!("set_account: {e:?}"))
    }
}
