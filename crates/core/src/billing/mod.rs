//! Billing: turns a validated, priced request into a [`Quote`].
//!
//! A quote is **deterministic**: the same [`QuoteRequest`] always gives the same quote, so the
//! paid retry of a request is priced exactly like the request that got the 402.
//!
//! - [`MarginBilling`]: provider cost plus a margin.
//! - [`book::BookBilling`]: a surface's published price list ([`book::PriceBook`], data), with
//!   provider cost plus margin for what the list does not cover.

pub mod book;

pub use book::{BookBilling, GuestRule, ListedSize, MeteredItem, PriceBook, PriceBooks};

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::provider::{ProviderCost, Rate, RatePeriod};
use crate::{Error, ErrorKind, Result, Usd};

/// What is being bought.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuoteRequest {
    /// Time-billed resource (machine, droplet, instance, volume): provider cost, the period the
    /// sale rate is quoted in, and how many such periods are bought.
    Metered {
        /// What the provider charges the operator.
        cost: ProviderCost,
        /// The period of the sale rate (TinyCompute: minute; x402Compute: hour).
        period: RatePeriod,
        /// Number of `period`s bought (e.g. `ttl_minutes`).
        periods: u64,
    },
    /// A one-off operation at a fixed list price (exec, stop, DNS record, …).
    Fixed {
        /// Operation name, e.g. `machine.exec`.
        operation: String,
        /// List price in USD.
        price: Usd,
    },
    /// A pass-through purchase at a market price (domain buy or renew): provider cost plus margin.
    Market {
        /// Operation name, e.g. `domain.buy`.
        operation: String,
        /// Provider price in USD.
        cost: Usd,
    },
    /// A fixed price published in a price book.
    ListedFixed {
        /// Book name, e.g. `tinycompute`.
        book: String,
        /// Operation name in the book, e.g. `machine.exec`.
        item: String,
    },
    /// A time-billed item of a price book: `units` (in the item's unit) of `size`.
    ListedMetered {
        /// Book name.
        book: String,
        /// Metered item name, e.g. `fly.machine`.
        item: String,
        /// [`crate::provider::MachineSize::key`] of the size, or a label the book lists.
        size: String,
        /// How many of the item's units are bought.
        units: u64,
        /// How many of the size are bought (1 for a machine, the **GB** of a volume): the rate
        /// is multiplied by it, the setup fee is not.
        quantity: u64,
        /// Whether the one-off setup fee is charged (create: yes; start of a stopped machine: no).
        setup: bool,
        /// Provider cost of the size, for books that sell unlisted sizes at cost plus margin.
        cost: Option<ProviderCost>,
    },
}

/// A price offer for one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// One-off fee in USD.
    pub setup_fee: Usd,
    /// Sale rate, for metered requests.
    pub rate: Option<Rate>,
    /// Number of rate periods bought (0 for one-off requests).
    pub periods: u64,
    /// What the payer pays now, in USD: `setup_fee + rate × periods`, at least the minimum charge.
    pub total: Usd,
}

/// Turns requests into quotes. Pure and deterministic; object safe.
pub trait Billing: Send + Sync + fmt::Debug {
    /// Prices a validated request.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the request cannot be priced (e.g. zero periods).
    fn quote(&self, request: &QuoteRequest) -> Result<Quote>;
}

/// The default [`Billing`]: provider cost plus a percentage margin, rounded **up** to
/// `price_scale` decimal places of a dollar, with a minimum charge per paid request.
///
/// - setup fee = ceil(cost.setup × (1 + margin));
/// - sale rate per `period` = ceil(cost.rate converted to `period` × (1 + margin));
/// - total = max(setup fee + sale rate × periods, minimum charge).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarginBilling {
    /// Margin as a fraction: `0.25` is 25 %.
    pub margin: Decimal,
    /// Smallest charge of a paid request, USD (SiloVPS: $0.01).
    pub minimum_charge: Usd,
    /// Decimal places of a dollar prices are rounded up to (5 gives $0.00001).
    pub price_scale: u32,
}

impl Default for MarginBilling {
    fn default() -> Self {
        MarginBilling { margin: Decimal::new(25, 2), minimum_charge: Usd::from_parts(1, 3), price_scale: 5 }
    }
}

