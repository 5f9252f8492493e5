//! The programs an `exact` SVM payment may call, associated token account derivation and the
//! SPL token account layout (the fields the checks read).

use solana_pubkey::Pubkey;

/// The SPL Token program.
pub const TOKEN_PROGRAM: Pubkey = Pubkey::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
/// The SPL Token-2022 program.
pub const TOKEN_2022_PROGRAM: Pubkey = Pubkey::from_str_const("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");
/// The Associated Token Account program.
pub const ASSOCIATED_TOKEN_PROGRAM: Pubkey = Pubkey::from_str_const("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
/// The Compute Budget program.
pub const COMPUTE_BUDGET_PROGRAM: Pubkey = Pubkey::from_str_const("ComputeBudget111111111111111111111111111111");
/// The SPL Memo program (v2), the only memo the x402 clients write.
pub const MEMO_PROGRAM: Pubkey = Pubkey::from_str_const("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");

/// `ComputeBudgetInstruction::SetComputeUnitLimit(u32)` discriminator.
pub const SET_COMPUTE_UNIT_LIMIT: u8 = 2;
/// `ComputeBudgetInstruction::SetComputeUnitPrice(u64 micro-lamports)` discriminator.
pub const SET_COMPUTE_UNIT_PRICE: u8 = 3;
/// SPL Token `TransferChecked { amount: u64, decimals: u8 }` discriminator.
pub const TRANSFER_CHECKED: u8 = 12;

/// Whether `program` is SPL Token or Token-2022.
pub fn is_token_program(program: &Pubkey) -> bool {
    *program == TOKEN_PROGRAM || *program == TOKEN_2022_PROGRAM
}

/// The associated token account of `owner` for `mint` under `token_program`: the program
/// address of seeds `[owner, token_program, mint]` under the ATA program. `None` only when
/// no bump seed gives an off-curve address (never seen in practice).
pub fn associated_token_address(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Option<Pubkey> {
    Pubkey::try_find_program_address(
        &[owner.as_ref(), token_program.as_ref(), mint.as_ref()],
        &ASSOCIATED_TOKEN_PROGRAM,
    )
    .map(|(address, _bump)| address)
}

/// The fields of an SPL token account (`spl_token::state::Account`, 165 bytes; Token-2022
/// accounts start with the same layout and may carry extensions after it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenAccount {
    /// The mint (bytes 0..32).
    pub mint: Pubkey,
    /// The wallet that owns the tokens (bytes 32..64).
    pub owner: Pubkey,
    /// Balance in base units (bytes 64..72, little endian).
    pub amount: u64,
    /// `AccountState` (byte 108): 0 uninitialized, 1 initialized, 2 frozen.
    pub state: u8,
}

/// Length of the base SPL token account layout.
pub const TOKEN_ACCOUNT_LEN: usize = 165;

impl TokenAccount {
    /// Parses the account data; `None` when it is shorter than the layout.
    pub fn parse(data: &[u8]) -> Option<TokenAccount> {
        if data.len() < TOKEN_ACCOUNT_LEN {
            return None;
        }
        let key = |range: std::ops::Range<usize>| Pubkey::try_from(&data[range]).ok();
        let amount = u64::from_le_bytes(data[64..72].try_into().ok()?);
        Some(TokenAccount { mint: key(0..32)?, owner: key(32..64)?, amount, state: data[108] })
    }

    /// Initialized and not frozen.
    pub fn is_usable(&self) -> bool {
        self.state == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ata_matches_a_known_derivation() {
        // Computed with @solana-program/token's findAssociatedTokenPda (the x402 client's).
        let owner = Pubkey::from_str_const("9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM");
        let usdc = Pubkey::from_str_const("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v");
        let ata = associated_token_address(&owner, &usdc, &TOKEN_PROGRAM).unwrap();
        assert_eq!(ata, Pubkey::from_str_const("FGETo8T8wMcN2wCjav8VK6eh3dLk63evNDPxzLSJra8B"));
        assert!(!ata.is_on_curve(), "an ATA is a program address");
        assert_ne!(ata, associated_token_address(&owner, &usdc, &TOKEN_2022_PROGRAM).unwrap());
    }

    #[test]
    fn token_account_layout() {
        let mut data = vec![0u8; TOKEN_ACCOUNT_LEN];
        data[..32].copy_from_slice(&[1; 32]);
        data[32..64].copy_from_slice(&[2; 32]);
        data[64..72].copy_from_slice(&1234u64.to_le_bytes());
        data[108] = 1;
        let a = TokenAccount::parse(&data).unwrap();
        assert_eq!((a.mint, a.owner, a.amount), (Pubkey::from([1; 32]), Pubkey::from([2; 32]), 1234));
        assert!(a.is_usable());
        data[108] = 2;
        assert!(!TokenAccount::parse(&data).unwrap().is_usable());
        assert_eq!(TokenAccount::parse(&data[..100]), None);
    }
}
