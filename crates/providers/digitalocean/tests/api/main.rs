//! Wire-level tests of compute-digitalocean against a wiremock server. Every request the adapter
//! sends is snapshotted (method, path, query and JSON body; never the Authorization header,
//! whose value is asserted separately) and checked against the official OpenAPI spec.

mod actions;
mod catalog;
mod common;
mod contract;
mod errors;
mod keys;
mod machines;
#[path = "../support/openapi.rs"]
mod openapi;
mod snapshots;
mod tenancy;
