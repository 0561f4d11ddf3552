//! What the entries of one sync request share: who sent it, the dataset epoch and protocol it
//! is served under, and the forms and sites read for it, so that each is read once however
//! many entries need it.

use std::collections::HashMap;

use sync_core::Form;
use uuid::Uuid;

use crate::auth::DeviceCaller;
use crate::storage::SiteMetrics;
use crate::{ApiError, Result};

/// Form versions parsed once per request, by (form id, version); `None` when not published.
pub(super) type FormCache = HashMap<(String, i64), Option<Form>>;
/// Sites tally documents count for, looked up once per request; `None` when not stored.
pub(super) type SiteCache = HashMap<Uuid, Option<SiteMetrics>>;

pub struct SyncContext<'a> {
    pub state: &'a super::Services<'a>,
    pub device: &'a DeviceCaller,
    /// The dataset epoch the request was checked against.
    pub epoch: i64,
    /// The request's protocol version, which the reply speaks too.
    pub protocol: u64,
    pub forms: FormCache,
    pub sites: SiteCache,
}

impl SyncContext<'_> {
    /// A site's dataset and metrics, from the request's cache or the database.
    pub(super) async fn site_metrics(&mut self, site: Uuid) -> Result<Option<SiteMetrics>> {
        if let Some(cached) = self.sites.get(&site) {
            return Ok(cached.clone());
        }
        let found = self.state.storage.site_metrics(&[site]).await?.remove(&site);
        self.sites.insert(site, found.clone());
        Ok(found)
    }

    /// The form version a response claims, from the request's cache or the database.
    pub(super) async fn form_version(&mut self, form_id: &str, version: i64) -> Result<Option<Form>> {
        let key = (form_id.to_owned(), version);
        if let Some(cached) = self.forms.get(&key) {
            return Ok(cached.clone());
        }
        let definition = self
            .state
            .storage
            .form_definition(self.device.dataset, form_id, version)
            .await?;
        let form = match definition {
            Some(text) => Some(
                Form::from_published(&text).map_err(|e| ApiError::Internal(format!("stored form: {e}")))?,
            ),
            None => None,
        };
        self.forms.insert(key, form.clone());
        Ok(form)
    }
}
