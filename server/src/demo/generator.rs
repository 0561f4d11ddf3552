//! Synthetic fieldwork for demo datasets. Trainers need charts that look like real outreach
//! data - differences between areas, a weekly rhythm, answers that hang together - without a
//! single real respondent in them.
//!
//! Everything is a pure function of (dataset, seed, index): the same seed and size give the
//! same documents byte for byte, whichever order or thread they are made in, so a reset can be
//! split across cores and two trainers running the same seed see the same numbers.
//! Documents are built through sync-core exactly as a phone would build them.

use sync_core::{
    ActorId, Answer, AutoCommit, CheckedDocument, Day, DocKind, Error, Form, MergeOutcome, QuestionKind,
    ResponseEdit, Result, merge_incoming, response, site,
};
use uuid::Uuid;

use crate::storage::{DocumentWrite, Materialized, SeededTally, TallyDays, heads_bytes};
use crate::sync::materialize::{conflict_rows, rows_of};

/// The forms a demo dataset gets when it has none of its own.
pub const BUILT_IN_FORMS: [&str; 2] = [
    include_str!("forms/outreach-contact.json"),
    include_str!("forms/community-stigma.json"),
];

/// Outreach sites of the demo dataset, with the tallies teams keep for them.
const SITES: [(&str, &str); 8] = [
    ("bus-station", "Bus station"),
    ("night-market", "Night market"),
    ("port-gate", "Port gate"),
    ("garment-district", "Garment district"),
    ("border-crossing", "Border crossing"),
    ("fishing-pier", "Fishing pier"),
    ("karaoke-strip", "Karaoke strip"),
    ("construction-camp", "Construction camp"),
];
/// Devices that bump each site's tallies, so site documents carry concurrent counter history.
const SITE_DEVICES: u64 = 4;
/// Fieldwork runs for 26 weeks from this Monday.
const FIRST_DAY: &str = "2026-05-04";
const WEEKS: u64 = 26;
const NOTES: [&str; 5] = [
    "gave 2 kits and a hotline card",
    "group was in a hurry, short talk",
    "asked about health checks for the team",
    "employer nearby, could not talk long",
    "follow-up agreed at the same place",
];

/// Demo responses belong to no phone: this owner marks them as the generator's.
pub const GENERATOR_OWNER: Uuid = Uuid::nil();

/// Record keys come from a stream of their own, so they say nothing of a document's content.
const RECORD_KEYS: u64 = 0x6B65_7973;

/// A generated document as the storage layer writes it.
fn write_of(
    id: Uuid,
    kind: DocKind,
    mut doc: AutoCommit,
    content: &CheckedDocument,
    record_key: Option<i64>,
) -> Result<DocumentWrite> {
    let mut actors: Vec<Vec<u8>> = doc
        .get_changes(&[])
        .iter()
        .map(|c| c.actor_id().to_bytes().to_vec())
        .collect();
    actors.sort();
    actors.dedup();
    let first = Day::parse(FIRST_DAY).expect("constant day");
    let rows = rows_of(content, GENERATOR_OWNER, first)
        .ok_or_else(|| Error::Automerge("demo form documents are not generated".into()))?;
    Ok(DocumentWrite {
        id,
        dataset: content.dataset(),
        kind,
        owner: (kind == DocKind::Response).then_some(GENERATOR_OWNER),
        base_version: None,
        // A reset writes each document once, so a fixed first version keeps it deterministic.
        version: 1,
        heads: heads_bytes(doc.get_heads()),
        bytes: doc.save(),
        actors,
        record_key,
        rows,
        conflicts: conflict_rows(sync_core::conflicts(&doc)),
    })
}

pub struct Generator<'a> {
    dataset: Uuid,
    seed: u64,
    forms: &'a [Form],
}

