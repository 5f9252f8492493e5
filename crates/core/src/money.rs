//! Money: USD amounts ([`Usd`], `rust_decimal`) and on-chain token amounts ([`TokenAmount`],
//! integer base units with their decimals). No floating point anywhere.
//!
//! Rounding rule: converting a USD **charge** to base units rounds **up** to the next base unit
//! ([`Usd::to_base_units_ceil`]), so the gateway never under-charges by a fraction of a unit;
//! converting base units to USD is always exact ([`TokenAmount::to_usd`]).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::{Error, ErrorKind, Result};

/// Largest number of token decimals handled (USDm has 18; `rust_decimal` holds 28 digits).
pub const MAX_DECIMALS: u8 = 18;

/// A non-negative amount of US dollars, e.g. `0.005` for half a cent.
///
/// Serialized as a decimal string (`"0.005"`) so no JSON reader turns it into a float; only
/// strings deserialize (a JSON or TOML float is rejected).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Usd(Decimal);

impl Usd {
    /// Zero dollars.
    pub const ZERO: Usd = Usd(Decimal::ZERO);

    /// Wraps a decimal number of dollars.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when `amount` is negative.
    pub fn new(amount: Decimal) -> Result<Self> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(Error::new(ErrorKind::InvalidInput, format!("negative USD amount {amount}")));
        }
        Ok(Usd(amount.normalize()))
    }

    /// Dollars as `mantissa × 10^-scale`, e.g. `Usd::from_parts(5, 3)` is `$0.005`.
    pub fn from_parts(mantissa: u64, scale: u32) -> Self {
        Usd(Decimal::from_i128_with_scale(i128::from(mantissa), scale).normalize())
    }

    /// The amount as a decimal number of dollars.
    pub fn as_decimal(&self) -> Decimal {
        self.0
    }

    /// `self - other`, or `None` when the result would be negative.
    pub fn checked_sub(self, other: Usd) -> Option<Usd> {
        let d = self.0 - other.0;
        (!d.is_sign_negative() || d.is_zero()).then(|| Usd(d.normalize()))
    }

    /// `self × n` (for example a per-minute rate times a number of minutes).
    pub fn times(self, n: u64) -> Usd {
        Usd((self.0 * Decimal::from(n)).normalize())
    }

    /// Whether the amount is exactly zero.
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// Rounds **up** to a whole number of cents-or-finer units: `scale` decimal places.
    pub fn round_up_to_scale(self, scale: u32) -> Usd {
        Usd(self.0.round_dp_with_strategy(scale, rust_decimal::RoundingStrategy::AwayFromZero).normalize())
    }

    /// Converts to token base units for a token pegged 1:1 to USD with `decimals` decimals,
    /// rounding **up** to the next base unit (the charge rule).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when `decimals` exceeds [`MAX_DECIMALS`] or the result
    /// overflows.
    pub fn to_base_units_ceil(self, decimals: u8) -> Result<u128> {
        if decimals > MAX_DECIMALS {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("{decimals} decimals is more than {MAX_DECIMALS}"),
            ));
        }
        let factor = Decimal::from_i128_with_scale(10i128.pow(u32::from(decimals)), 0);
        let scaled = self
            .0
            .checked_mul(factor)
            .ok_or_else(|| Error::new(ErrorKind::InvalidInput, format!("{self} overflows at {decimals} decimals")))?;
        scaled
            .ceil()
            .to_u128()
            .ok_or_else(|| Error::new(ErrorKind::InvalidInput, format!("{self} is not representable in base units")))
    }
}

impl TryFrom<Decimal> for Usd {
    type Error = Error;
    fn try_from(value: Decimal) -> Result<Self> {
        Usd::new(value)
    }
}

impl std::ops::Add for Usd {
    type Output = Usd;
    /// Exact sum.
    fn add(self, other: Usd) -> Usd {
        Usd((self.0 + other.0).normalize())
    }
}

impl TryFrom<String> for Usd {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        value.parse()
    }
}

impl From<Usd> for String {
    fn from(value: Usd) -> Self {
        value.to_string()
    }
}

impl From<Usd> for Decimal {
    fn from(value: Usd) -> Self {
        value.0
    }
}

impl FromStr for Usd {
    type Err = Error;
    /// Parses `"0.005"` (a leading `$` is accepted). Exponents and floats are not.
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().trim_start_matches('$');
        let d = Decimal::from_str_exact(s)
            .map_err(|e| Error::new(ErrorKind::InvalidInput, format!("invalid USD amount {s:?}: {e}")))?;
        Usd::new(d)
    }
}

