//! Property: any number of replicas making random offline edits, syncing through the client
//! engine and the server merge step in any order, with lost answers, replays, restarts and
//! random batch sizes, end with identical documents and exact counter totals. The devices speak
//! protocol 2, bumping the shared site document itself; `tallies.rs` is the same property for
//! tally documents over protocol 3 beside them.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use sync_core::{
    ChangeHash, ClientEngine, DocEntry, DocKind, Error, MergeOutcome, ResponseEdit, SyncRequest,
    SyncResponse, form_doc, load_document, merge_incoming, site,
};
use uuid::Uuid;

use crate::support::{answers_from, form, new_response_edit, seeded_runner};

const METRICS: &[&str] = &["contacts", "kits"];
/// Unmentioned documents the simulated server sends per answer, small so paging is exercised.
const PAGE: usize = 2;

#[derive(Debug, Clone)]
enum Op {
    Respond {
        device: usize,
        seed: u32,
    },
    Edit {
        device: usize,
        pick: usize,
        seed: u32,
    },
    Bump {
        device: usize,
        metric: usize,
        by: i64,
    },
    Sync {
        device: usize,
        budget: usize,
        deliver: bool,
    },
    Replay {
        pick: usize,
    },
    Restart {
        device: usize,
    },
    Restore {
        pick: usize,
    },
}

fn op(devices: usize) -> impl Strategy<Value = Op> {
    let device = 0..devices;
    prop_oneof![
        3 => (device.clone(), any::<u32>()).prop_map(|(device, seed)| Op::Respond { device, seed }),
        2 => (device.clone(), any::<usize>(), any::<u32>()).prop_map(|(device, pick, seed)| Op::Edit { device, pick, seed }),
        4 => (device.clone(), 0..METRICS.len(), prop_oneof![-2i64..0, 1i64..6]).prop_map(|(device, metric, by)| Op::Bump { device, metric, by }),
        5 => (device.clone(), prop_oneof![Just(1usize), 1usize..3000, Just(usize::MAX)], prop::bool::weighted(0.8))
            .prop_map(|(device, budget, deliver)| Op::Sync { device, budget, deliver }),
        1 => any::<usize>().prop_map(|pick| Op::Replay { pick }),
        1 => device.prop_map(|device| Op::Restart { device }),
        1 => any::<usize>().prop_map(|pick| Op::Restore { pick }),
    ]
}

fn scenario() -> impl Strategy<Value = (usize, Vec<Op>)> {
    (2usize..=6).prop_flat_map(|devices| (Just(devices), prop::collection::vec(op(devices), 1..80)))
}

struct Stored {
    kind: DocKind,
    owner: Option<usize>,
    bytes: Vec<u8>,
    /// The first version the server held, for `Restore` (a restore from an old backup).
    first: Vec<u8>,
}

/// The server side of sync reduced to its logic: merge step, ownership, paging.
struct SimServer {
    dataset: Uuid,
    docs: BTreeMap<Uuid, Stored>,
}

impl SimServer {
    fn entitled(&self, device: usize, stored: &Stored) -> bool {
        stored.kind != DocKind::Response || stored.owner == Some(device)
    }

