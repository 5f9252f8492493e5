//! Wire-level tests of compute-fly against a wiremock server. Every request the adapter sends
//! is snapshotted (method, path, query and JSON body; never the Authorization header, whose
//! value is asserted separately).

mod common;
mod errors;
mod ips;
mod machines;
mod tenancy;
mod volumes;
