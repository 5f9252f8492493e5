//! Price books: a surface's published price list as data, read by [`BookBilling`].
//!
//! A book is a TOML (or any serde) document with this schema, every amount a **decimal
//! string** of USD (floats are refused):
//!
//! ```toml
//! name = "tinycompute"                       # the book id routes refer to
//! source = "tinycompute-llms.txt § Pricing"  # where the prices come from
//! as_of = "2026-03-19"                       # when they were copied
//!
//! [fixed]                                    # one price per operation
//! "machine.exec" = "0.01"
//!
//! [metered."fly.machine"]                    # a time-billed item
//! summary = "setup fee + per-minute rate × ttl_minutes"
//! unit = "minute"                            # purchases are counted in minutes (or hours)
//! default_units = 10                         # when the request names none
//! min_units = 1
//! max_units = 1440
//! minimum_usd = "0.01"                       # optional floor of one purchase
//! cost_plus_margin = false                   # unlisted sizes: provider cost × (1 + margin)?
//!
//! [[metered."fly.machine".sizes]]            # listed sizes: the published price is charged
//! size = "shared/1/512"                      # MachineSize::key(): kind/vCPUs/MB, or a plan slug
//! label = "shared 1cpu / 512MB"              # optional display name (SiloVPS: "small")
//! plan = "s-1vcpu-1gb"                       # optional provider plan the label stands for
//! setup = "0.11"
//! rate = "0.005"
//! per = "minute"
//!
//! [metered."fly.machine".guest_rule]         # optional: a linear rule for unlisted guests
//! per = "minute"
//! memory_step_mb = 256
//! rate_per_shared_vcpu = "0.003"
//! rate_per_performance_vcpu = "0.006"
//! rate_per_memory_step = "0.001"
//! setup_base = "0.10"
//! setup_per_extra_vcpu = "0.02"
//! setup_per_extra_memory_step = "0.01"
//! ```
//!
//! A size is priced, in this order, by its listed entry, by the item's guest rule, or (when
//! `cost_plus_margin`) by the provider cost of the size marked up by the configured margin;
//! otherwise it is not sold and the quote is an [`ErrorKind::InvalidInput`].

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Billing, MarginBilling, Quote, QuoteRequest};
use crate::provider::{CpuKind, ProviderCost, Rate, RatePeriod};
use crate::{Error, ErrorKind, Result, Usd};

/// One surface's published price list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceBook {
    /// The book id routes refer to, e.g. `tinycompute`.
    pub name: String,
    /// Where the prices come from.
    pub source: String,
    /// When they were copied from the source (`YYYY-MM-DD`).
    pub as_of: String,
    /// Fixed USD price per operation name.
    #[serde(default)]
    pub fixed: BTreeMap<String, Usd>,
    /// Time-billed items by name.
    #[serde(default)]
    pub metered: BTreeMap<String, MeteredItem>,
}

/// A time-billed item: a one-off setup fee plus a rate times the units bought.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeteredItem {
    /// How the price is formed, for `llms.txt`, `openapi.json` and `docs/API.md`.
    pub summary: String,
    /// The unit a purchase is counted in (the quote's `periods`).
    pub unit: RatePeriod,
    /// Units bought when the request names none.
    pub default_units: u64,
    /// Fewest units one purchase may buy.
    pub min_units: u64,
    /// Most units one purchase may buy.
    pub max_units: u64,
    /// Smallest charge of one purchase, USD (SiloVPS: `0.01`).
    #[serde(default)]
    pub minimum_usd: Option<Usd>,
    /// A published one-off fee charged with a cost-plus-margin rate (TinyCompute's $0.05 volume
    /// create fee), USD.
    #[serde(default)]
    pub setup_usd: Option<Usd>,
    /// Whether a size neither listed nor covered by the guest rule is sold at provider cost
    /// plus the configured margin.
    #[serde(default)]
    pub cost_plus_margin: bool,
    /// Sizes with a published price.
    #[serde(default)]
    pub sizes: Vec<ListedSize>,
    /// A linear rule for guest sizes that are not listed.
    #[serde(default)]
    pub guest_rule: Option<GuestRule>,
}

