//! Network identifiers: v2 uses CAIP-2 ids (`eip155:8453`), v1 uses names (`base`).
//!
//! | Network | CAIP-2 (v2) | v1 name |
//! |---|---|---|
//! | Base | `eip155:8453` | `base` |
//! | Base Sepolia | `eip155:84532` | `base-sepolia` |
//! | Solana mainnet | `solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp` | `solana` |
//! | Solana devnet | `solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1` | `solana-devnet` |
//! | Solana testnet | `solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z` | `solana-testnet` |
//! | MegaETH | `eip155:4326` | none (v2 only) |

/// Base mainnet.
pub const BASE: &str = "eip155:8453";
/// Base Sepolia testnet.
pub const BASE_SEPOLIA: &str = "eip155:84532";
/// Solana mainnet.
pub const SOLANA: &str = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp";
/// Solana devnet.
pub const SOLANA_DEVNET: &str = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";
/// Solana testnet.
pub const SOLANA_TESTNET: &str = "solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z";
/// MegaETH mainnet (no v1 name).
pub const MEGAETH: &str = "eip155:4326";

/// `(CAIP-2 id, v1 name)` for every network that has a v1 name.
pub const V1_NAMES: &[(&str, &str)] = &[
    (BASE, "base"),
    (BASE_SEPOLIA, "base-sepolia"),
    (SOLANA, "solana"),
    (SOLANA_DEVNET, "solana-devnet"),
    (SOLANA_TESTNET, "solana-testnet"),
];

/// The v1 name of a CAIP-2 network, or `None` when the network only exists in v2.
pub fn v1_name(caip2: &str) -> Option<&'static str> {
    V1_NAMES.iter().find(|(c, _)| *c == caip2).map(|(_, n)| *n)
}

/// The CAIP-2 id of a v1 network name.
pub fn caip2_of_v1(name: &str) -> Option<&'static str> {
    V1_NAMES.iter().find(|(_, n)| *n == name).map(|(c, _)| *c)
}

/// The chain id of an `eip155:<id>` network, `None` for other namespaces or a malformed id.
pub fn evm_chain_id(caip2: &str) -> Option<u64> {
    let id = caip2.strip_prefix("eip155:")?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) || (id.len() > 1 && id.starts_with('0')) {
        return None;
    }
    id.parse().ok()
}

/// The CAIP-2 id of an EVM chain id, e.g. `eip155:8453`.
pub fn evm_caip2(chain_id: u64) -> String {
    format!("eip155:{chain_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_names_map_both_ways() {
        assert_eq!(v1_name(BASE), Some("base"));
        assert_eq!(v1_name(BASE_SEPOLIA), Some("base-sepolia"));
        assert_eq!(v1_name(SOLANA_DEVNET), Some("solana-devnet"));
        assert_eq!(v1_name(SOLANA_TESTNET), Some("solana-testnet"));
        assert_eq!(v1_name(MEGAETH), None);
        for (caip2, name) in V1_NAMES {
            assert_eq!(caip2_of_v1(name), Some(*caip2));
            assert_eq!(v1_name(caip2), Some(*name));
        }
        assert_eq!(caip2_of_v1("megaeth"), None);
    }

    #[test]
    fn evm_chain_ids() {
        assert_eq!(evm_chain_id(BASE), Some(8453));
        assert_eq!(evm_chain_id(MEGAETH), Some(4326));
        assert_eq!(evm_caip2(84532), BASE_SEPOLIA);
        for bad in [SOLANA, "eip155:", "eip155:0x1", "eip155:-1", "eip155:01", "base"] {
            assert_eq!(evm_chain_id(bad), None, "{bad}");
        }
    }
}
