//! The x402 `bazaar` discovery declaration of every paid route, derived from the route table
//! (method, path template, example body) once per process and shared by every 402 of the
//! route: the v2 extension pre-encoded for `PAYMENT-REQUIRED`, and the v1 `outputSchema`.

use std::collections::HashMap;
use std::sync::LazyLock;

use compute_pay_x402::{BAZAAR, EncodedExtension, HttpEndpoint, bazaar_declaration, bazaar_v1_output_schema};
use serde_json::Value;

use super::RouteSpec;

/// A paid route's discovery data.
#[derive(Debug)]
pub struct Discovery {
    /// The `bazaar` entry of the v2 `PaymentRequired.extensions`.
    pub v2: EncodedExtension,
    /// The `outputSchema` of each v1 `accepts` entry.
    pub v1_output_schema: Value,
}

/// Every paid route's discovery data by [`RouteSpec::route`] (`POST /api/machines`). The route
/// table is code, the same for every state, so one table serves the process.
static TABLE: LazyLock<HashMap<String, Discovery>> = LazyLock::new(|| {
    super::all_routes().iter().filter(|s| s.price.is_paid()).filter_map(|s| Some((s.route(), discovery(s)?))).collect()
});

/// The discovery data of the paid route `route` (`METHOD /path/{template}`, as a
/// [`compute_core::payment::Charge`] names it), if the bazaar has a shape for its method.
pub fn for_route(route: &str) -> Option<&'static Discovery> {
    TABLE.get(route)
}

/// The discovery data of `spec`: its method, path, and example body when it has one.
pub fn discovery(spec: &RouteSpec) -> Option<Discovery> {
    let example: Option<Value> = spec.example.and_then(|e| serde_json::from_str(e).ok());
    let endpoint = HttpEndpoint { method: spec.method.as_str(), path: spec.path, body_example: example.as_ref() };
    Some(Discovery {
        v2: EncodedExtension::new(BAZAAR, &bazaar_declaration(&endpoint)?),
        v1_output_schema: bazaar_v1_output_schema(&endpoint)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_paid_route_has_its_declaration_with_its_example() {
        let routes = super::super::all_routes();
        let paid: Vec<_> = routes.iter().filter(|s| s.price.is_paid()).collect();
        assert!(!paid.is_empty());
        for spec in &paid {
            let d = for_route(&spec.route()).unwrap_or_else(|| panic!("{} has no bazaar declaration", spec.route()));
            assert_eq!(d.v2.key(), "bazaar");
            assert_eq!(d.v1_output_schema["input"]["method"], spec.method.as_str(), "{}", spec.route());
            if let Some(example) = spec.example.filter(|_| d.v1_output_schema["input"].get("bodyType").is_some()) {
                let parsed: Value = serde_json::from_str(example).unwrap();
                assert_eq!(d.v1_output_schema["input"]["bodyFields"], parsed, "{}", spec.route());
            }
        }
        assert!(routes.iter().filter(|s| !s.price.is_paid()).all(|s| for_route(&s.route()).is_none()));
    }
}
