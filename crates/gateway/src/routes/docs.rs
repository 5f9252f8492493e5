//! Route descriptions generated from the table and the price books: a price in words, and the
//! Markdown tables of `docs/API.md`.

use compute_core::billing::PriceBooks;

use super::{Auth, PriceRule, RouteSpec, Surface};

/// The price of a route in words: `$0.01`, `free`, or `dynamic: <the book's summary>`.
pub fn describe_price(spec: &RouteSpec, books: &PriceBooks) -> String {
    let metered = |item: &str| {
        books.metered(spec.book, item).map(|m| m.summary.clone()).unwrap_or_else(|_| format!("price book item {item}"))
    };
    match spec.price {
        PriceRule::Free => "free".to_owned(),
        PriceRule::Fixed(item) => {
            books.fixed(spec.book, item).map(|p| format!("${p}")).unwrap_or_else(|_| format!("price book item {item}"))
        }
        PriceRule::Metered(item) => format!("dynamic: {}", metered(item)),
        PriceRule::Renewal(item) => {
            let m = books.metered(spec.book, item);
            let unit = m.map(|m| m.unit.as_str()).unwrap_or("unit");
            format!("dynamic: per-{unit} rate of the size × the {unit}s bought, no setup fee")
        }
        PriceRule::Quoted(formula) => format!("dynamic: {formula}"),
    }
}

/// Who may call a route, in words.
pub fn describe_caller(spec: &RouteSpec) -> &'static str {
    match spec.auth {
        Auth::None => "anyone",
        Auth::Wallet => "wallet",
        Auth::Signature => "wallet signature",
    }
}

/// Markdown tables of every route (surface, method, path, price, rails, caller, provider),
/// the generated part of `docs/API.md`.
pub fn api_markdown(routes: &[impl AsRef<RouteSpec>], books: &PriceBooks) -> String {
    let mut out = String::new();
    for surface in Surface::ALL {
        out.push_str(&format!("### {}\n\n", surface.title()));
        out.push_str("| Method | Path | Price (USD) | Rails | Caller | Provider | Summary |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        for r in routes.iter().map(AsRef::as_ref).filter(|r| r.surface == surface) {
            let rails = if r.price.is_paid() { "MPP, x402, credits" } else { "—" };
            let provider = r.needs.map(|n| format!("{} ({})", n.provider, n.capability)).unwrap_or_else(|| "—".into());
            out.push_str(&format!(
                "| {} | `{}` | {} | {} | {} | {} | {} |\n",
                r.method,
                r.path,
                describe_price(r, books),
                rails,
                describe_caller(r),
                provider,
                r.summary
            ));
        }
        out.push('\n');
    }
    out
}
