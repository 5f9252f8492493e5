//! The live catalog: sizes (`sizes/sizes_list.yml`), regions (`regions/regions_list.yml`) and
//! distribution images (`images/images_list.yml`), every page, read on each call (the gateway
//! caches; this crate holds no state between calls).
//!
//! Provider cost is each size's `price_hourly`, **USD per hour**, parsed exactly into a decimal
//! (DigitalOcean's JSON prices are floats such as `0.00893`; they are read from their text,
//! never through `f64` arithmetic). `price_monthly` (USD per month, the cap of the hourly
//! billing) is not part of the catalog. Memory is in **MB**, disk in **GB**.

use std::collections::BTreeSet;

use async_trait::async_trait;
use compute_core::Result;
use compute_core::provider::{Catalog, Limits, Provider, ProviderId, SizeOffer};

use crate::DoProvider;
use crate::client::{DoClient, decode};
use crate::convert::{image, region, size_offer};
use crate::types::{DoImage, DoRegion, DoSize};

impl DoClient {
    /// `GET /v2/sizes?per_page=200`, every page.
    ///
    /// # Errors
    /// DigitalOcean errors mapped by [`crate::parse_error`].
    pub async fn sizes(&self) -> Result<Vec<DoSize>> {
        let values = self.list_values("list sizes", &["sizes"], &[], "sizes").await?;
        values.into_iter().map(|v| decode("list sizes", v)).collect()
    }

    /// `GET /v2/regions?per_page=200`, every page.
    ///
    /// # Errors
    /// DigitalOcean errors mapped by [`crate::parse_error`].
    pub async fn regions(&self) -> Result<Vec<DoRegion>> {
        let values = self.list_values("list regions", &["regions"], &[], "regions").await?;
        values.into_iter().map(|v| decode("list regions", v)).collect()
    }

    /// `GET /v2/images?type=distribution&per_page=200`, every page.
    ///
    /// # Errors
    /// DigitalOcean errors mapped by [`crate::parse_error`].
    pub async fn distribution_images(&self) -> Result<Vec<DoImage>> {
        let values = self.list_values("list images", &["images"], &[("type", "distribution")], "images").await?;
        values.into_iter().map(|v| decode("list images", v)).collect()
    }
}

/// Whether an offer fits within `limits` (vCPUs, memory in **MB**).
pub fn within(limits: &Limits, offer: &SizeOffer) -> bool {
    limits.max_vcpus.is_none_or(|m| offer.vcpus <= m) && limits.max_memory_mb.is_none_or(|m| offer.memory_mb <= m)
}

#[async_trait]
impl Provider for DoProvider {
    fn id(&self) -> ProviderId {
        ProviderId::Digitalocean
    }

    /// The live catalog: sizes that are `available` and within the configured limits (with
    /// provider cost per hour), every region (with its `available` flag), public distribution
    /// images that are `available` (by slug), this adapter's default region and limits. Ids
    /// are unique (a repeated one keeps its first entry).
    async fn catalog(&self) -> Result<Catalog> {
        let limits = self.offering.limits;
        let mut seen = BTreeSet::new();
        let mut sizes = Vec::new();
        for s in self.client.sizes().await?.iter().filter(|s| s.available) {
            let offer = size_offer(s)?;
            if within(&limits, &offer) && seen.insert(offer.id.clone()) {
                sizes.push(offer);
            }
        }
        let mut seen = BTreeSet::new();
        let regions = self.client.regions().await?.iter().map(region).filter(|r| seen.insert(r.id.clone())).collect();
        let mut seen = BTreeSet::new();
        let images = self
            .client
            .distribution_images()
            .await?
            .iter()
            .filter(|i| i.status.as_deref().is_none_or(|s| s == "available"))
            .map(image)
            .filter(|i| seen.insert(i.id.clone()))
            .collect();
        let default_region = Some(self.offering.default_region.clone());
        // DigitalOcean bills a powered-off droplet in full (its disk, IP and reserved
        // resources stay allocated), so a lapsed one is snapshotted and destroyed, not stopped.
        Ok(Catalog {
            sizes,
            regions,
            images,
            default_region,
            limits,
            stopped_machines_billed: true,
            ..Catalog::default()
        })
    }
}