    fn serve(&mut self, device: usize, request: &SyncRequest) -> SyncResponse {
        let mut answer = SyncResponse {
            v: 1,
            epoch: request.epoch,
            reset: false,
            docs: Vec::new(),
            rejected: Vec::new(),
            need_all: Vec::new(),
            more: false,
            totals: None,
        };
        let mentioned: BTreeSet<Uuid> = request.docs.iter().map(|d| d.id).collect();
        for entry in &request.docs {
            let stored = self.docs.get(&entry.id);
            if let Some(stored) = stored {
                assert!(
                    self.entitled(device, stored),
                    "a device only ever holds documents it is entitled to"
                );
            }
            if stored.is_none() && entry.changes.is_empty() {
                answer.need_all.push(entry.id);
                continue;
            }
            match merge_incoming(stored.map(|s| s.bytes.as_slice()), &entry.changes)
                .expect("honest changes merge")
            {
                MergeOutcome::NeedAll => answer.need_all.push(entry.id),
                MergeOutcome::Merged(mut merged) => {
                    merged
                        .validate(entry.kind, Some(form()))
                        .expect("merged documents stay valid");
                    if merged.changed() {
                        let bytes = merged.save();
                        let owner = (entry.kind == DocKind::Response).then_some(device);
                        let stored = self.docs.entry(entry.id).or_insert_with(|| Stored {
                            kind: entry.kind,
                            owner,
                            bytes: bytes.clone(),
                            first: bytes.clone(),
                        });
                        stored.bytes = bytes;
                    }
                    let lacking = merged.changes_missing_from(&entry.head_hashes());
                    answer
                        .docs
                        .push(DocEntry::new(entry.id, entry.kind, &merged.heads(), lacking));
                }
            }
        }
        let unmentioned: Vec<Uuid> = self
            .docs
            .iter()
            .filter(|(id, stored)| !mentioned.contains(id) && self.entitled(device, stored))
            .map(|(id, _)| *id)
            .collect();
        for id in unmentioned.iter().take(PAGE) {
            let mut doc = load_document(&self.docs[id].bytes).expect("stored bytes load");
            let changes = doc
                .get_changes(&[])
                .into_iter()
                .map(|mut c| c.bytes().into_owned())
                .collect();
            answer.docs.push(DocEntry::new(
                *id,
                self.docs[id].kind,
                &sorted(doc.get_heads()),
                changes,
            ));
        }
        answer.more = unmentioned.len() > PAGE;
        answer
    }

    fn heads(&self) -> BTreeMap<Uuid, Vec<ChangeHash>> {
        self.docs
            .iter()
            .map(|(id, s)| (*id, sorted(load_document(&s.bytes).expect("load").get_heads())))
            .collect()
    }
}

fn v2_engine(dataset: Uuid) -> ClientEngine {
    let mut engine = ClientEngine::new(dataset, 1);
    engine.set_protocol(2).expect("v2");
    engine
}

fn sorted(mut heads: Vec<ChangeHash>) -> Vec<ChangeHash> {
    heads.sort();
    heads
}

struct World {
    server: SimServer,
    devices: Vec<ClientEngine>,
    sent: Vec<(usize, SyncRequest)>,
    expected_tallies: BTreeMap<&'static str, i64>,
    site_id: Uuid,
}

impl World {
    fn new(devices: usize) -> World {
        let dataset = Uuid::new_v4();
        let mut server = SimServer {
            dataset,
            docs: BTreeMap::new(),
        };
        let mut seed_doc = |kind, mut doc: automerge::AutoCommit| {
            let id = Uuid::new_v4();
            let bytes = doc.save();
            server.docs.insert(
                id,
                Stored {
                    kind,
                    owner: None,
                    first: bytes.clone(),
                    bytes,
                },
            );
            id
        };
        seed_doc(
            DocKind::Form,
            form_doc::create(dataset, form()).expect("form doc"),
        );
        let site_id = seed_doc(
            DocKind::Site,
            site::create(dataset, "market-2", "Central market", METRICS).expect("site"),
        );
        World {
            devices: (0..devices).map(|_| v2_engine(server.dataset)).collect(),
            server,
            sent: Vec::new(),
            expected_tallies: METRICS.iter().map(|m| (*m, 0)).collect(),
            site_id,
        }
    }

    fn sync(&mut self, device: usize, budget: usize, deliver: bool) {
        let request = self.devices[device].build_request(budget);
        let answer = self.server.serve(device, &request);
        self.sent.push((device, request));
        if deliver {
            self.devices[device]
                .apply_response(&answer)
                .expect("honest answers apply");
        }
    }

    fn own_responses(&mut self, device: usize) -> Vec<Uuid> {
        let engine = &mut self.devices[device];
        engine
            .document_ids(DocKind::Response)
            .into_iter()
            .filter(|id| engine.response(*id).is_ok())
            .collect()
    }

