//! What a commit group writes, decided without the database: which writes of a document build
//! on each other and which are stale, which batches an actor links to another document, which
//! actors to claim, what a rewritten response keeps, and how site sums move. `document_writes!` runs the SQL around these, once
//! per backend; keeping them out of the macro keeps them testable without either.

use std::collections::{BTreeMap, HashMap, HashSet};

use uuid::Uuid;

use super::tally_growth::DeviceTallyMove;
use super::{BatchOutcome, DocumentWrite, Error, Materialized, ResponseRow, Result};

/// Where a write is in a group: its batch, and its place in that batch.
type At = (usize, usize);

/// The accepted writes of one document in a group, each naming the version the one before it
/// stores: only the last is stored, guarded by the first one's base.
#[derive(Debug)]
pub(super) struct Chain<'w> {
    pub first: &'w DocumentWrite,
    pub last: &'w DocumentWrite,
    writes: Vec<(At, &'w DocumentWrite)>,
}

impl<'w> Chain<'w> {
    fn new(at: At, write: &'w DocumentWrite) -> Chain<'w> {
        Chain {
            first: write,
            last: write,
            writes: vec![(at, write)],
        }
    }

    /// The writes in order, oldest first.
    pub fn writes(&self) -> impl DoubleEndedIterator<Item = &'w DocumentWrite> + '_ {
        self.writes.iter().map(|&(_, write)| write)
    }
}

/// A group's writes sorted into chains, and which writes are stale (merge them again).
#[derive(Debug)]
pub(super) struct Plan<'w> {
    /// One chain per document, in document id order: rows are locked in that order, so two
    /// groups touching the same site documents wait for each other instead of deadlocking
    /// (PostgreSQL).
    pub chains: Vec<Chain<'w>>,
    stale: Vec<Vec<bool>>,
    linked: Vec<Option<usize>>,
}

/// Chains the writes of the batches not refused (`linked[b]` is `None`); a write of a
/// document that names any version but the one the chain so far stores is stale.
pub(super) fn plan<'w>(batches: &[&'w [DocumentWrite]], linked: Vec<Option<usize>>) -> Plan<'w> {
    let mut stale: Vec<Vec<bool>> = batches.iter().map(|b| vec![false; b.len()]).collect();
    let mut chains: HashMap<Uuid, Chain<'w>> = HashMap::new();
    for (b, writes) in batches.iter().enumerate().filter(|(b, _)| linked[*b].is_none()) {
        for (i, write) in writes.iter().enumerate() {
            match chains.get_mut(&write.id) {
                None => {
                    chains.insert(write.id, Chain::new((b, i), write));
                }
                Some(chain) if write.base_version == Some(chain.last.version) => {
                    chain.last = write;
                    chain.writes.push(((b, i), write));
                }
                Some(_) => stale[b][i] = true,
            }
        }
    }
    let mut chains: Vec<Chain<'w>> = chains.into_values().collect();
    chains.sort_by_key(|chain| chain.first.id);
    Plan {
        chains,
        stale,
        linked,
    }
}

impl<'w> Plan<'w> {
    /// Marks every write of the documents not among `stored` stale (their stored version
    /// moved, or someone else created them first), and returns the chains that were stored.
    pub fn stored(&mut self, stored: &HashSet<Uuid>) -> Vec<&Chain<'w>> {
        let mut live = Vec::new();
        for chain in &self.chains {
            if stored.contains(&chain.first.id) {
                live.push(chain);
            } else {
                for &((b, i), _) in &chain.writes {
                    self.stale[b][i] = true;
                }
            }
        }
        live
    }

    /// One outcome per batch, in order.
    pub fn outcomes(self) -> Vec<BatchOutcome> {
        self.linked
            .into_iter()
            .zip(self.stale)
            .map(|(culprit, stale)| match culprit {
                Some(i) => BatchOutcome::LinkedActor(i),
                None => BatchOutcome::Saved { stale },
            })
            .collect()
    }
}

/// Per batch, its first write with an actor that already wrote another document, in the
/// database (`stored`: the document of each actor it knows) or in an earlier batch not
/// refused; `None` when the batch may be written.
pub(super) fn linked_batches(
    batches: &[&[DocumentWrite]],
    stored: &HashMap<&[u8], Uuid>,
) -> Vec<Option<usize>> {
    let mut claims = stored.clone();
    batches
        .iter()
        .map(|writes| {
            let mut mine: HashMap<&[u8], Uuid> = HashMap::new();
            for (i, write) in writes.iter().enumerate() {
                for actor in &write.actors {
                    match mine.get(actor.as_slice()).or(claims.get(actor.as_slice())) {
                        Some(&owner) if owner != write.id => return Some(i),
                        _ => {
                            mine.insert(actor.as_slice(), write.id);
                        }
                    }
                }
            }
            claims.extend(mine);
            None
        })
        .collect()
}