/// A size with a published price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListedSize {
    /// [`crate::provider::MachineSize::key`] of the size, e.g. `shared/1/512` or `s-1vcpu-1gb`.
    pub size: String,
    /// Display name, when the surface names its sizes (SiloVPS `small`).
    #[serde(default)]
    pub label: Option<String>,
    /// The provider plan a label stands for (SiloVPS `small` is `s-1vcpu-1gb`).
    #[serde(default)]
    pub plan: Option<String>,
    /// One-off fee at creation, USD.
    pub setup: Usd,
    /// Recurring price, USD per `per`.
    pub rate: Usd,
    /// The period `rate` is quoted for.
    pub per: RatePeriod,
}

/// Prices of unlisted guests: linear in vCPUs and memory steps.
///
/// - rate per `per` = vCPUs × the per-vCPU rate of the CPU kind + memory steps × `rate_per_memory_step`;
/// - setup = `setup_base` + extra vCPUs (beyond the first) × `setup_per_extra_vcpu` + extra
///   memory steps (beyond the first) × `setup_per_extra_memory_step`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestRule {
    /// The period rates are quoted for.
    pub per: RatePeriod,
    /// Size of one memory step in **MB**.
    pub memory_step_mb: u32,
    /// USD per shared vCPU per `per`.
    pub rate_per_shared_vcpu: Usd,
    /// USD per performance vCPU per `per`.
    pub rate_per_performance_vcpu: Usd,
    /// USD per memory step per `per`.
    pub rate_per_memory_step: Usd,
    /// Setup fee of the smallest guest.
    pub setup_base: Usd,
    /// Setup fee per vCPU beyond the first.
    pub setup_per_extra_vcpu: Usd,
    /// Setup fee per memory step beyond the first.
    pub setup_per_extra_memory_step: Usd,
}

impl GuestRule {
    /// Setup fee and rate of `cpus` vCPUs of `kind` with `memory_mb` MB.
    fn price(&self, kind: CpuKind, cpus: u32, memory_mb: u32) -> (Usd, Rate) {
        let steps = u64::from(memory_mb / self.memory_step_mb.max(1));
        let per_cpu = match kind {
            CpuKind::Shared => self.rate_per_shared_vcpu,
            CpuKind::Performance => self.rate_per_performance_vcpu,
        };
        let rate = per_cpu.times(u64::from(cpus)) + self.rate_per_memory_step.times(steps);
        let setup = self.setup_base
            + self.setup_per_extra_vcpu.times(u64::from(cpus.saturating_sub(1)))
            + self.setup_per_extra_memory_step.times(steps.saturating_sub(1));
        (setup, Rate { amount: rate, per: self.per })
    }
}

/// Parses a guest size key `kind/cpus/memory_mb`.
fn parse_guest_key(key: &str) -> Option<(CpuKind, u32, u32)> {
    let mut parts = key.split('/');
    let kind = match parts.next()? {
        "shared" => CpuKind::Shared,
        "performance" => CpuKind::Performance,
        _ => return None,
    };
    let cpus = parts.next()?.parse().ok()?;
    let memory = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((kind, cpus, memory))
}

impl MeteredItem {
    /// The listed size whose key or label is `size`.
    pub fn listed(&self, size: &str) -> Option<&ListedSize> {
        self.sizes.iter().find(|s| s.size == size || s.label.as_deref() == Some(size))
    }

    /// The units a request buys: `requested`, or the default; within the item's bounds.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] outside `min_units..=max_units`, naming `field`.
    pub fn units(&self, requested: Option<u64>, field: &str) -> Result<u64> {
        let units = requested.unwrap_or(self.default_units);
        if !(self.min_units..=self.max_units).contains(&units) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("{field} must be {}–{}, not {units}", self.min_units, self.max_units),
            ));
        }
        Ok(units)
    }
}

/// Every price book the gateway serves, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PriceBooks(BTreeMap<String, PriceBook>);

impl PriceBooks {
    /// Books from a list; a later book with the same name replaces an earlier one.
    pub fn new(books: impl IntoIterator<Item = PriceBook>) -> Self {
        PriceBooks(books.into_iter().map(|b| (b.name.clone(), b)).collect())
    }

    /// The book `name`.
    pub fn get(&self, name: &str) -> Option<&PriceBook> {
        self.0.get(name)
    }

