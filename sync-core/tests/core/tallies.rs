//! Property: devices of protocols 2 and 3 bumping one site offline, syncing in any order with
//! lost answers, replays and restarts, protocol 3 devices speaking 2 for a while on the way (a
//! server rolled back and forward again), all end showing the exact sum of every bump, and so
//! does the server's sum. Protocol 3 devices count
//! into tally documents of their own; the simulated server adds them up, sends totals to
//! protocol 3 devices whenever they differ from the ones the device says it holds and, before answering an older device, adds what the tally documents
//! counted since into the site document (as `survey-server` does).

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use sync_core::{
    ClientEngine, DocEntry, DocKind, Error, MergeOutcome, SiteTotals, SyncRequest, SyncResponse, Totals,
    form_doc, load_document, merge_incoming, site, tally,
};
use uuid::Uuid;

use crate::support::seeded_runner;

const METRICS: &[&str] = &["contacts", "kits"];

type Counts = BTreeMap<String, i64>;

#[derive(Debug, Clone)]
enum Op {
    Bump {
        device: usize,
        metric: usize,
        by: i64,
    },
    Sync {
        device: usize,
        deliver: bool,
    },
    Replay {
        pick: usize,
    },
    /// The device names totals it does not hold: another request's digest, or made up.
    ForgedSync {
        device: usize,
        pick: usize,
    },
    Restart {
        device: usize,
    },
    /// The device speaks 2 until it settles.
    StepDown {
        device: usize,
    },
}

fn op(devices: usize) -> impl Strategy<Value = Op> {
    let device = 0..devices;
    prop_oneof![
        6 => (device.clone(), 0..METRICS.len(), prop_oneof![-3i64..0, 1i64..8, Just(1_000i64)])
            .prop_map(|(device, metric, by)| Op::Bump { device, metric, by }),
        5 => (device.clone(), prop::bool::weighted(0.8)).prop_map(|(device, deliver)| Op::Sync { device, deliver }),
        1 => any::<usize>().prop_map(|pick| Op::Replay { pick }),
        1 => (device.clone(), any::<usize>()).prop_map(|(device, pick)| Op::ForgedSync { device, pick }),
        1 => device.clone().prop_map(|device| Op::Restart { device }),
        1 => device.prop_map(|device| Op::StepDown { device }),
    ]
}

/// Devices, which of them start on protocol 2, and what they do.
fn scenario() -> impl Strategy<Value = (usize, Vec<bool>, Vec<Op>)> {
    (2usize..=5).prop_flat_map(|devices| {
        (
            Just(devices),
            prop::collection::vec(any::<bool>(), devices),
            prop::collection::vec(op(devices), 1..80),
        )
    })
}

struct Stored {
    kind: DocKind,
    owner: Option<usize>,
    bytes: Vec<u8>,
}

/// The server's side reduced to its logic: merge and checks, ownership, the sums of tally
/// documents, totals for protocol 3 and the fold into the site for older devices.
struct SimServer {
    docs: BTreeMap<Uuid, Stored>,
    site: Uuid,
    /// What has been added to the site document on the tally documents' behalf.
    folded: Counts,
}

impl SimServer {
    fn counts(&self, id: Uuid) -> Counts {
        let doc = load_document(&self.docs[&id].bytes).expect("stored loads");
        match self.docs[&id].kind {
            DocKind::Site => site::read(&doc).expect("site").tallies,
            _ => tally::read(&doc).expect("tally").tallies,
        }
    }

    /// Every tally document of the site added up, or only `device`'s.
    fn device_sum(&self, device: Option<usize>) -> Counts {
        let mut sum = Counts::new();
        for (id, stored) in &self.docs {
            if stored.kind == DocKind::Tally && device.is_none_or(|d| stored.owner == Some(d)) {
                add(&mut sum, &self.counts(*id), 1);
            }
        }
        sum
    }

    /// The site's total: its document's counts less what was folded in, plus every tally.
    fn total(&self) -> Counts {
        let mut total = self.counts(self.site);
        add(&mut total, &self.folded, -1);
        add(&mut total, &self.device_sum(None), 1);
        total
    }