impl<'a> Generator<'a> {
    pub fn new(dataset: Uuid, seed: u64, forms: &'a [Form]) -> Generator<'a> {
        Generator { dataset, seed, forms }
    }

    /// Response number `index` of the dataset.
    pub fn response(&self, index: u64) -> Result<DocumentWrite> {
        let mut rng = Rng::new(self.seed, index);
        let form = &self.forms[rng.below(self.forms.len() as u64) as usize];
        let id = rng.uuid();
        let respondent = Respondent::draw(&mut rng, form);
        let edit = respondent.answer(&mut rng, form);
        let doc = response::create_as(rng.actor(), self.dataset, form, &edit)?;
        let content = CheckedDocument::Response(response::read(&doc, form)?);
        let record_key = Rng::new(self.seed ^ RECORD_KEYS, index).below(256) as i64;
        write_of(id, DocKind::Response, doc, &content, Some(record_key))
    }

    /// The dataset's outreach sites, their tallies in proportion to `responses`.
    pub fn sites(&self, responses: u64) -> Result<Vec<DocumentWrite>> {
        SITES
            .iter()
            .enumerate()
            .map(|(i, (code, name))| {
                let mut rng = Rng::new(self.seed, u64::MAX - i as u64);
                let id = rng.uuid();
                let mut origin =
                    site::create_as(rng.actor(), self.dataset, code, name, site::DEFAULT_METRICS)?;
                let busy = 0.5 + rng.unit();
                let mut changes = Vec::new();
                for _device in 0..SITE_DEVICES {
                    let mut phone = origin.fork().with_actor(rng.actor());
                    let heads = phone.get_heads();
                    for metric in site::DEFAULT_METRICS {
                        let expected = responses as f64 / SITES.len() as f64 / SITE_DEVICES as f64 * busy;
                        let mut count = (expected * (0.5 + rng.unit())).round() as i64;
                        // In steps a change may take, as a phone would have bumped it.
                        while count > 0 {
                            let step = count.min(site::MAX_TALLY_STEP);
                            site::increment(&mut phone, metric, step)?;
                            count -= step;
                        }
                    }
                    changes.extend(
                        phone
                            .get_changes(&heads)
                            .into_iter()
                            .map(|mut c| c.bytes().into_owned()),
                    );
                }
                let MergeOutcome::Merged(mut merged) = merge_incoming(Some(&origin.save()), &changes)? else {
                    return Err(Error::Automerge("demo site changes lack a dependency".into()));
                };
                let content = merged.validate(DocKind::Site, None)?;
                let mut write = write_of(id, DocKind::Site, merged.into_document(), &content, None)?;
                if let Materialized::Site(site) = &mut write.rows {
                    let mut keys = Rng::new(self.seed ^ RECORD_KEYS, u64::MAX - i as u64);
                    site.counted = TallyDays::Seeded(seeded_weeks(&site.tallies, &mut keys));
                }
                Ok(write)
            })
            .collect()
    }
}

/// Spreads each tally's total over the fieldwork weeks as the responses are spread (growing
/// over the season), on the Wednesday of each week: seeded tallies were never bumped on a day,
/// but analysts look at them by week.
fn seeded_weeks(tallies: &[(String, i64)], keys: &mut Rng) -> Vec<SeededTally> {
    let first = Day::parse(FIRST_DAY).expect("constant day").to_days();
    let weights: Vec<f64> = (0..WEEKS).map(|w| 1.0 + w as f64 / 8.0).collect();
    let whole: f64 = weights.iter().sum();
    let mut seeded = Vec::new();
    for (metric, total) in tallies {
        let mut left = *total;
        for (week, weight) in weights.iter().enumerate() {
            let amount = if week as u64 == WEEKS - 1 {
                left
            } else {
                ((*total as f64) * weight / whole).floor() as i64
            };
            left -= amount;
            if amount != 0 {
                seeded.push(SeededTally {
                    day: Day::from_days(first + week as i64 * 7 + 2),
                    metric: metric.clone(),
                    amount,
                    record_key: keys.below(256) as i64,
                });
            }
        }
    }
    seeded
}

/// The hidden traits of one synthetic respondent that make their answers hang together.
struct Respondent {
    area: usize,
    /// Attitude on a standard-normal scale; higher means more stigma, more risk, more need.
    stance: f64,
    day: Day,
}

impl Respondent {
    fn draw(rng: &mut Rng, form: &Form) -> Respondent {
        // Earlier areas are busier and, in this made-up region, more stigmatising.
        let weights: Vec<f64> = (0..form.areas.len())
            .map(|i| 1.0 / (1.0 + i as f64 * 0.4))
            .collect();
        let area = rng.weighted(&weights);
        let area_effect = 0.9 - 0.45 * area as f64;
        // Outreach grows over the season and slows at weekends.
        let week = rng.weighted(&(0..WEEKS).map(|w| 1.0 + w as f64 / 8.0).collect::<Vec<_>>()) as i64;
        let weekday = rng.weighted(&[1.0, 1.0, 1.0, 1.0, 1.2, 0.6, 0.3]) as i64;
        let first = Day::parse(FIRST_DAY).expect("constant day").to_days();
        Respondent {
            area,
            stance: area_effect + rng.normal(),
            day: Day::from_days(first + week * 7 + weekday),
        }
    }

