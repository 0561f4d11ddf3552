//! How much a client sends and takes in per sync: one set for the CLI, the field app (through
//! the wasm wrapper) and the load generators, so each behaves like the phone it stands for.

use crate::Limits;

/// About how many bytes of changes one request carries ([`crate::ClientEngine::build_request`]
/// always sends at least one document's worth). Small enough that a round on a slow, costly
/// mobile link is short and a lost one is cheap to repeat; a response document is well under a
/// kilobyte. The server's body limit is far above it.
pub const REQUEST_CHANGE_BYTES: usize = 256 << 10;

/// Rounds of one sync before the client stops and says so, so a misbehaving server cannot keep
/// a phone busy forever. An honest sync needs a few: each round carries
/// [`REQUEST_CHANGE_BYTES`] up and about a megabyte down.
pub const MAX_SYNC_ROUNDS: usize = 64;

/// Bounds on the server's replies, beyond sync-core's defaults for requests. A site bumped by
/// many phones at once has one head per concurrent increment, far beyond the default bound;
/// refusing such a reply would stop every phone of the dataset syncing. The reply's byte size
/// is already bounded by what the server sends, so high bounds cost nothing.
pub const REPLY_LIMITS: Limits = Limits {
    max_docs: 100_000,
    max_changes_per_doc: 1_000_000,
    max_change_bytes: 16 << 20,
    max_heads: 65_536,
    max_state_bytes: 64 << 20,
    max_inflated_bytes: 64 << 20,
};