    fn play(&mut self, op: &Op) {
        match *op {
            Op::Respond { device, seed } => {
                if !self.devices[device].forms().is_empty() {
                    self.devices[device]
                        .create_response("outreach", &new_response_edit(seed))
                        .expect("create");
                }
            }
            Op::Edit { device, pick, seed } => {
                let mine: Vec<Uuid> = self.own_responses(device);
                if let Some(id) = mine.get(pick % mine.len().max(1)) {
                    let edit = ResponseEdit {
                        answers: answers_from(seed)[..3].to_vec(),
                        ..Default::default()
                    };
                    self.devices[device].edit_response(*id, &edit).expect("edit");
                }
            }
            Op::Bump { device, metric, by } => {
                if self.devices[device]
                    .document_ids(DocKind::Site)
                    .contains(&self.site_id)
                {
                    match self.devices[device].bump_tally(self.site_id, METRICS[metric], by) {
                        Ok(()) => *self.expected_tallies.get_mut(METRICS[metric]).expect("metric") += by,
                        // A phone takes away only what its copy counts.
                        Err(Error::NegativeTally(_)) => {}
                        Err(other) => panic!("bump: {other}"),
                    }
                }
            }
            Op::Sync {
                device,
                budget,
                deliver,
            } => self.sync(device, budget, deliver),
            Op::Replay { pick } => {
                if let Some((device, request)) = self.sent.get(pick % self.sent.len().max(1)).cloned() {
                    self.server.serve(device, &request);
                }
            }
            Op::Restart { device } => {
                let bytes = self.devices[device].save();
                self.devices[device] = ClientEngine::load(&bytes).expect("state reloads");
                self.devices[device].set_protocol(2).expect("v2");
            }
            Op::Restore { pick } => {
                let ids: Vec<Uuid> = self.server.docs.keys().copied().collect();
                let stored = self.server.docs.get_mut(&ids[pick % ids.len()]).expect("doc");
                stored.bytes = stored.first.clone();
            }
        }
    }

    /// Everyone syncs, with deliveries, until nobody has anything left to say.
    fn settle(&mut self) {
        for _round in 0..4 {
            for device in 0..self.devices.len() {
                let mut steps = 0;
                while self.devices[device].needs_sync() {
                    self.sync(device, usize::MAX, true);
                    steps += 1;
                    assert!(steps < 200, "device {device} never settles");
                }
                // One more read so it also hears about what others sent since.
                self.sync(device, usize::MAX, true);
            }
        }
    }

    fn check_converged(&mut self) {
        let server_heads = self.server.heads();
        for device in 0..self.devices.len() {
            let engine = &mut self.devices[device];
            let mut held: BTreeSet<Uuid> = BTreeSet::new();
            for kind in [DocKind::Form, DocKind::Site, DocKind::Response] {
                for id in engine.document_ids(kind) {
                    let heads = sorted(engine.document_mut(id).expect("doc").get_heads());
                    assert_eq!(
                        server_heads.get(&id),
                        Some(&heads),
                        "device {device} differs on {id}"
                    );
                    held.insert(id);
                }
            }
            let entitled: BTreeSet<Uuid> = self
                .server
                .docs
                .iter()
                .filter(|(_, s)| self.server.entitled(device, s))
                .map(|(id, _)| *id)
                .collect();
            assert_eq!(
                held, entitled,
                "device {device} holds exactly what it is entitled to"
            );
            let sites = engine.sites();
            assert_eq!(sites.len(), 1);
            for (metric, total) in &self.expected_tallies {
                assert_eq!(
                    sites[0].1.tallies.get(*metric),
                    Some(total),
                    "device {device}, {metric}"
                );
            }
        }
        // Replaying any request ever sent changes nothing now.
        for (device, request) in self.sent.clone() {
            self.server.serve(device, &request);
        }
        assert_eq!(self.server.heads(), server_heads, "replays change nothing");
    }
}

#[test]
fn replicas_converge_whatever_the_order() {
    let mut runner = seeded_runner();
    let result = runner.run(&scenario(), |(devices, ops)| {
        let mut world = World::new(devices);
        for op in &ops {
            world.play(op);
        }
        world.settle();
        world.check_converged();
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
