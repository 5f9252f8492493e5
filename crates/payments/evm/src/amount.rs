//! Exact conversion of a USD charge to token base units in integers (no floating point, no
//! intermediate rounding), rounded **up** to the next base unit: `ceil(usd × 10^decimals)`.
//!
//! `rust_decimal` multiplication rescales (rounds) when the product's mantissa exceeds 96 bits,
//! which can happen at 18 decimals (USDm) for amounts with many decimal places; here the
//! decimal's integer mantissa and scale are combined in 256-bit integers instead.

use alloy::primitives::U256;
use compute_core::money::MAX_DECIMALS;
use compute_core::{Error, ErrorKind, Result, Usd};

/// `ceil(usd × 10^decimals)`: the base units that pay `usd` (USD) in a USD-pegged token with
/// `decimals` decimals, exactly.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] when `decimals` exceeds [`MAX_DECIMALS`] or the result does not
/// fit a `u128`.
pub(crate) fn usd_to_base_units_ceil(usd: Usd, decimals: u8) -> Result<u128> {
    if decimals > MAX_DECIMALS {
        return Err(Error::new(ErrorKind::InvalidInput, format!("{decimals} decimals is more than {MAX_DECIMALS}")));
    }
    let d = usd.as_decimal();
    // `Usd` is never negative; its mantissa fits 96 bits and its scale is at most 28.
    let mantissa = U256::from(d.mantissa().unsigned_abs());
    let (scale, decimals) = (d.scale(), u32::from(decimals));
    let ten = U256::from(10u8);
    let units = if scale <= decimals {
        mantissa * ten.pow(U256::from(decimals - scale))
    } else {
        let divisor = ten.pow(U256::from(scale - decimals));
        let (q, r) = mantissa.div_rem(divisor);
        if r.is_zero() { q } else { q + U256::from(1u8) }
    };
    u128::try_from(units)
        .map_err(|_| Error::new(ErrorKind::InvalidInput, format!("{usd} USD is too large at {decimals} decimals")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(usd: &str, decimals: u8) -> u128 {
        usd_to_base_units_ceil(usd.parse().unwrap(), decimals).unwrap()
    }

    #[test]
    fn eighteen_decimals_are_exact_and_round_up() {
        assert_eq!(units("0.001", 18), 1_000_000_000_000_000);
        assert_eq!(units("0.25", 18), 250_000_000_000_000_000);
        assert_eq!(units("1234567.123456789012345678", 18), 1_234_567_123_456_789_012_345_678);
        // A fraction of a base unit costs a whole one.
        assert_eq!(units("0.0000000000000000001", 18), 1);
        assert_eq!(units("0.0000000000000000011", 18), 2);
        // 28 decimal places times 10^18: rust_decimal's product would need 156 bits.
        assert_eq!(units("0.1234567890123456789000000001", 18), 123_456_789_012_345_679);
        assert_eq!(units("0.1234567890123456789000000000", 18), 123_456_789_012_345_679);
        assert_eq!(units("0.1234567890123456780000000000", 18), 123_456_789_012_345_678);
        assert_eq!(units("0", 18), 0);
    }

    #[test]
    fn six_decimals_match_the_core_rule() {
        for usd in ["0.001", "0.0000001", "12.3456789", "0.00125", "79228162514264.337593543950335"] {
            let core = usd.parse::<Usd>().unwrap().to_base_units_ceil(6).unwrap();
            assert_eq!(units(usd, 6), core, "{usd}");
        }
        assert_eq!(units("0.0000001", 6), 1);
    }

    #[test]
    fn too_many_decimals_or_too_large_are_errors() {
        assert!(usd_to_base_units_ceil("1".parse().unwrap(), 19).is_err());
        let max = "79228162514264337593543950335".parse::<Usd>().unwrap();
        assert_eq!(usd_to_base_units_ceil(max, 18).unwrap_err().kind(), ErrorKind::InvalidInput);
    }
}
