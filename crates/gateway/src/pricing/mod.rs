//! Prices: the surfaces' published price lists as price books (data in `pricing/*.toml`, the
//! schema of [`compute_core::billing::book`]), read by [`BookBilling`] together with the
//! `[pricing]` margin, rounding and minimum charge.
//!
//! The built-in books are compiled in; `[pricing] books = ["…"]` replaces a built-in book with
//! the file's book of the same `name`.

use std::path::Path;

use compute_core::billing::{BookBilling, MarginBilling, PriceBook, PriceBooks};

use crate::config::{Config, ConfigError};

/// The built-in books: `(file name, TOML text)`.
const BUILT_IN: [(&str, &str); 3] = [
    ("tinycompute.toml", include_str!("../../pricing/tinycompute.toml")),
    ("silovps.toml", include_str!("../../pricing/silovps.toml")),
    ("x402compute.toml", include_str!("../../pricing/x402compute.toml")),
];

fn parse(origin: &str, text: &str) -> Result<PriceBook, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError(format!("price book {origin}: {e}")))
}

/// The built-in books.
///
/// # Panics
/// Never: the built-in books are parsed by a test.
pub fn built_in() -> PriceBooks {
    PriceBooks::new(
        BUILT_IN.iter().map(|(name, text)| {
            parse(name, text).unwrap_or_else(|e| panic!("a built-in price book does not parse: {e}"))
        }),
    )
}

/// The built-in books with `[pricing] books` applied.
///
/// # Errors
/// [`ConfigError`] naming `pricing.books` and the file when one cannot be read or parsed.
pub fn books(config: &Config) -> Result<PriceBooks, ConfigError> {
    let mut all: Vec<PriceBook> = built_in().iter().cloned().collect();
    for path in &config.pricing.books {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("pricing.books: cannot read {}: {e}", path.display())))?;
        all.push(parse(&display(path), &text)?);
    }
    Ok(PriceBooks::new(all))
}

fn display(path: &Path) -> String {
    format!("pricing.books {}", path.display())
}

/// Billing over `books` with the `[pricing]` margin, rounding and minimum charge.
pub fn billing(config: &Config, books: PriceBooks) -> BookBilling {
    BookBilling {
        margin: MarginBilling {
            margin: config.pricing.margin,
            minimum_charge: config.pricing.minimum_charge_usd,
            price_scale: config.pricing.price_scale,
        },
        books,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_books_parse_and_name_themselves() {
        let books = built_in();
        for name in ["tinycompute", "silovps", "x402compute"] {
            assert!(books.get(name).is_some(), "{name}");
        }
    }
}
