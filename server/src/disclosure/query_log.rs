//! Every aggregate and tally query answered is logged, and each token may be answered a
//! limited number a day. Perturbation makes one answer noisy; an analyst who asks many
//! differently worded questions about the same small group can average the noise away
//! (Asghar and Kaafar's attack on TableBuilder), and needs hundreds of queries to do it. The
//! budget makes that slow, and the log lets an admin see it happening.

use uuid::Uuid;

use crate::secret::SecretHash;
use crate::storage::{QueryLogEntry, Role, Storage};
use crate::{ApiError, Result};

/// Queries a token may have answered per UTC day, over every dataset. A person exploring a
/// dataset in the dashboard asks a few dozen.
pub const DAILY_QUERIES: i64 = 500;
/// Entries `GET /v1/datasets/{id}/query-log` lists, newest first.
pub const LISTED: i64 = 1_000;
const MAX_QUERY_CHARS: usize = 2_000;

/// Counts the query against the budget of the token that asked it and logs it; `QueryBudget`
/// (429) when the budget is spent. Call it after the query was checked and before it is
/// answered.
pub async fn spend(
    storage: &dyn Storage,
    token: SecretHash,
    token_name: &str,
    role: Role,
    dataset: Uuid,
    route: &'static str,
    query: &str,
) -> Result<()> {
    let entry = QueryLogEntry {
        dataset,
        token,
        token_name: token_name.to_owned(),
        role,
        route,
        query: query.chars().take(MAX_QUERY_CHARS).collect(),
        day: crate::clock::today(),
    };
    if storage.log_query(&entry, DAILY_QUERIES).await? {
        Ok(())
    } else {
        Err(ApiError::QueryBudget(DAILY_QUERIES))
    }
}