    fn answer(&self, rng: &mut Rng, form: &Form) -> ResponseEdit {
        let mut answers = Vec::new();
        let mut stance = self.stance;
        for question in &form.questions {
            if !question.required && rng.unit() < 0.04 {
                continue; // skipped, as real respondents do
            }
            let answer = match &question.kind {
                QuestionKind::Single { options } => {
                    let pick = self.choose(rng, options.len(), stance);
                    if question.id == "gender" && options[pick].id() == "m" {
                        stance += 0.3;
                    }
                    Answer::Single(options[pick].id().to_owned())
                }
                QuestionKind::Multi { options } => Answer::Multi(
                    options
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| rng.unit() < sigmoid(stance - 1.0 + *j as f64 * -0.3))
                        .map(|(_, o)| o.id().to_owned())
                        .collect(),
                ),
                QuestionKind::Likert { scale, reverse, .. } => {
                    let middle = (*scale as f64 + 1.0) / 2.0;
                    let agree = middle + (stance + 0.6 * rng.normal()) * (*scale as f64 - 1.0) / 4.0;
                    let value = (agree.round() as i64).clamp(1, *scale);
                    Answer::Likert(if *reverse { scale + 1 - value } else { value })
                }
                QuestionKind::Integer { min, max } => {
                    let span = (max - min) as f64;
                    let typical = (span * 0.08 * (1.0 + sigmoid(stance))).max(1.0);
                    let value = *min + (typical * -rng.unit().max(1e-9).ln()).round() as i64;
                    Answer::Integer(value.clamp(*min, *max))
                }
                QuestionKind::Date => Answer::Date(Day::from_days(self.day.to_days() - rng.below(60) as i64)),
                QuestionKind::Note => continue,
                QuestionKind::Text { max_len } => {
                    if rng.unit() > 0.2 {
                        continue;
                    }
                    let note = NOTES[rng.below(NOTES.len() as u64) as usize];
                    Answer::Text(note.chars().take(*max_len as usize).collect())
                }
            };
            answers.push((question.id.clone(), answer));
        }
        ResponseEdit {
            area: Some(form.areas[self.area].clone()),
            collected_on: Some(self.day),
            answers,
            cleared: Vec::new(),
            submit: rng.unit() < 0.97,
        }
    }

    /// An option index whose distribution shifts with the area and the respondent's stance.
    fn choose(&self, rng: &mut Rng, options: usize, stance: f64) -> usize {
        let weights: Vec<f64> = (0..options)
            .map(|j| {
                let rotated = (j + self.area) % options;
                (1.0 + rotated as f64 * 0.35)
                    * (1.0 + 0.3 * stance * (j as f64 / options as f64 - 0.5)).max(0.1)
            })
            .collect();
        rng.weighted(&weights)
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// SplitMix64's finalizer: a bijection that scatters nearby inputs across all 64 bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64: tiny, fast and good enough for synthetic data. Seeded per document so that
/// documents can be generated independently and in parallel.
struct Rng(u64);

impl Rng {
    /// The stream of document `index`. Both inputs go through the mixer, so the streams of
    /// neighbouring documents start far apart and never share a value (a shared actor id
    /// would link two documents).
    fn new(seed: u64, index: u64) -> Rng {
        Rng(mix(mix(seed) ^ index.wrapping_add(0x2545_F491_4F6C_DD1D)))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-12), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    fn weighted(&mut self, weights: &[f64]) -> usize {
        let mut target = self.unit() * weights.iter().sum::<f64>();
        for (i, w) in weights.iter().enumerate() {
            if target < *w {
                return i;
            }
            target -= w;
        }
        weights.len() - 1
    }

    fn bytes16(&mut self) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next().to_le_bytes());
        bytes
    }

