//! Sync protocols v1, v2 and v3 (`docs/protocol.md`): one stateless CBOR round trip per sync.
//!
//! v2 is v1 with one addition in replies: an entry may carry `state`, the document saved whole
//! (an Automerge document chunk with every change of the state the entry's heads name),
//! instead of `changes`.
//! The server sends it when the changes a device lacks add up to more bytes than that: a phone
//! that was offline while a thousand others bumped a site tally would otherwise download each
//! bump as its own change, with its own 32-byte dependency hashes, where the saved document
//! stores the same history columnar and compressed, in about a third of the bytes (43 against
//! 150 per bump for a site bumped by 2,000 phones).
//! Requests are the same in both versions; only the server sends `state`.
//!
//! v3 is v2 with the tallies moved out of the shared site documents. A device counts into
//! tally documents of its own (kind `tally`, one per site, written and read by it alone) and a
//! reply carries `totals`: for each site of the dataset, what every other device counted
//! there, as plain numbers the server adds up. The server no longer sends a v3 device the
//! changes of site documents it holds, nor answers its reads of forms and sites it holds
//! already: what a phone downloads is its own acknowledgements and a few numbers per site,
//! however many phones bump those sites and for however long. The phone names the totals it
//! holds by their digest (`totals_seen`), and the server sends them again only once they moved.
//! Only the server sends `totals`.
//!
//! Decoding is defensive: the body size is bounded by the caller, ciborium never preallocates
//! from a declared length, nesting depth is capped, and [`Limits`] bound what a decoded request
//! may hold, so a hostile body costs at most a bounded amount of memory and a typed error.

use serde::{Deserialize, Serialize};
use serde_bytes::{ByteArray, ByteBuf};
use uuid::Uuid;

use crate::chunk::{InflateBudget, open_change};
use crate::{ChangeHash, DocKind, Error, Result};

/// The version clients speak by default; servers answer v1, v2 and v3, each at its own route.
pub const PROTOCOL_VERSION: u64 = 3;
pub const SUPPORTED_VERSIONS: [u64; 3] = [1, 2, 3];
/// The first version with tally documents and `totals`.
pub const TALLY_DOCUMENTS_SINCE: u64 = 3;
const RECURSION_LIMIT: usize = 16;
/// What the compressed changes of one request may inflate to, in all: a request of our
/// clients carries at most [`crate::REQUEST_CHANGE_BYTES`] of changes, and honest Automerge changes deflate by a few
/// times, where a crafted chunk inflates a thousandfold.
pub const DEFAULT_MAX_INFLATED_BYTES: usize = 4 << 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRequest {
    pub v: u64,
    #[serde(with = "uuid::serde::hyphenated")]
    pub dataset: Uuid,
    pub epoch: u64,
    pub docs: Vec<DocEntry>,
    /// v3 only: the digest of the totals the device holds (the last [`Totals`] it took in),
    /// so that the server leaves them out of its reply while they are still what it would send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totals_seen: Option<ByteArray<16>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocEntry {
    #[serde(with = "uuid::serde::hyphenated")]
    pub id: Uuid,
    pub kind: DocKind,
    pub heads: Vec<ByteArray<32>>,
    pub changes: Vec<ByteBuf>,
    /// v2 replies only: the whole document, saved; `changes` is then empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ByteBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncResponse {
    pub v: u64,
    pub epoch: u64,
    pub reset: bool,
    pub docs: Vec<DocEntry>,
    pub rejected: Vec<Rejection>,
    #[serde(with = "uuid_list")]
    pub need_all: Vec<Uuid>,
    pub more: bool,
    /// v3 replies only, and only when they differ from the totals the request said it holds
    /// (`totals_seen`): for each site of the dataset, what it counts less what the requesting
    /// device's own tally documents count (the device adds its own, sent or not). A v3 reply
    /// without them leaves the device's totals as they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totals: Option<Totals>,
}

/// Every site's totals for one device, as one v3 reply carries them.
///
/// On the wire each site is its 16-byte id and its counts in the order of `metrics`, named
/// once per reply: six sites of five metrics take about 290 bytes, where a map of metric names
/// per site under a hyphenated id took about 650.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TotalsWire", into = "TotalsWire")]
pub struct Totals {
    /// What names these totals for the device they were computed for; the device echoes it as
    /// `totals_seen`, and the server sends totals again only when it differs.
    pub digest: [u8; 16],
    pub sites: Vec<SiteTotals>,
}

