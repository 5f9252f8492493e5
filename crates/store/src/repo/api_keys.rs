//! API keys: random 256-bit keys shown once, stored as SHA-256 hashes, compared in constant
//! time.

use chrono::{DateTime, Utc};
use compute_core::http::{ExposeSecret, SecretString};
use compute_core::{Error, ErrorKind, Result, WalletAddress};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{new_id, now};
use crate::entity::api_key::{self, Entity as Keys};
use crate::{Store, db_err};

/// Prefix of every key, so leaked keys are recognisable by secret scanners.
pub const KEY_PREFIX: &str = "cgk_";

/// An API key's public record (never the key itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    /// Public id.
    pub id: String,
    /// Owner wallet.
    pub owner: WalletAddress,
    /// Label.
    pub label: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Unusable after, when set.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A freshly created key: the record and the plaintext, which is shown once and never stored.
#[derive(Debug)]
pub struct NewApiKey {
    /// The record.
    pub record: ApiKey,
    /// The key (redacted in `Debug`).
    pub key: SecretString,
}

fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl TryFrom<api_key::Model> for ApiKey {
    type Error = Error;
    fn try_from(m: api_key::Model) -> Result<Self> {
        Ok(ApiKey {
            id: m.id,
            owner: m.owner.parse()?,
            label: m.label,
            created_at: m.created_at,
            revoked_at: m.revoked_at,
            expires_at: m.expires_at,
        })
    }
}

impl Store {
    /// Creates a key for `owner`, usable until `expires_at` when set.
    ///
    /// # Errors
    /// Database errors.
    pub async fn create_api_key(
        &self,
        owner: &WalletAddress,
        label: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<NewApiKey> {
        let mut bytes = [0u8; 32];
        getrandom_fill(&mut bytes);
        let key = format!("{KEY_PREFIX}{}", hex::encode(bytes));
        let am = api_key::ActiveModel {
            id: Set(new_id()),
            owner: Set(owner.to_string()),
            key_hash: Set(hash_key(&key)),
            label: Set(label.to_owned()),
            created_at: Set(now()),
            revoked_at: Set(None),
            expires_at: Set(expires_at),
        };
        let record = am.insert(&self.db).await.map_err(db_err)?.try_into()?;
        Ok(NewApiKey { record, key: SecretString::from(key) })
    }

    /// The owner of a live key, or `None` for an unknown, revoked or expired key.
    ///
    /// # Errors
    /// Database errors.
    pub async fn api_key_owner(&self, key: &SecretString) -> Result<Option<WalletAddress>> {
        let hash = hash_key(key.expose_secret());
        let found =
            Keys::find().filter(api_key::Column::KeyHash.eq(hash.as_str())).one(&self.db).await.map_err(db_err)?;
        let Some(m) = found else { return Ok(None) };
        let same: bool = m.key_hash.as_bytes().ct_eq(hash.as_bytes()).into();
        if !same || m.revoked_at.is_some() || m.expires_at.is_some_and(|t| t <= now()) {
            return Ok(None);
        }
        Ok(Some(m.owner.parse()?))
    }

    /// How many of the owner's keys are usable (not revoked, not expired).
    ///
    /// # Errors
    /// Database errors.
    pub async fn live_api_keys(&self, owner: &WalletAddress) -> Result<usize> {
        let t = now();
        Ok(self
            .list_api_keys(owner)
            .await?
            .iter()
            .filter(|k| k.revoked_at.is_none() && k.expires_at.is_none_or(|e| e > t))
            .count())
    }

    /// The owner's keys, newest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn list_api_keys(&self, owner: &WalletAddress) -> Result<Vec<ApiKey>> {
        Keys::find()
            .filter(api_key::Column::Owner.eq(owner.as_str()))
            .order_by_desc(api_key::Column::CreatedAt)
            .all(&self.db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// Revokes the owner's key `id`.
    ///
    /// # Errors
    /// `NotFound` when `owner` has no key `id`.
    pub async fn revoke_api_key(&self, owner: &WalletAddress, id: &str) -> Result<ApiKey> {
        let m = Keys::find_by_id(id.to_owned())
            .filter(api_key::Column::Owner.eq(owner.as_str()))
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "no such API key").with_component("store"))?;
        let mut am = m.into_active_model();
        am.revoked_at = Set(Some(now()));
        am.update(&self.db).await.map_err(db_err)?.try_into()
    }
}

/// Fills `buf` from the thread-local CSPRNG (ChaCha, seeded and reseeded from the OS).
fn getrandom_fill(buf: &mut [u8]) {
    use rand::RngCore;
    rand::rng().fill_bytes(buf);
}