impl MarginBilling {
    pub(crate) fn marked_up(&self, cost: Decimal) -> Result<Usd> {
        let price = cost * (Decimal::ONE + self.margin);
        Ok(Usd::new(price)?.round_up_to_scale(self.price_scale))
    }

    /// The sale rate for `cost` quoted per `period`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] on a negative margin.
    pub fn sale_rate(&self, cost: &Rate, period: RatePeriod) -> Result<Rate> {
        if self.margin.is_sign_negative() {
            return Err(Error::new(ErrorKind::InvalidInput, "negative margin"));
        }
        let per_minute = cost.amount.as_decimal() / Decimal::from(cost.per.minutes());
        let in_period = per_minute * Decimal::from(period.minutes());
        Ok(Rate { amount: self.marked_up(in_period)?, per: period })
    }
}

impl Billing for MarginBilling {
    fn quote(&self, request: &QuoteRequest) -> Result<Quote> {
        let (setup_fee, rate, periods) = match request {
            QuoteRequest::Metered { cost, period, periods } => {
                if *periods == 0 {
                    return Err(Error::new(ErrorKind::InvalidInput, "a metered purchase needs at least one period"));
                }
                (self.marked_up(cost.setup.as_decimal())?, Some(self.sale_rate(&cost.rate, *period)?), *periods)
            }
            QuoteRequest::Fixed { price, .. } => (*price, None, 0),
            QuoteRequest::Market { cost, .. } => (self.marked_up(cost.as_decimal())?, None, 0),
            QuoteRequest::ListedFixed { .. } | QuoteRequest::ListedMetered { .. } => {
                return Err(Error::new(ErrorKind::Internal, "margin billing has no price books; use BookBilling"));
            }
        };
        let running = rate.map(|r| r.amount.times(periods)).unwrap_or(Usd::ZERO);
        let total = (setup_fee + running).max(self.minimum_charge);
        Ok(Quote { setup_fee, rate, periods, total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Usd {
        s.parse().unwrap()
    }

    #[test]
    fn metered_quotes_are_setup_plus_rate_times_periods() {
        let b = MarginBilling { margin: Decimal::ZERO, minimum_charge: usd("0.01"), price_scale: 5 };
        let cost = ProviderCost { setup: usd("0.02"), rate: Rate { amount: usd("0.015"), per: RatePeriod::Hour } };
        let q = b.quote(&QuoteRequest::Metered { cost, period: RatePeriod::Minute, periods: 20 }).unwrap();
        assert_eq!(q.rate.unwrap().amount, usd("0.00025"));
        assert_eq!(q.total, usd("0.025"));
        // Deterministic.
        assert_eq!(q, b.quote(&QuoteRequest::Metered { cost, period: RatePeriod::Minute, periods: 20 }).unwrap());
    }

    #[test]
    fn margin_rounds_up_and_minimum_applies() {
        let b = MarginBilling { margin: Decimal::new(25, 2), minimum_charge: usd("0.01"), price_scale: 5 };
        let cost = ProviderCost { setup: Usd::ZERO, rate: Rate { amount: usd("4"), per: RatePeriod::Month } };
        let q = b.quote(&QuoteRequest::Metered { cost, period: RatePeriod::Hour, periods: 1 }).unwrap();
        // 4 / 730 h = 0.005479… × 1.25 = 0.006849… → 0.00685, below the minimum.
        assert_eq!(q.rate.unwrap().amount, usd("0.00685"));
        assert_eq!(q.total, usd("0.01"));
        let q = b.quote(&QuoteRequest::Market { operation: "domain.buy".into(), cost: usd("10") }).unwrap();
        assert_eq!(q.total, usd("12.5"));
        assert!(b.quote(&QuoteRequest::Metered { cost, period: RatePeriod::Hour, periods: 0 }).is_err());
    }

    #[test]
    fn fixed_prices_pass_through() {
        let b = MarginBilling::default();
        let q = b.quote(&QuoteRequest::Fixed { operation: "machine.exec".into(), price: usd("0.01") }).unwrap();
        assert_eq!((q.total, q.rate, q.periods), (usd("0.01"), None, 0));
    }

    #[allow(dead_code)]
    fn object_safe(_: &dyn Billing) {}
}