/// A site's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteTotals {
    /// The site document.
    #[serde(with = "uuid::serde::hyphenated")]
    pub site: Uuid,
    pub tallies: std::collections::BTreeMap<String, i64>,
}

#[derive(Clone, Serialize, Deserialize)]
struct TotalsWire {
    digest: ByteArray<16>,
    /// Every metric of any site, sorted; a site without one counts 0 there.
    metrics: Vec<String>,
    /// Each site's id and its counts, one per metric.
    sites: Vec<(ByteArray<16>, Vec<i64>)>,
}

impl From<Totals> for TotalsWire {
    fn from(totals: Totals) -> TotalsWire {
        let metrics: Vec<String> = totals
            .sites
            .iter()
            .flat_map(|site| site.tallies.keys().cloned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let sites = totals
            .sites
            .into_iter()
            .map(|site| {
                let counts = metrics
                    .iter()
                    .map(|metric| site.tallies.get(metric).copied().unwrap_or(0))
                    .collect();
                (ByteArray::new(site.site.into_bytes()), counts)
            })
            .collect();
        TotalsWire {
            digest: ByteArray::new(totals.digest),
            metrics,
            sites,
        }
    }
}

impl TryFrom<TotalsWire> for Totals {
    type Error = String;

    fn try_from(wire: TotalsWire) -> std::result::Result<Totals, String> {
        let unique: std::collections::BTreeSet<&String> = wire.metrics.iter().collect();
        if unique.len() != wire.metrics.len() {
            return Err("a metric named twice in totals".into());
        }
        let sites = wire
            .sites
            .into_iter()
            .map(|(site, counts)| {
                if counts.len() != wire.metrics.len() {
                    return Err(format!(
                        "a site's totals have {} counts for {} metrics",
                        counts.len(),
                        wire.metrics.len()
                    ));
                }
                Ok(SiteTotals {
                    site: Uuid::from_bytes(site.into_array()),
                    tallies: wire.metrics.iter().cloned().zip(counts).collect(),
                })
            })
            .collect::<std::result::Result<_, String>>()?;
        Ok(Totals {
            digest: wire.digest.into_array(),
            sites,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    #[serde(with = "uuid::serde::hyphenated")]
    pub id: Uuid,
    pub code: String,
    pub message: String,
}

/// Bounds on a decoded message, beyond the byte size of the body itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_docs: usize,
    pub max_changes_per_doc: usize,
    pub max_change_bytes: usize,
    pub max_heads: usize,
    /// Bytes of one saved document in a v2 reply.
    pub max_state_bytes: usize,
    /// Bytes the compressed changes of a request may inflate to, in all.
    pub max_inflated_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_docs: 5_000,
            max_changes_per_doc: 10_000,
            max_change_bytes: 1 << 20,
            max_heads: 4096,
            max_state_bytes: 64 << 20,
            max_inflated_bytes: DEFAULT_MAX_INFLATED_BYTES,
        }
    }
}

impl DocEntry {
    pub fn new(id: Uuid, kind: DocKind, heads: &[ChangeHash], changes: Vec<Vec<u8>>) -> DocEntry {
        DocEntry {
            id,
            kind,
            heads: heads.iter().map(|h| ByteArray::new(h.0)).collect(),
            changes: changes.into_iter().map(ByteBuf::from).collect(),
            state: None,
        }
    }

    /// A v2 reply entry carrying the document saved whole, `state`, whose heads are `heads`.
    pub fn with_state(id: Uuid, kind: DocKind, heads: &[ChangeHash], state: Vec<u8>) -> DocEntry {
        DocEntry {
            state: Some(ByteBuf::from(state)),
            ..DocEntry::new(id, kind, heads, Vec::new())
        }
    }

    pub fn head_hashes(&self) -> Vec<ChangeHash> {
        self.heads.iter().map(|h| ChangeHash(h.into_array())).collect()
    }