    /// Every book, by name.
    pub fn iter(&self) -> impl Iterator<Item = &PriceBook> {
        self.0.values()
    }

    /// The fixed price of `item` in `book`.
    ///
    /// # Errors
    /// [`ErrorKind::Internal`] when the book or item is missing (a route refers to a price that
    /// was not published).
    pub fn fixed(&self, book: &str, item: &str) -> Result<Usd> {
        self.get(book)
            .and_then(|b| b.fixed.get(item))
            .copied()
            .ok_or_else(|| Error::new(ErrorKind::Internal, format!("price book {book:?} has no fixed price {item:?}")))
    }

    /// The metered `item` of `book`.
    ///
    /// # Errors
    /// [`ErrorKind::Internal`] when the book or item is missing.
    pub fn metered(&self, book: &str, item: &str) -> Result<&MeteredItem> {
        self.get(book)
            .and_then(|b| b.metered.get(item))
            .ok_or_else(|| Error::new(ErrorKind::Internal, format!("price book {book:?} has no metered item {item:?}")))
    }
}

/// [`Billing`] over price books, with [`MarginBilling`] for provider-cost prices.
///
/// - `ListedFixed`: the book's price, at least the minimum charge;
/// - `ListedMetered`: the size's price (listed, guest rule, or cost plus margin, see the
///   module docs): `setup (when asked) + rate × units` converted exactly between periods,
///   rounded **up** to `price_scale`, at least the item's `minimum_usd` and the minimum charge;
/// - `Metered`, `Fixed`, `Market`: as [`MarginBilling`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookBilling {
    /// Margin, rounding and minimum charge.
    pub margin: MarginBilling,
    /// The books.
    pub books: PriceBooks,
}

impl BookBilling {
    /// The setup fee and rate of `size` under `item`.
    fn size_price(&self, item: &MeteredItem, size: &str, cost: Option<&ProviderCost>) -> Result<(Usd, Rate)> {
        if let Some(listed) = item.listed(size) {
            return Ok((listed.setup, Rate { amount: listed.rate, per: listed.per }));
        }
        if let (Some(rule), Some((kind, cpus, memory))) = (&item.guest_rule, parse_guest_key(size)) {
            return Ok(rule.price(kind, cpus, memory));
        }
        match cost {
            Some(cost) if item.cost_plus_margin => {
                let setup = match item.setup_usd {
                    Some(fee) => fee,
                    None => self.margin.marked_up(cost.setup.as_decimal())?,
                };
                Ok((setup, self.margin.sale_rate(&cost.rate, item.unit)?))
            }
            _ => Err(Error::new(ErrorKind::InvalidInput, format!("size {size:?} is not sold here"))),
        }
    }
}