    fn fold(&mut self) {
        let mut deltas = self.device_sum(None);
        add(&mut deltas, &self.folded, -1);
        deltas.retain(|_, d| *d != 0);
        if deltas.is_empty() {
            return;
        }
        let no_changes: &[Vec<u8>] = &[];
        let Ok(MergeOutcome::Merged(mut merged)) =
            merge_incoming(Some(&self.docs[&self.site].bytes), no_changes)
        else {
            panic!("the stored site loads");
        };
        merged.add_to_tallies(&deltas).expect("fold");
        merged
            .validate(DocKind::Site, None)
            .expect("the site stays valid");
        self.docs.get_mut(&self.site).expect("site").bytes = merged.save();
        add(&mut self.folded, &deltas, 1);
    }

    fn serve(&mut self, device: usize, request: &SyncRequest) -> SyncResponse {
        let v3 = request.v >= 3;
        if !v3 {
            self.fold();
        }
        let mut answer = SyncResponse {
            v: request.v,
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
            assert!(
                stored.is_none_or(|s| !s.kind.is_owned() || s.owner == Some(device)),
                "a device only names documents it may"
            );
            if v3 && entry.changes.is_empty() && !entry.kind.is_owned() {
                if stored.is_none() {
                    answer.need_all.push(entry.id);
                }
                continue;
            }
            let merged = merge_incoming(stored.map(|s| s.bytes.as_slice()), &entry.changes).expect("merges");
            let MergeOutcome::Merged(mut merged) = merged else {
                answer.need_all.push(entry.id);
                continue;
            };
            if entry.kind == DocKind::Tally {
                assert_eq!(merged.tally_site(), Some(self.site));
                let metrics: Vec<String> = METRICS.iter().map(|m| m.to_string()).collect();
                merged.validate_tally(&metrics).expect("honest tallies pass");
            } else {
                merged.validate(entry.kind, None).expect("honest sites pass");
            }
            if merged.changed() {
                let owner = entry.kind.is_owned().then_some(device);
                let bytes = merged.save();
                self.docs
                    .entry(entry.id)
                    .or_insert_with(|| Stored {
                        kind: entry.kind,
                        owner,
                        bytes: Vec::new(),
                    })
                    .bytes = bytes;
            }
            let reply = if v3 && entry.kind == DocKind::Site {
                DocEntry::new(entry.id, entry.kind, &entry.head_hashes(), Vec::new())
            } else {
                let lacking = merged.changes_missing_from(&entry.head_hashes());
                DocEntry::new(entry.id, entry.kind, &merged.heads(), lacking)
            };
            answer.docs.push(reply);
        }
        let unmentioned: Vec<Uuid> = self
            .docs
            .iter()
            .filter(|(id, s)| !mentioned.contains(*id) && !s.kind.is_owned())
            .map(|(id, _)| *id)
            .collect();
        for id in unmentioned {
            let mut doc = load_document(&self.docs[&id].bytes).expect("load");
            answer.docs.push(DocEntry::with_state(
                id,
                self.docs[&id].kind,
                &doc.get_heads(),
                doc.save(),
            ));
        }
        if v3 {
            let mut others = self.total();
            add(&mut others, &self.device_sum(Some(device)), -1);
            // Sent only when they moved since the totals the device says it holds.
            let digest = digest(device, &others);
            if request.totals_seen.map(|seen| seen.into_array()) != Some(digest) {
                answer.totals = Some(Totals {
                    digest,
                    sites: vec![SiteTotals {
                        site: self.site,
                        tallies: others,
                    }],
                });
            }
        }
        answer
    }
}

/// Any digest that differs between devices and between counts will do.
fn digest(device: usize, counts: &Counts) -> [u8; 16] {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let half = |salt: u8| {
        let mut hasher = DefaultHasher::new();
        (salt, device, counts).hash(&mut hasher);
        hasher.finish().to_be_bytes()
    };
    let mut digest = [0; 16];
    digest[..8].copy_from_slice(&half(0));
    digest[8..].copy_from_slice(&half(1));
    digest
}

fn add(into: &mut Counts, counts: &Counts, sign: i64) {
    for (metric, n) in counts {
        *into.entry(metric.clone()).or_insert(0) += sign * n;
    }
}

struct World {
    server: SimServer,
    devices: Vec<ClientEngine>,
    /// The protocol each device speaks now, and starts on.
    protocols: Vec<u64>,
    starts: Vec<u64>,
    sent: Vec<(usize, SyncRequest)>,
    expected: Counts,
}