/// The actors of every write of the stored chains, each once per document, with the document
/// it may write from now on.
pub(super) fn actors_to_claim<'w>(live: &[&Chain<'w>]) -> Vec<(&'w [u8], Uuid)> {
    let mut actors: Vec<(&'w [u8], Uuid)> = Vec::new();
    for chain in live {
        let this_document = actors.len();
        for actor in chain.writes().flat_map(|write| &write.actors) {
            if !actors[this_document..]
                .iter()
                .any(|(a, _)| *a == actor.as_slice())
            {
                actors.push((actor.as_slice(), chain.last.id));
            }
        }
    }
    actors
}

/// Whether every actor is now the document's: claimed by this write (`claimed`), or already
/// the same document's (`stored`). The actors were checked before writing, so one taken now
/// was taken in between by another server's transaction on the same database.
pub(super) fn check_claims(
    actors: &[(&[u8], Uuid)],
    claimed: &HashSet<Vec<u8>>,
    stored: &HashMap<&[u8], Uuid>,
) -> Result<()> {
    for (actor, document) in actors {
        if !claimed.contains(*actor) && stored.get(actor) != Some(document) {
            return Err(Error::ActorClaimed);
        }
    }
    Ok(())
}

/// What a rewritten response keeps of its stored row.
pub(super) struct KeptOfResponse {
    pub record_key: Option<i64>,
    /// `YYYY-MM-DD`, `None` if it was never stored submitted.
    pub submitted_on: Option<String>,
}

/// The record key and `submitted_on` day a response's row is written with: a stored response
/// keeps the key it was first stored with and the day it was first stored submitted (`kept`);
/// otherwise the write's key, and the day of this write if it stores the response submitted.
pub(super) fn response_keeps(
    kept: Option<&KeptOfResponse>,
    write: &DocumentWrite,
    response: &ResponseRow,
) -> (Option<i64>, Option<String>) {
    let record_key = kept.and_then(|k| k.record_key).or(write.record_key);
    let submitted_on = kept
        .and_then(|k| k.submitted_on.clone())
        .or_else(|| (response.status == "submitted").then(|| response.stored_on.to_string()));
    (record_key, submitted_on)
}

/// How far a site's running sum of device tallies moves for one metric.
#[derive(Debug, PartialEq)]
pub(super) struct SiteTotalMove<'a> {
    pub site: Uuid,
    pub dataset: Uuid,
    pub metric: &'a str,
    pub delta: i64,
}

/// How far the device tallies of each site and metric move its running sum, leaving out those
/// that cancel out.
pub(super) fn site_total_moves<'a>(moves: &[DeviceTallyMove<'a>]) -> Vec<SiteTotalMove<'a>> {
    let mut moved: BTreeMap<(Uuid, &'a str), SiteTotalMove<'a>> = BTreeMap::new();
    for m in moves {
        moved
            .entry((m.site, m.metric))
            .or_insert(SiteTotalMove {
                site: m.site,
                dataset: m.dataset,
                metric: m.metric,
                delta: 0,
            })
            .delta += m.amount;
    }
    moved.into_values().filter(|m| m.delta != 0).collect()
}