    fn check(&self, limits: &Limits) -> Result<()> {
        bound("heads of one document", self.heads.len(), limits.max_heads)?;
        bound(
            "changes of one document",
            self.changes.len(),
            limits.max_changes_per_doc,
        )?;
        for change in &self.changes {
            bound("one change", change.len(), limits.max_change_bytes)?;
        }
        if let Some(state) = &self.state {
            bound("one document's state", state.len(), limits.max_state_bytes)?;
        }
        Ok(())
    }
}

/// What is read of a message before its shape: the version, and the fields only the server
/// may send.
#[derive(Deserialize)]
struct Probe {
    v: u64,
    /// Whether the message has the field at all, whatever it holds (`null` included).
    #[serde(default, deserialize_with = "present")]
    totals: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

pub fn encode_request(request: &SyncRequest) -> Vec<u8> {
    encode(request)
}

pub fn encode_response(response: &SyncResponse) -> Vec<u8> {
    encode(response)
}

/// Decodes and bounds a sync request of any supported version; the caller checks that `v` is
/// the one it serves. The version is read first, so a client of a future protocol gets
/// `unsupported_version` rather than a confusing shape error. Compressed changes come out
/// inflated, all of them within one budget, so nothing after this point inflates a chunk.
pub fn decode_request(bytes: &[u8], limits: &Limits) -> Result<SyncRequest> {
    let probe = probe(bytes)?;
    let version = probe.v;
    if probe.totals && version >= TALLY_DOCUMENTS_SINCE {
        return Err(Error::ServerOnly("site totals"));
    }
    let mut request: SyncRequest = decode(bytes)?;
    if version < TALLY_DOCUMENTS_SINCE {
        // Older protocols have no such field, and their decoding ignored unknown fields.
        request.totals_seen = None;
    }
    bound("documents in one request", request.docs.len(), limits.max_docs)?;
    let mut budget = InflateBudget::new(limits.max_inflated_bytes);
    for entry in &mut request.docs {
        entry.check(limits)?;
        for change in &mut entry.changes {
            match open_change(change, &mut budget) {
                Ok(None) => {}
                Ok(Some(opened)) => {
                    bound("one change", opened.len(), limits.max_change_bytes)?;
                    *change = ByteBuf::from(opened);
                }
                Err(err @ Error::TooLarge { .. }) => return Err(err),
                // Bytes that are no change chunk refuse their own entry when it is merged,
                // not the request; emptied, so nothing downstream inflates them again.
                Err(_) => *change = ByteBuf::new(),
            }
        }
        if entry.state.is_some() {
            if version == 1 {
                // v1 has no such field, and v1 decoding ignored unknown fields.
                entry.state = None;
            } else {
                return Err(Error::ServerOnly("a document's state"));
            }
        }
    }
    Ok(request)
}

pub fn decode_response(bytes: &[u8], limits: &Limits) -> Result<SyncResponse> {
    let version = probe(bytes)?.v;
    let response: SyncResponse = decode(bytes)?;
    bound("documents in one reply", response.docs.len(), limits.max_docs)?;
    for entry in &response.docs {
        entry.check(limits)?;
        if entry.state.is_some() && (version == 1 || !entry.changes.is_empty()) {
            return Err(Error::Cbor(
                "a reply entry's state comes alone, and only from protocol 2".into(),
            ));
        }
        if entry.kind == DocKind::Tally && version < TALLY_DOCUMENTS_SINCE {
            return Err(Error::Cbor("tally documents come only from protocol 3".into()));
        }
    }
    if let Some(totals) = &response.totals {
        if version < TALLY_DOCUMENTS_SINCE {
            return Err(Error::Cbor("site totals come only from protocol 3".into()));
        }
        bound("sites in one reply's totals", totals.sites.len(), limits.max_docs)?;
    }
    Ok(response)
}

fn probe(bytes: &[u8]) -> Result<Probe> {
    let probe: Probe = decode(bytes)?;
    if SUPPORTED_VERSIONS.contains(&probe.v) {
        Ok(probe)
    } else {
        Err(Error::UnsupportedVersion(probe.v))
    }
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).expect("writing CBOR to a Vec cannot fail");
    out
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    ciborium::de::from_reader_with_recursion_limit(bytes, RECURSION_LIMIT)
        .map_err(|e| Error::Cbor(e.to_string()))
}

fn bound(what: &'static str, size: usize, limit: usize) -> Result<()> {
    if size > limit {
        Err(Error::TooLarge { what, size, limit })
    } else {
        Ok(())
    }
}

/// Uuids as hyphenated strings inside a list, as the contract requires.
mod uuid_list {
    use serde::{Deserialize, Deserializer, Serializer};
    use uuid::{Uuid, fmt::Hyphenated};

    pub fn serialize<S: Serializer>(ids: &[Uuid], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(ids.iter().map(Uuid::as_hyphenated))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Uuid>, D::Error> {
        Ok(Vec::<Hyphenated>::deserialize(deserializer)?
            .into_iter()
            .map(Uuid::from)
            .collect())
    }
}