impl fmt::Display for Usd {
    /// Plain decimal dollars without a currency sign, e.g. `0.005`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An amount of a token in integer **base units** together with the token's decimals,
/// e.g. `TokenAmount { base_units: 10_000, decimals: 6 }` is 0.01 USDC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenAmount {
    /// Integer amount in the token's smallest unit. Serialized as a decimal string.
    #[serde(with = "u128_string")]
    pub base_units: u128,
    /// The token's decimals (6 for USDC and pathUSD, 18 for USDm).
    pub decimals: u8,
}

impl TokenAmount {
    /// The base-unit amount that pays `usd` in a USD-pegged token, rounded up.
    ///
    /// # Errors
    /// As [`Usd::to_base_units_ceil`].
    pub fn from_usd_ceil(usd: Usd, decimals: u8) -> Result<Self> {
        Ok(TokenAmount { base_units: usd.to_base_units_ceil(decimals)?, decimals })
    }

    /// The exact USD value of this amount of a USD-pegged token.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the decimals exceed [`MAX_DECIMALS`] or the amount
    /// does not fit a 96-bit decimal mantissa.
    pub fn to_usd(&self) -> Result<Usd> {
        if self.decimals > MAX_DECIMALS {
            return Err(Error::new(ErrorKind::InvalidInput, "too many decimals"));
        }
        let mantissa =
            i128::try_from(self.base_units).map_err(|_| Error::new(ErrorKind::InvalidInput, "base units overflow"))?;
        let d = Decimal::try_from_i128_with_scale(mantissa, u32::from(self.decimals))
            .map_err(|e| Error::new(ErrorKind::InvalidInput, format!("base units overflow: {e}")))?;
        Usd::new(d)
    }
}

impl fmt::Display for TokenAmount {
    /// Base units, e.g. `10000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.base_units)
    }
}

mod u128_string {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(crate) fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(D::Error::custom("base units must be a string of decimal digits"));
        }
        s.parse().map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Usd {
        s.parse().unwrap()
    }

    #[test]
    fn charges_round_up_to_the_next_base_unit() {
        assert_eq!(usd("0.10").to_base_units_ceil(6).unwrap(), 100_000);
        assert_eq!(usd("0.00025").to_base_units_ceil(6).unwrap(), 250);
        assert_eq!(usd("0.0000001").to_base_units_ceil(6).unwrap(), 1);
        assert_eq!(usd("0.0000011").to_base_units_ceil(6).unwrap(), 2);
        assert_eq!(usd("0").to_base_units_ceil(6).unwrap(), 0);
        assert_eq!(usd("0.10").to_base_units_ceil(18).unwrap(), 100_000_000_000_000_000);
        assert_eq!(usd("1").to_base_units_ceil(0).unwrap(), 1);
        assert_eq!(usd("0.5").to_base_units_ceil(0).unwrap(), 1);
    }

    #[test]
    fn base_units_to_usd_is_exact_and_round_trips() {
        for (units, dec, s) in [(100_000u128, 6u8, "0.1"), (1, 6, "0.000001"), (1, 18, "0.000000000000000001")] {
            let t = TokenAmount { base_units: units, decimals: dec };
            assert_eq!(t.to_usd().unwrap(), usd(s));
            assert_eq!(TokenAmount::from_usd_ceil(t.to_usd().unwrap(), dec).unwrap(), t);
        }
    }

    #[test]
    fn negative_and_malformed_amounts_are_rejected() {
        assert!("-0.01".parse::<Usd>().is_err());
        assert!("1e3".parse::<Usd>().is_err());
        assert!("abc".parse::<Usd>().is_err());
        assert_eq!(usd("$0.01"), usd("0.010"));
        assert!(usd("0.01").to_base_units_ceil(19).is_err());
    }

    #[test]
    fn arithmetic_is_exact() {
        assert_eq!(usd("0.00025").times(20) + usd("0.02"), usd("0.025"));
        assert_eq!(usd("0.1").checked_sub(usd("0.3")), None);
        assert_eq!(usd("0.3").checked_sub(usd("0.1")), Some(usd("0.2")));
        assert_eq!(usd("0.00258").round_up_to_scale(2), usd("0.01"));
    }

    #[test]
    fn serde_uses_strings() {
        let t = TokenAmount { base_units: 250, decimals: 6 };
        assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"base_units":"250","decimals":6}"#);
        assert!(serde_json::from_str::<TokenAmount>(r#"{"base_units":"-1","decimals":6}"#).is_err());
        assert_eq!(serde_json::to_string(&usd("0.005")).unwrap(), r#""0.005""#);
        assert!(serde_json::from_str::<Usd>(r#""-1""#).is_err());
        assert!(serde_json::from_str::<Usd>("0.1").is_err(), "floats are not money");
    }
}
