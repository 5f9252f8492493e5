//! Resources: every sold resource has an owner; reads are always scoped to it.

use chrono::{DateTime, Utc};
use compute_core::provider::ProviderId;
use compute_core::{Error, ErrorKind, Result, Usd, WalletAddress};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::kinds::{ResourceKind, ResourceState};
use super::{new_id, now};
use crate::entity::resource::{self, Entity as Resources};
use crate::{Store, db_err};

/// A resource to record, before (or right after) the provider creates it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewResource {
    /// Kind.
    pub kind: ResourceKind,
    /// Owner: the verified payer.
    pub owner: WalletAddress,
    /// Provider.
    pub provider: ProviderId,
    /// The provider's id, if already known.
    pub provider_id: Option<String>,
    /// Isolation unit at the provider.
    pub tenant: Option<String>,
    /// Name.
    pub name: String,
    /// Region.
    pub region: Option<String>,
    /// Initial state.
    pub state: ResourceState,
    /// Validated spec.
    pub spec: serde_json::Value,
    /// Price paid, USD.
    pub price: Usd,
    /// End of paid time.
    pub paid_until: Option<DateTime<Utc>>,
    /// The payment that bought it.
    pub payment_id: Option<String>,
}

/// Fields to change on a resource; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct ResourceUpdate {
    /// New state.
    pub state: Option<ResourceState>,
    /// The provider's id, once known.
    pub provider_id: Option<String>,
    /// New end of paid time.
    pub paid_until: Option<DateTime<Utc>>,
    /// New spec (a volume grown to a new size).
    pub spec: Option<serde_json::Value>,
}

impl ResourceUpdate {
    /// Changes the state.
    pub fn state(state: ResourceState) -> Self {
        ResourceUpdate { state: Some(state), ..ResourceUpdate::default() }
    }

    /// Also sets the provider's id.
    pub fn provider_id(mut self, id: impl Into<String>) -> Self {
        self.provider_id = Some(id.into());
        self
    }

    /// Also sets the end of paid time.
    pub fn paid_until(mut self, at: DateTime<Utc>) -> Self {
        self.paid_until = Some(at);
        self
    }

    /// Also replaces the spec.
    pub fn spec(mut self, spec: serde_json::Value) -> Self {
        self.spec = Some(spec);
        self
    }
}

/// A stored resource.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceRecord {
    /// Gateway id.
    pub id: String,
    /// Kind.
    pub kind: ResourceKind,
    /// Owner.
    pub owner: WalletAddress,
    /// Provider.
    pub provider: ProviderId,
    /// Provider's id.
    pub provider_id: Option<String>,
    /// Isolation unit.
    pub tenant: Option<String>,
    /// Name.
    pub name: String,
    /// Region.
    pub region: Option<String>,
    /// State.
    pub state: ResourceState,
    /// Validated spec.
    pub spec: serde_json::Value,
    /// Price paid, USD.
    pub price: Usd,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// End of paid time.
    pub paid_until: Option<DateTime<Utc>>,
    /// Expiry or deletion time.
    pub expires_at: Option<DateTime<Utc>>,
    /// The payment that bought it.
    pub payment_id: Option<String>,
}

impl TryFrom<resource::Model> for ResourceRecord {
    type Error = Error;
    fn try_from(m: resource::Model) -> Result<Self> {
        Ok(ResourceRecord {
            owner: m.owner.parse()?,
            price: m.price_usd.parse()?,
            kind: m.kind.parse()?,
            provider: provider_from_str(&m.provider)?,
            state: m.state.parse()?,
            id: m.id,
            provider_id: m.provider_id,
            tenant: m.tenant,
            name: m.name,
            region: m.region,
            spec: m.spec,
            created_at: m.created_at,
            updated_at: m.updated_at,
            paid_until: m.paid_until,
            expires_at: m.expires_at,
            payment_id: m.payment_id,
        })
    }
}

impl Store {
    /// Records a resource and returns it with its new id.
    ///
    /// # Errors
    /// `AlreadyExists` when `(provider, provider_id)` is already recorded.
    pub async fn insert_resource(&self, new: NewResource) -> Result<ResourceRecord> {
        let t = now();
        let model = resource::ActiveModel {
            id: Set(new_id()),
            kind: Set(new.kind.as_str().to_owned()),
            owner: Set(new.owner.to_string()),
            provider: Set(new.provider.as_str().to_owned()),
            provider_id: Set(new.provider_id),
            tenant: Set(new.tenant),
            name: Set(new.name),
            region: Set(new.region),
            state: Set(new.state.as_str().to_owned()),
            spec: Set(new.spec),
            price_usd: Set(new.price.to_string()),
            created_at: Set(t),
            updated_at: Set(t),
            paid_until: Set(new.paid_until),
            expires_at: Set(None),
            payment_id: Set(new.payment_id),
        };
        model.insert(&self.db).await.map_err(db_err)?.try_into()
    }

