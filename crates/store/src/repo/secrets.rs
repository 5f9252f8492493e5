//! Server secrets: generated once, kept in the database so every replica shares them (the key
//! that derives tenant names from wallets).

use compute_core::http::SecretString;
use compute_core::{ErrorKind, Result};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use super::now;
use crate::entity::server_secret::{self, Entity as Secrets};
use crate::{Store, db_err};

impl Store {
    /// The secret `name`, 32 random bytes as hex, created on first use. Concurrent first uses in
    /// several processes all get the one that was stored.
    ///
    /// # Errors
    /// Database errors.
    pub async fn server_secret(&self, name: &str) -> Result<SecretString> {
        if let Some(found) = Secrets::find_by_id(name.to_owned()).one(&self.db).await.map_err(db_err)? {
            return Ok(SecretString::from(found.value));
        }
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        let am = server_secret::ActiveModel {
            name: Set(name.to_owned()),
            value: Set(hex::encode(bytes)),
            created_at: Set(now()),
        };
        match am.insert(&self.db).await.map_err(db_err) {
            Ok(m) => Ok(SecretString::from(m.value)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                let found = Secrets::find_by_id(name.to_owned()).one(&self.db).await.map_err(db_err)?;
                Ok(SecretString::from(found.map(|m| m.value).unwrap_or_default()))
            }
            Err(e) => Err(e),
        }
    }
}