impl World {
    fn new(starts_on_v2: &[bool]) -> World {
        let dataset = Uuid::new_v4();
        let metrics: Vec<&str> = METRICS.to_vec();
        let mut form = form_doc::create(dataset, crate::support::form()).expect("form");
        let mut origin = site::create(dataset, "pier", "Pier", &metrics).expect("site");
        let site_id = Uuid::new_v4();
        let docs = [
            (Uuid::new_v4(), DocKind::Form, form.save()),
            (site_id, DocKind::Site, origin.save()),
        ]
        .into_iter()
        .map(|(id, kind, bytes)| {
            let stored = Stored {
                kind,
                owner: None,
                bytes,
            };
            (id, stored)
        })
        .collect();
        let protocols: Vec<u64> = starts_on_v2.iter().map(|v2| if *v2 { 2 } else { 3 }).collect();
        let devices = protocols
            .iter()
            .map(|protocol| {
                let mut engine = ClientEngine::new(dataset, 1);
                engine.set_protocol(*protocol).expect("protocol");
                engine
            })
            .collect();
        World {
            server: SimServer {
                docs,
                site: site_id,
                folded: Counts::new(),
            },
            devices,
            starts: protocols.clone(),
            protocols,
            sent: Vec::new(),
            expected: METRICS.iter().map(|m| (m.to_string(), 0)).collect(),
        }
    }

    fn sync(&mut self, device: usize, deliver: bool) {
        let request = self.devices[device].build_request(usize::MAX);
        self.send(device, request, deliver);
    }

    fn send(&mut self, device: usize, request: SyncRequest, deliver: bool) {
        let answer = self.server.serve(device, &request);
        self.sent.push((device, request));
        if deliver {
            self.devices[device]
                .apply_response(&answer)
                .expect("honest answers apply");
        }
    }

    fn play(&mut self, op: &Op) {
        match *op {
            Op::Bump { device, metric, by } => {
                let site = self.server.site;
                if !self.devices[device].document_ids(DocKind::Site).contains(&site) {
                    return;
                }
                match self.devices[device].bump_tally(site, METRICS[metric], by) {
                    Ok(()) => *self.expected.get_mut(METRICS[metric]).expect("metric") += by,
                    // A device takes away only what it counted (over v3) or what its copy counts.
                    Err(Error::NegativeTally(_)) => {}
                    Err(other) => panic!("bump: {other}"),
                }
            }
            Op::Sync { device, deliver } => self.sync(device, deliver),
            Op::Replay { pick } => {
                if let Some((device, request)) = self.sent.get(pick % self.sent.len().max(1)).cloned() {
                    self.server.serve(device, &request);
                }
            }
            Op::ForgedSync { device, pick } => {
                let mut request = self.devices[device].build_request(usize::MAX);
                request.totals_seen = match self.sent.get(pick % self.sent.len().max(1)) {
                    Some((_, other)) if pick % 2 == 0 => other.totals_seen,
                    _ => Some(serde_bytes::ByteArray::new([pick as u8; 16])),
                };
                self.send(device, request, true);
            }
            Op::Restart { device } => {
                let bytes = self.devices[device].save();
                self.devices[device] = ClientEngine::load(&bytes).expect("state reloads");
                self.devices[device]
                    .set_protocol(self.protocols[device])
                    .expect("protocol");
            }
            Op::StepDown { device } => {
                self.protocols[device] = 2;
                self.devices[device].set_protocol(2).expect("v2");
            }
        }
    }

    fn settle(&mut self) {
        for device in 0..self.devices.len() {
            self.protocols[device] = self.starts[device];
            self.devices[device]
                .set_protocol(self.starts[device])
                .expect("protocol");
        }
        for _round in 0..3 {
            for device in 0..self.devices.len() {
                let mut steps = 0;
                while self.devices[device].needs_sync() {
                    self.sync(device, true);
                    steps += 1;
                    assert!(steps < 50, "device {device} never settles");
                }
                self.sync(device, true);
            }
        }
    }

    fn check_exact(&self) {
        assert_eq!(self.server.total(), self.expected, "the server's sum");
        for (device, engine) in self.devices.iter().enumerate() {
            let sites = engine.sites();
            assert_eq!(sites.len(), 1, "device {device}");
            assert_eq!(
                sites[0].1.tallies, self.expected,
                "device {device} on protocol {}",
                self.protocols[device]
            );
        }
    }
}

#[test]
fn tallies_add_up_exactly_on_every_device_whatever_the_order_and_protocol() {
    let mut runner = seeded_runner();
    let result = runner.run(&scenario(), |(_, starts_on_v2, ops)| {
        let mut world = World::new(&starts_on_v2);
        for device in 0..world.devices.len() {
            world.sync(device, true);
        }
        for op in &ops {
            world.play(op);
        }
        world.settle();
        world.check_exact();
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
