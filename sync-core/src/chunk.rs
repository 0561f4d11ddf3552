//! Change bytes from a device, opened before Automerge parses them.
//!
//! Automerge inflates a compressed change chunk whole, with no limit, before it checks anything:
//! 255 KiB of deflate become 256 MiB in memory. Our own writer compresses every change over
//! 256 bytes, so compressed chunks cannot simply be refused; instead they are inflated here,
//! against a budget shared by everything one request or merge carries, and handed on
//! uncompressed. Only change chunks are accepted: a document or bundle chunk is not a change.

use std::io::Read;

use flate2::bufread::DeflateDecoder;

use crate::{Error, Result};

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHANGE: u8 = 1;
const COMPRESSED_CHANGE: u8 = 2;

/// What the changes of one request (or one merge) may inflate to, in all.
#[derive(Debug)]
pub(crate) struct InflateBudget {
    left: usize,
    limit: usize,
}

impl InflateBudget {
    pub(crate) fn new(limit: usize) -> InflateBudget {
        InflateBudget { left: limit, limit }
    }
}

/// The chunk's header: where its data starts and how long it is.
struct Header {
    checksum: [u8; 4],
    kind: u8,
    data_start: usize,
}

fn header(bytes: &[u8]) -> Result<Header> {
    let malformed = |why: &str| Error::Automerge(format!("change chunk: {why}"));
    if bytes.len() < 9 || bytes[..4] != MAGIC {
        return Err(malformed("no chunk header"));
    }
    let (data_len, len_bytes) = uleb128(&bytes[9..]).ok_or_else(|| malformed("bad length"))?;
    let data_start = 9 + len_bytes;
    if bytes.len() - data_start != data_len {
        return Err(malformed("the length does not match the bytes"));
    }
    Ok(Header {
        checksum: bytes[4..8].try_into().expect("four bytes"),
        kind: bytes[8],
        data_start,
    })
}

/// An uncompressed change chunk with the same content as `bytes`: `None` when `bytes` already
/// is one, else the inflated chunk, charged to `budget`.
pub(crate) fn open_change(bytes: &[u8], budget: &mut InflateBudget) -> Result<Option<Vec<u8>>> {
    let header = header(bytes)?;
    match header.kind {
        CHANGE => Ok(None),
        COMPRESSED_CHANGE => {
            let compressed = &bytes[header.data_start..];
            let mut data = Vec::new();
            // One byte past what is left tells a chunk that would overrun the budget. What a
            // broken stream inflated before failing is charged too.
            let read = DeflateDecoder::new(compressed)
                .take(budget.left as u64 + 1)
                .read_to_end(&mut data);
            if data.len() > budget.left {
                return Err(Error::TooLarge {
                    what: "changes once inflated",
                    size: budget.limit - budget.left + data.len(),
                    limit: budget.limit,
                });
            }
            budget.left -= data.len();
            read.map_err(|_| Error::Automerge("change chunk: bad deflate data".into()))?;
            // The checksum covers the uncompressed chunk, so it carries over unchanged.
            let mut chunk = Vec::with_capacity(data.len() + 14);
            chunk.extend_from_slice(&MAGIC);
            chunk.extend_from_slice(&header.checksum);
            chunk.push(CHANGE);
            write_uleb128(&mut chunk, data.len());
            chunk.extend_from_slice(&data);
            Ok(Some(chunk))
        }
        other => Err(Error::Automerge(format!(
            "change chunk: type {other} is not a change"
        ))),
    }
}

fn uleb128(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value: usize = 0;
    for (i, byte) in bytes.iter().enumerate().take(9) {
        value |= usize::from(byte & 0x7f).checked_shl(7 * i as u32)?;
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

fn write_uleb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, Change, ROOT};
    use flate2::write::DeflateEncoder;

    use super::*;

    fn big_change() -> Change {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "text", "a".repeat(4000)).expect("put");
        doc.commit();
        doc.get_last_local_change().expect("change")
    }

    #[test]
    fn a_compressed_change_opens_to_the_same_change() {
        let mut change = big_change();
        let compressed = change.bytes().into_owned();
        assert_eq!(
            compressed[8], COMPRESSED_CHANGE,
            "automerge compresses a large change"
        );
        let mut budget = InflateBudget::new(1 << 20);
        let opened = open_change(&compressed, &mut budget)
            .expect("opens")
            .expect("inflated");
        let reread = Change::from_bytes(opened).expect("a change");
        assert_eq!(reread.hash(), change.hash());
        assert!(budget.left < 1 << 20);
        assert!(
            open_change(change.raw_bytes(), &mut budget)
                .expect("plain")
                .is_none()
        );
    }

    /// A compressed change chunk of 64 MiB of zeros: 64 KiB on the wire.
    fn bomb() -> Vec<u8> {
        let mut deflate = DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        deflate.write_all(&vec![0u8; 64 << 20]).expect("deflate");
        let body = deflate.finish().expect("deflate");
        let mut bomb = MAGIC.to_vec();
        bomb.extend_from_slice(&[0, 0, 0, 0, COMPRESSED_CHANGE]);
        write_uleb128(&mut bomb, body.len());
        bomb.extend_from_slice(&body);
        bomb
    }

    #[test]
    fn inflation_stops_at_the_budget() {
        let mut budget = InflateBudget::new(1 << 20);
        assert!(matches!(
            open_change(&bomb(), &mut budget),
            Err(Error::TooLarge { limit, .. }) if limit == 1 << 20
        ));
    }

    /// In a request, before anything is merged; and in a merge given the chunk directly.
    #[test]
    fn a_bomb_refuses_its_request_and_its_merge() {
        let bomb = bomb();
        assert!(bomb.len() < 128 << 10, "a small body");
        let request = crate::SyncRequest {
            v: 2,
            dataset: uuid::Uuid::new_v4(),
            epoch: 1,
            docs: vec![crate::DocEntry::new(
                uuid::Uuid::new_v4(),
                crate::DocKind::Site,
                &[],
                vec![bomb.clone()],
            )],
            totals_seen: None,
        };
        let limits = crate::Limits {
            max_change_bytes: 8 << 20,
            ..crate::Limits::default()
        };
        assert!(matches!(
            crate::decode_request(&crate::encode_request(&request), &limits),
            Err(Error::TooLarge {
                what: "changes once inflated",
                ..
            })
        ));
        assert!(matches!(
            crate::merge_incoming(None, &[bomb]),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn only_change_chunks_open() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "a", 1).expect("put");
        let saved = doc.save();
        let mut budget = InflateBudget::new(1 << 20);
        assert!(matches!(
            open_change(&saved, &mut budget),
            Err(Error::Automerge(_))
        ));
        assert!(matches!(
            open_change(b"garbage", &mut budget),
            Err(Error::Automerge(_))
        ));
        let mut cut = big_change().raw_bytes().to_vec();
        cut.pop();
        assert!(matches!(open_change(&cut, &mut budget), Err(Error::Automerge(_))));
    }
}
