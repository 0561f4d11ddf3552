//! Whether a merged document may be stored, and its write if so: valid against the form
//! version it claims (responses), the site it counts for (tally documents) or its kind's rules,
//! of the device's dataset, and within the size limit.

use sync_core::{CheckedDocument, DocEntry, DocKind, Error as CoreError, MergedDocument};

use super::authorization::Known;
use super::context::SyncContext;
use super::materialize::{conflict_rows, rows_of};
use super::refusal::{Refusal, Stop};
use crate::storage::record_key;
use crate::storage::{DocumentWrite, heads_bytes, new_version};

/// Validates the merged document and prepares its write, or says why it is refused.
pub(super) async fn checked_write(
    context: &mut SyncContext<'_>,
    entry: &DocEntry,
    kind: DocKind,
    stored: Option<&Known>,
    merged: &mut MergedDocument,
) -> Result<DocumentWrite, Stop> {
    let device = context.device;
    let checked = match kind {
        DocKind::Tally => validate_tally(context, merged).await?,
        _ => validate(context, kind, merged).await?,
    };
    if checked.dataset() != device.dataset {
        return Err(Stop::core(CoreError::WrongDataset {
            expected: device.dataset,
            found: checked.dataset().to_string(),
        }));
    }
    let bytes = merged.save();
    let limit = context.state.sync.max_document_bytes;
    if bytes.len() > limit {
        return Err(Refusal::new(
            "too_large",
            format!("the document would grow to {} bytes (limit {limit})", bytes.len()),
        )
        .into());
    }
    let owner = match stored {
        _ if !kind.is_owned() => None,
        Some(stored) => stored.owner,
        None => Some(device.device),
    };
    let Some(rows) = rows_of(
        &checked,
        owner.unwrap_or(device.device),
        context.state.clock.today(),
    ) else {
        return Err(Refusal::server_only().into());
    };
    Ok(DocumentWrite {
        id: entry.id,
        dataset: device.dataset,
        kind,
        owner,
        base_version: stored.map(|s| s.version),
        version: new_version(),
        heads: heads_bytes(merged.heads()),
        bytes,
        actors: merged
            .incoming_actors()
            .iter()
            .map(|a| a.to_bytes().to_vec())
            .collect(),
        record_key: match kind {
            DocKind::Response => Some(record_key::random()?),
            DocKind::Site | DocKind::Form | DocKind::Tally => None,
        },
        rows,
        conflicts: conflict_rows(merged.conflicts()),
    })
}

/// Validates a merged response (against the form version it claims), site or form.
async fn validate(
    context: &mut SyncContext<'_>,
    kind: DocKind,
    merged: &mut MergedDocument,
) -> Result<CheckedDocument, Stop> {
    let form = match (kind, merged.form_ref()) {
        (DocKind::Response, Some((form_id, version))) => {
            match context.form_version(&form_id, version).await? {
                Some(form) => Some(form),
                None => {
                    return Err(Stop::core(CoreError::UnknownForm {
                        form: sync_core::quoted(&form_id),
                        version,
                    }));
                }
            }
        }
        _ => None,
    };
    merged.validate(kind, form.as_ref()).map_err(Stop::core)
}

/// Validates a merged tally document against the site it counts for, which must be a site of
/// the device's dataset: its counts go into that site's totals.
async fn validate_tally(
    context: &mut SyncContext<'_>,
    merged: &mut MergedDocument,
) -> Result<CheckedDocument, Stop> {
    let Some(site) = merged.tally_site() else {
        // Without a site it fails the checks, which say what is wrong.
        return merged.validate_tally(&[]).map_err(Stop::core);
    };
    let metrics = match context.site_metrics(site).await? {
        Some(found) if found.dataset == context.device.dataset => found.metrics,
        Some(_) => {
            return Err(Refusal::forbidden("the tally document counts for a site of another dataset").into());
        }
        None => {
            return Err(Refusal::new(
                "invalid",
                "the tally document counts for a site the server does not hold; send the site first",
            )
            .into());
        }
    };
    merged.validate_tally(&metrics).map_err(Stop::core)
}