    /// The resource `id` if `owner` owns it; another wallet's resource is `NotFound`, exactly
    /// like a missing one.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn resource_for_owner(&self, id: &str, owner: &WalletAddress) -> Result<ResourceRecord> {
        Resources::find_by_id(id.to_owned())
            .filter(resource::Column::Owner.eq(owner.as_str()))
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "no such resource").with_component("store"))?
            .try_into()
    }

    /// The resource with provider id `provider_id` at `provider`, if `owner` owns it.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn resource_by_provider_id(
        &self,
        provider: ProviderId,
        provider_id: &str,
        owner: &WalletAddress,
    ) -> Result<ResourceRecord> {
        Resources::find()
            .filter(resource::Column::Provider.eq(provider.as_str()))
            .filter(resource::Column::ProviderId.eq(provider_id))
            .filter(resource::Column::Owner.eq(owner.as_str()))
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "no such resource").with_component("store"))?
            .try_into()
    }

    /// Whether any live (not destroyed) resource of `provider` has provider id `provider_id`,
    /// whoever owns it. For validating input before a payment only: never return what it
    /// finds to a caller.
    ///
    /// # Errors
    /// Database errors.
    pub async fn provider_id_exists(&self, provider: ProviderId, provider_id: &str) -> Result<bool> {
        Ok(self.live_by_provider_id(provider, provider_id).await?.is_some())
    }

    /// The validated spec of the live resource with provider id `provider_id`, whoever owns it.
    /// For pricing a request before its payment only (e.g. a start priced by the machine's
    /// size): never return it to a caller.
    ///
    /// # Errors
    /// Database errors.
    pub async fn spec_by_provider_id(
        &self,
        provider: ProviderId,
        provider_id: &str,
    ) -> Result<Option<serde_json::Value>> {
        Ok(self.live_by_provider_id(provider, provider_id).await?.map(|m| m.spec))
    }

    /// The live resource row with this provider id, whoever owns it (internal).
    async fn live_by_provider_id(&self, provider: ProviderId, provider_id: &str) -> Result<Option<resource::Model>> {
        Resources::find()
            .filter(resource::Column::Provider.eq(provider.as_str()))
            .filter(resource::Column::ProviderId.eq(provider_id))
            .filter(resource::Column::State.ne(ResourceState::Destroyed.as_str()))
            .one(&self.db)
            .await
            .map_err(db_err)
    }

    /// The owner's resources of `kind` that are not destroyed, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn list_resources(&self, owner: &WalletAddress, kind: ResourceKind) -> Result<Vec<ResourceRecord>> {
        let q = Resources::find()
            .filter(resource::Column::Owner.eq(owner.as_str()))
            .filter(resource::Column::Kind.eq(kind.as_str()))
            .filter(resource::Column::State.ne(ResourceState::Destroyed.as_str()))
            .order_by_asc(resource::Column::CreatedAt);
        self.records(q).await
    }

    /// Applies `update` to the resource `id`; destroying it also stamps `expires_at`.
    ///
    /// # Errors
    /// `NotFound` when the id is unknown.
    pub async fn update_resource(&self, id: &str, update: ResourceUpdate) -> Result<ResourceRecord> {
        let found = Resources::find_by_id(id.to_owned())
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "no such resource").with_component("store"))?;
        let mut am: resource::ActiveModel = found.into();
        if let Some(s) = update.state {
            am.state = Set(s.as_str().to_owned());
            if s == ResourceState::Destroyed {
                am.expires_at = Set(Some(now()));
            }
        }
        if let Some(p) = update.provider_id {
            am.provider_id = Set(Some(p));
        }
        if let Some(p) = update.paid_until {
            am.paid_until = Set(Some(p));
        }
        if let Some(spec) = update.spec {
            am.spec = Set(spec);
        }
        am.updated_at = Set(now());
        am.update(&self.db).await.map_err(db_err)?.try_into()
    }

    /// The resources bought by payment `payment_id`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn resources_of_payment(&self, payment_id: &str) -> Result<Vec<ResourceRecord>> {
        self.records(Resources::find().filter(resource::Column::PaymentId.eq(payment_id))).await
    }

    /// The resource with gateway id `id`.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn resource(&self, id: &str) -> Result<ResourceRecord> {
        Resources::find_by_id(id.to_owned())
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "no such resource").with_component("store"))?
            .try_into()
    }

    /// How many live resources of `kind` `owner` holds at `provider`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn count_live(&self, owner: &WalletAddress, kind: ResourceKind, provider: ProviderId) -> Result<usize> {
        Ok(self
            .list_resources(owner, kind)
            .await?
            .iter()
            .filter(|r| r.provider == provider && r.state.is_live())
            .count())
    }
}

impl Store {
    /// Every row `q` selects, as records.
    async fn records(&self, q: sea_orm::Select<Resources>) -> Result<Vec<ResourceRecord>> {
        q.all(&self.db).await.map_err(db_err)?.into_iter().map(TryInto::try_into).collect()
    }
}

/// A stored provider name as the typed id.
fn provider_from_str(s: &str) -> Result<ProviderId> {
    ProviderId::ALL
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| Error::new(ErrorKind::Internal, format!("unknown provider {s:?}")).with_component("store"))
}