    fn uuid(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.bytes16()).into_uuid()
    }

    fn actor(&mut self) -> ActorId {
        ActorId::from(self.bytes16().as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built_in_forms() -> Vec<Form> {
        BUILT_IN_FORMS
            .iter()
            .map(|json| Form::from_json(json).expect("built-in demo forms are valid"))
            .collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes() {
        let forms = built_in_forms();
        let dataset = Uuid::from_u128(7);
        let (a, b, c) = (
            Generator::new(dataset, 42, &forms),
            Generator::new(dataset, 42, &forms),
            Generator::new(dataset, 43, &forms),
        );
        for i in [0, 1, 17, 999] {
            assert_eq!(a.response(i).expect("a").bytes, b.response(i).expect("b").bytes);
            assert_ne!(a.response(i).expect("a").bytes, c.response(i).expect("c").bytes);
        }
        let sites = |g: &Generator| {
            g.sites(100)
                .expect("sites")
                .into_iter()
                .map(|w| w.bytes)
                .collect::<Vec<_>>()
        };
        assert_eq!(sites(&a), sites(&b));
    }

    #[test]
    fn seeded_tallies_add_up_to_the_site_totals_once_a_week() {
        let forms = built_in_forms();
        for write in Generator::new(Uuid::from_u128(2), 3, &forms)
            .sites(2_000)
            .expect("sites")
        {
            let Materialized::Site(site) = write.rows else {
                panic!("a site")
            };
            let TallyDays::Seeded(days) = &site.counted else {
                panic!("seeded")
            };
            for (metric, total) in &site.tallies {
                let of_metric: Vec<&SeededTally> = days.iter().filter(|d| d.metric == *metric).collect();
                assert_eq!(
                    of_metric.iter().map(|d| d.amount).sum::<i64>(),
                    *total,
                    "{metric}"
                );
                let weeks: std::collections::BTreeSet<String> =
                    of_metric.iter().map(|d| d.day.iso_week_key()).collect();
                assert_eq!(weeks.len(), of_metric.len(), "one row a week");
                assert!(of_metric.iter().all(|d| (0..256).contains(&d.record_key)));
            }
        }
    }

    #[test]
    fn no_two_documents_share_an_actor_or_an_id() {
        let forms = built_in_forms();
        let generator = Generator::new(Uuid::from_u128(1), 1, &forms);
        let mut actors = std::collections::HashSet::new();
        let mut ids = std::collections::HashSet::new();
        let writes = generator
            .sites(10)
            .expect("sites")
            .into_iter()
            .chain((0..3000).map(|i| generator.response(i).expect("response")));
        for write in writes {
            assert!(ids.insert(write.id));
            for actor in write.actors {
                assert!(actors.insert(actor), "an actor links two documents");
            }
        }
    }

    #[test]
    fn generated_documents_pass_the_server_checks() {
        let forms = built_in_forms();
        let generator = Generator::new(Uuid::from_u128(9), 1, &forms);
        for i in 0..200 {
            let write = generator.response(i).expect("response");
            let mut doc = sync_core::load_document(&write.bytes).expect("load");
            let (form_id, _) = response::form_ref(&doc).expect("form ref");
            let form = forms.iter().find(|f| f.id == form_id).expect("form");
            assert!(matches!(
                sync_core::check_document(&mut doc, Some(form)),
                Ok(CheckedDocument::Response(_))
            ));
            assert_eq!(write.actors.len(), 1);
        }
        for write in generator.sites(500).expect("sites") {
            let mut doc = sync_core::load_document(&write.bytes).expect("load");
            assert!(matches!(
                sync_core::check_document(&mut doc, None),
                Ok(CheckedDocument::Site(_))
            ));
            assert_eq!(
                write.actors.len() as u64,
                SITE_DEVICES + 1,
                "each phone its own actor"
            );
        }
    }

    #[test]
    fn areas_differ_in_stigma_like_real_fieldwork() {
        let forms = built_in_forms();
        let stigma_form = forms.iter().find(|f| f.id == "community-stigma").expect("form");
        let generator = Generator::new(Uuid::from_u128(3), 5, std::slice::from_ref(stigma_form));
        let score = stigma_form.score("stigma").expect("score");
        let mut by_area = std::collections::BTreeMap::<String, (f64, u32)>::new();
        for i in 0..600 {
            let Materialized::Response(row) = generator.response(i).expect("response").rows else {
                panic!("a response")
            };
            let likert = |q: &str| row.answers.iter().find(|a| a.question == q).and_then(|a| a.num);
            if let Some(value) = stigma_form.compute_score(score, likert) {
                let entry = by_area.entry(row.area.clone()).or_default();
                entry.0 += value;
                entry.1 += 1;
            }
        }
        let mean = |area: &str| by_area[area].0 / f64::from(by_area[area].1);
        assert!(mean("north") > mean("central") + 0.5, "{by_area:?}");
        assert!(
            by_area["north"].1 > by_area["central"].1,
            "busier areas have more responses"
        );
    }
}