impl Billing for BookBilling {
    fn quote(&self, request: &QuoteRequest) -> Result<Quote> {
        match request {
            QuoteRequest::ListedFixed { book, item } => {
                let price = self.books.fixed(book, item)?;
                Ok(Quote { setup_fee: price, rate: None, periods: 0, total: price.max(self.margin.minimum_charge) })
            }
            QuoteRequest::ListedMetered { book, item, size, units, quantity, setup, cost } => {
                let metered = self.books.metered(book, item)?;
                let units = metered.units(Some(*units), "the duration")?;
                let (setup_fee, rate) = self.size_price(metered, size, cost.as_ref())?;
                let setup_fee = if *setup { setup_fee } else { Usd::ZERO };
                // rate × quantity × units, with units in `metered.unit` and the rate per
                // `rate.per`: exact.
                let running = rate.amount.as_decimal()
                    * Decimal::from(*quantity)
                    * Decimal::from(units)
                    * Decimal::from(metered.unit.minutes())
                    / Decimal::from(rate.per.minutes());
                let total = Usd::new(setup_fee.as_decimal() + running)?
                    .round_up_to_scale(self.margin.price_scale)
                    .max(metered.minimum_usd.unwrap_or(Usd::ZERO))
                    .max(self.margin.minimum_charge);
                Ok(Quote { setup_fee, rate: Some(rate), periods: units, total })
            }
            other => self.margin.quote(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOK: &str = r#"
name = "t"
source = "test"
as_of = "2026-01-01"
[fixed]
"machine.exec" = "0.01"
[metered.m]
summary = "s"
unit = "minute"
default_units = 10
min_units = 1
max_units = 1440
[[metered.m.sizes]]
size = "shared/1/512"
setup = "0.11"
rate = "0.005"
per = "minute"
[metered.m.guest_rule]
per = "minute"
memory_step_mb = 256
rate_per_shared_vcpu = "0.003"
rate_per_performance_vcpu = "0.006"
rate_per_memory_step = "0.001"
setup_base = "0.10"
setup_per_extra_vcpu = "0.02"
setup_per_extra_memory_step = "0.01"
[metered.server]
summary = "s"
unit = "minute"
default_units = 1
min_units = 1
max_units = 100000
minimum_usd = "0.01"
cost_plus_margin = true
[[metered.server.sizes]]
size = "s-1vcpu-1gb"
label = "small"
setup = "0.02"
rate = "0.015"
per = "hour"
[[metered.server.sizes]]
size = "s-4vcpu-8gb"
label = "large"
setup = "0.10"
rate = "0.155"
per = "hour"
"#;

    fn billing() -> BookBilling {
        let book: PriceBook = toml::from_str(BOOK).unwrap();
        BookBilling {
            margin: MarginBilling { margin: Decimal::ZERO, minimum_charge: "0.001".parse().unwrap(), price_scale: 5 },
            books: PriceBooks::new([book]),
        }
    }

    fn metered(size: &str, units: u64, setup: bool, cost: Option<ProviderCost>) -> Result<Quote> {
        billing().quote(&QuoteRequest::ListedMetered {
            book: "t".into(),
            item: if size.starts_with("s-") || size == "small" { "server" } else { "m" }.into(),
            size: size.into(),
            units,
            quantity: 1,
            setup,
            cost,
        })
    }

    fn usd(s: &str) -> Usd {
        s.parse().unwrap()
    }

    #[test]
    fn listed_sizes_charge_the_published_price() {
        assert_eq!(metered("shared/1/512", 10, true, None).unwrap().total, usd("0.16"));
        assert_eq!(metered("shared/1/512", 10, false, None).unwrap().total, usd("0.05"));
        // SiloVPS: small for 20 minutes, by label or by plan.
        assert_eq!(metered("small", 20, true, None).unwrap().total, usd("0.025"));
        assert_eq!(metered("s-1vcpu-1gb", 20, true, None).unwrap().total, usd("0.025"));
        // large for one minute without setup: 0.155 / 60 = 0.002583… → the $0.01 floor.
        assert_eq!(metered("s-4vcpu-8gb", 1, false, None).unwrap().total, usd("0.01"));
        // large for an hour: exactly the hourly rate, no per-minute rounding.
        assert_eq!(metered("s-4vcpu-8gb", 60, false, None).unwrap().total, usd("0.155"));
    }

    #[test]
    fn unlisted_guests_follow_the_rule_and_unlisted_plans_cost_plus_margin() {
        // shared 2 vCPU / 1024 MB: rate 2×0.003 + 4×0.001 = 0.01; setup 0.10 + 0.02 + 3×0.01.
        let q = metered("shared/2/1024", 1, true, None).unwrap();
        assert_eq!((q.setup_fee, q.rate.unwrap().amount, q.total), (usd("0.15"), usd("0.01"), usd("0.16")));
        let cost = ProviderCost { setup: Usd::ZERO, rate: Rate { amount: usd("0.06"), per: RatePeriod::Hour } };
        assert_eq!(metered("s-2vcpu-2gb", 60, false, Some(cost)).unwrap().total, usd("0.06"));
        assert_eq!(metered("s-2vcpu-2gb", 60, false, None).unwrap_err().kind(), ErrorKind::InvalidInput);
        assert!(metered("shared/1/512", 1441, true, None).is_err());
        assert!(metered("shared/1/512", 0, true, None).is_err());
    }

    #[test]
    fn fixed_prices_come_from_the_book() {
        let b = billing();
        let q = b.quote(&QuoteRequest::ListedFixed { book: "t".into(), item: "machine.exec".into() }).unwrap();
        assert_eq!(q.total, usd("0.01"));
        assert!(b.quote(&QuoteRequest::ListedFixed { book: "t".into(), item: "nope".into() }).is_err());
    }
}