/// What the latest write of each stored chain that added device tallies to its site left the
/// site carrying, by site document.
pub(super) fn folded<'w>(live: &[&Chain<'w>]) -> HashMap<Uuid, &'w [(String, i64)]> {
    live.iter()
        .filter_map(|chain| {
            let folded = chain.writes().rev().find_map(|write| match &write.rows {
                Materialized::Site(site) => site.folded.as_deref(),
                Materialized::Response(_) | Materialized::Tally(_) => None,
            })?;
            Some((chain.last.id, folded))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use sync_core::{Day, DocKind};

    use super::*;
    use crate::storage::{SiteRow, TallyDays};

    fn write(id: u128, base: Option<i64>, version: i64, actors: &[u8]) -> DocumentWrite {
        DocumentWrite {
            id: Uuid::from_u128(id),
            dataset: Uuid::from_u128(99),
            kind: DocKind::Site,
            owner: None,
            base_version: base,
            version,
            heads: Vec::new(),
            bytes: Vec::new(),
            actors: actors.iter().map(|&a| vec![a]).collect(),
            record_key: None,
            rows: Materialized::Site(SiteRow {
                site: "S1".into(),
                tallies: Vec::new(),
                folded: None,
                counted: TallyDays::GrowthOn(Day::from_days(0)),
            }),
            conflicts: Vec::new(),
        }
    }

    fn folding(mut write: DocumentWrite, folded: Option<i64>) -> DocumentWrite {
        if let Materialized::Site(site) = &mut write.rows {
            site.folded = folded.map(|n| vec![("visits".into(), n)]);
        }
        write
    }

    #[test]
    fn writes_of_one_document_chain_when_each_builds_on_the_last() {
        let a = [write(2, Some(1), 10, b"")];
        let b = [write(2, Some(10), 11, b""), write(1, None, 5, b"")];
        let c = [write(2, Some(10), 12, b"")];
        let batches: [&[DocumentWrite]; 3] = [&a, &b, &c];
        let plan = plan(&batches, vec![None; 3]);
        let chains: Vec<_> = plan
            .chains
            .iter()
            .map(|c| (c.first.id, c.first.version, c.last.version))
            .collect();
        // In document id order; the third batch's write names a version the chain passed.
        assert_eq!(chains, [(Uuid::from_u128(1), 5, 5), (Uuid::from_u128(2), 10, 11)]);
        assert_eq!(
            plan.outcomes(),
            [
                BatchOutcome::Saved { stale: vec![false] },
                BatchOutcome::Saved {
                    stale: vec![false, false]
                },
                BatchOutcome::Saved { stale: vec![true] },
            ]
        );
    }

    #[test]
    fn a_refused_batch_joins_no_chain() {
        let a = [write(1, Some(1), 10, b"")];
        let b = [write(1, Some(10), 11, b"")];
        let batches: [&[DocumentWrite]; 2] = [&a, &b];
        let plan = plan(&batches, vec![Some(0), None]);
        assert_eq!(plan.chains.len(), 1);
        assert_eq!(plan.chains[0].first.version, 11, "the refused write is no base");
        assert_eq!(
            plan.outcomes(),
            [
                BatchOutcome::LinkedActor(0),
                BatchOutcome::Saved { stale: vec![false] }
            ]
        );
    }

    #[test]
    fn every_write_of_a_document_not_stored_is_stale() {
        let a = [write(1, Some(1), 10, b""), write(2, None, 20, b"")];
        let b = [write(1, Some(10), 11, b"")];
        let batches: [&[DocumentWrite]; 2] = [&a, &b];
        let mut plan = plan(&batches, vec![None, None]);
        let live: Vec<Uuid> = plan
            .stored(&HashSet::from([Uuid::from_u128(2)]))
            .iter()
            .map(|c| c.last.id)
            .collect();
        assert_eq!(live, [Uuid::from_u128(2)]);
        assert_eq!(
            plan.outcomes(),
            [
                BatchOutcome::Saved {
                    stale: vec![true, false]
                },
                BatchOutcome::Saved { stale: vec![true] },
            ]
        );
    }

    #[test]
    fn an_actor_of_another_document_refuses_its_batch_and_no_other() {
        let stored = HashMap::from([(&b"s"[..], Uuid::from_u128(7))]);
        let ok = [write(7, Some(1), 2, b"s")];
        let stored_elsewhere = [write(1, None, 1, b"x"), write(2, None, 1, b"s")];
        let first = [write(3, None, 1, b"n")];
        let same_actor_later = [write(4, None, 1, b"n")];
        let twice_in_one = [write(5, None, 1, b"d"), write(6, None, 1, b"d")];
        let batches: [&[DocumentWrite]; 5] =
            [&ok, &stored_elsewhere, &first, &same_actor_later, &twice_in_one];
        assert_eq!(
            linked_batches(&batches, &stored),
            [None, Some(1), None, Some(0), Some(1)]
        );
    }

    #[test]
    fn a_refused_batch_claims_no_actor_for_later_ones() {
        let refused = [write(1, None, 1, b"s"), write(2, None, 1, b"a")];
        let later = [write(3, None, 1, b"a")];
        let batches: [&[DocumentWrite]; 2] = [&refused, &later];
        let stored = HashMap::from([(&b"s"[..], Uuid::from_u128(9))]);
        assert_eq!(linked_batches(&batches, &stored), [Some(0), None]);
    }

    #[test]
    fn each_actor_is_claimed_once_per_document_for_its_last_write() {
        let a = [write(1, Some(1), 10, b"ab")];
        let b = [write(1, Some(10), 11, b"bc"), write(2, None, 1, b"a")];
        let batches: [&[DocumentWrite]; 2] = [&a, &b];
        let mut plan = plan(&batches, vec![None, None]);
        let live = plan.stored(&HashSet::from([Uuid::from_u128(1), Uuid::from_u128(2)]));
        let actors = actors_to_claim(&live);
        let one = Uuid::from_u128(1);
        let two = Uuid::from_u128(2);
        assert_eq!(
            actors,
            [
                (&b"a"[..], one),
                (&b"b"[..], one),
                (&b"c"[..], one),
                (&b"a"[..], two)
            ]
        );
    }

    #[test]
    fn an_actor_neither_claimed_nor_already_the_documents_fails_the_group() {
        let one = Uuid::from_u128(1);
        let actors = [(&b"a"[..], one), (&b"b"[..], one)];
        let claimed = HashSet::from([b"a".to_vec()]);
        let mine = HashMap::from([(&b"b"[..], one)]);
        assert!(check_claims(&actors, &claimed, &mine).is_ok());
        let another = HashMap::from([(&b"b"[..], Uuid::from_u128(2))]);
        assert!(matches!(
            check_claims(&actors, &claimed, &another),
            Err(Error::ActorClaimed)
        ));
        assert!(matches!(
            check_claims(&actors, &claimed, &HashMap::new()),
            Err(Error::ActorClaimed)
        ));
    }

    #[test]
    fn site_sums_move_by_the_net_of_every_device_and_skip_what_cancels() {
        let site = Uuid::from_u128(1);
        let dataset = Uuid::from_u128(99);
        let day = Day::from_days(0);
        let moves = [
            DeviceTallyMove {
                site,
                dataset,
                metric: "visits",
                day,
                amount: 3,
            },
            DeviceTallyMove {
                site,
                dataset,
                metric: "visits",
                day,
                amount: 2,
            },
            DeviceTallyMove {
                site,
                dataset,
                metric: "referrals",
                day,
                amount: 1,
            },
            DeviceTallyMove {
                site,
                dataset,
                metric: "referrals",
                day,
                amount: -1,
            },
        ];
        let moved = SiteTotalMove {
            site,
            dataset,
            metric: "visits",
            delta: 5,
        };
        assert_eq!(site_total_moves(&moves), [moved]);
    }

    fn response(status: &'static str) -> (DocumentWrite, ResponseRow) {
        let row = ResponseRow {
            device: Uuid::from_u128(3),
            form: "intake".into(),
            form_version: 1,
            status,
            collected_on: "2026-01-01".into(),
            area: "north".into(),
            week: "2026-W01".into(),
            month: "2026-01".into(),
            stored_on: Day::from_days(20_000),
            answers: Vec::new(),
        };
        let write = DocumentWrite {
            record_key: Some(7),
            rows: Materialized::Response(row.clone()),
            ..write(1, None, 1, b"")
        };
        (write, row)
    }

    #[test]
    fn a_new_response_takes_the_writes_key_and_the_day_stored_once_submitted() {
        let (write, draft) = response("draft");
        assert_eq!(response_keeps(None, &write, &draft), (Some(7), None));
        let (write, submitted) = response("submitted");
        let stored_on = Day::from_days(20_000).to_string();
        assert_eq!(
            response_keeps(None, &write, &submitted),
            (Some(7), Some(stored_on.clone()))
        );
        let never_submitted = KeptOfResponse {
            record_key: None,
            submitted_on: None,
        };
        assert_eq!(
            response_keeps(Some(&never_submitted), &write, &submitted),
            (Some(7), Some(stored_on)),
            "a row stored without a key takes one, and its first submission dates it"
        );
    }

    #[test]
    fn a_stored_response_keeps_its_first_key_and_submission_day() {
        let kept = KeptOfResponse {
            record_key: Some(2),
            submitted_on: Some("2025-12-31".into()),
        };
        for status in ["submitted", "draft"] {
            let (write, row) = response(status);
            assert_eq!(
                response_keeps(Some(&kept), &write, &row),
                (Some(2), Some("2025-12-31".into()))
            );
        }
    }

    #[test]
    fn a_site_carries_what_its_latest_folding_write_added() {
        let a = [folding(write(1, Some(1), 10, b""), Some(4))];
        let b = [
            folding(write(1, Some(10), 11, b""), None),
            folding(write(2, None, 1, b""), None),
        ];
        let batches: [&[DocumentWrite]; 2] = [&a, &b];
        let mut plan = plan(&batches, vec![None, None]);
        let live = plan.stored(&HashSet::from([Uuid::from_u128(1), Uuid::from_u128(2)]));
        let folded = folded(&live);
        assert_eq!(folded.len(), 1, "a site no write folded into carries nothing new");
        assert_eq!(folded[&Uuid::from_u128(1)], [("visits".to_string(), 4)]);
    }
}
