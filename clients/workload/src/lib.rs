//! The load test's workload, free of I/O so that `survey loadtest` (over HTTP) and
//! `survey-bench-ingest` (in process) measure the same work: a 30-question form (20
//! likert, 5 single, 3 multi, 1 integer, 1 short text), a seeded generator of answers to it in
//! the JSON shape a phone's answers file has, and a phone's offline session through sync-core's
//! client engine.

use serde_json::{Value, json};
pub mod measure;

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use sync_core::{ClientEngine, Day, Form, QuestionKind, ResponseEdit};
use uuid::Uuid;

pub const FORM_ID: &str = "loadtest-outreach";
pub const AREAS: &[&str] = &["north", "south", "east", "west"];
pub const SITES: &[&str] = &["market", "station", "harbour", "bus-depot", "clinic", "shelter"];
/// Tallies bumped by the workload; every site document starts with them at zero.
pub const METRICS: &[&str] = &["contacts", "kits", "leaflets"];

/// The 30-question form.
pub fn thirty_question_form() -> Form {
    let mut questions = Vec::with_capacity(30);
    for i in 1..=20 {
        questions.push(json!({
            "id": format!("s{i:02}"),
            "type": "likert",
            "label": format!("Attitude statement {i}"),
            "scale": 5,
            "reverse": i % 4 == 0,
        }));
    }
    let singles: [(&str, &[&str]); 5] = [
        ("gender", &["f", "m", "x", "unknown"]),
        ("age_group", &["18-24", "25-34", "35-49", "50plus"]),
        ("work_abroad", &["yes", "no", "unsure"]),
        ("heard_of_hotline", &["yes", "no"]),
        ("contact_place", &["street", "venue", "online", "community"]),
    ];
    for (id, options) in singles {
        questions
            .push(json!({ "id": id, "type": "single", "label": id.replace('_', " "), "options": options }));
    }
    let multis: [(&str, &[&str]); 3] = [
        ("help_from", &["ngo", "police", "religious", "family", "health"]),
        ("needs", &["shelter", "food", "legal", "medical", "work"]),
        ("materials", &["leaflet", "kit", "hotline_card"]),
    ];
    for (id, options) in multis {
        questions
            .push(json!({ "id": id, "type": "multi", "label": id.replace('_', " "), "options": options }));
    }
    questions.push(json!({
        "id": "people_known_away", "type": "integer",
        "label": "People known who went away for work last year", "min": 0, "max": 100,
    }));
    questions.push(json!({
        "id": "notes", "type": "text", "label": "Outreach notes (no personal details)", "max_len": 200,
    }));
    Form::from_value(json!({
        "id": FORM_ID,
        "version": 1,
        "title": "Load test outreach survey (30 questions)",
        "areas": AREAS,
        "questions": questions,
        "scores": [{
            "id": "attitude", "label": "Attitude index", "method": "mean",
            "items": (1..=20).map(|i| format!("s{i:02}")).collect::<Vec<_>>(),
        }],
    }))
    .expect("the load test form is valid")
}

/// SplitMix64: tiny, seedable, and good enough to vary answers; not for anything secret.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const NOTES: &[&str] = &[
    "group of six met near the market, leaflets handed out",
    "asked about work offers abroad, referred to the hotline",
    "quiet evening, two returning contacts",
    "venue staff interested in training",
    "",
];

/// Answers to every question of `form` in the answers-file JSON shape, submitted.
pub fn answers_json(form: &Form, rng: &mut Rng, area: &str, collected_on: &str) -> Value {
    let mut answers = serde_json::Map::new();
    for question in &form.questions {
        let value = match &question.kind {
            QuestionKind::Likert { scale, .. } => json!(1 + rng.below(*scale as u64)),
            QuestionKind::Single { options } => json!(rng.pick(options).id()),
            QuestionKind::Multi { options } => {
                let picked: Vec<&str> = options
                    .iter()
                    .filter(|_| rng.below(3) == 0)
                    .map(|o| o.id())
                    .collect();
                json!(picked)
            }
            QuestionKind::Integer { min, max } => json!(min + rng.below((max - min + 1) as u64) as i64),
            QuestionKind::Date => json!(collected_on),
            QuestionKind::Note => continue,
            QuestionKind::Text { .. } => {
                let note = *rng.pick(NOTES);
                if note.is_empty() {
                    continue;
                }
                json!(note)
            }
        };
        answers.insert(question.id.clone(), value);
    }
    json!({ "area": area, "collected_on": collected_on, "answers": answers, "submit": true })
}

/// The whole run: how many phones, what each does over how many days, and the dataset's k.
pub struct Run {
    pub devices: u32,
    /// Responses per device, over all days.
    pub responses: u32,
    /// Site tally bumps per device, over all days.
    pub site_bumps: u32,
    /// Days of fieldwork; every phone syncs once at the end of each.
    pub days: u32,
    pub seed: u64,
    pub k: i64,
    /// The first day's date; the last day is today.
    pub first_day: Day,
}

impl Run {
    /// A run whose last day is today. Refused when it has fewer than `k` responses in all: the
    /// aggregates that verify it would suppress every one of them.
    pub fn ending_today(
        devices: u32,
        responses: u32,
        site_bumps: u32,
        days: u32,
        seed: u64,
        k: i64,
    ) -> Result<Run, String> {
        let today = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() / 86_400) as i64;
        let run = Run {
            devices,
            responses,
            site_bumps,
            days: days.max(1),
            seed,
            k,
            first_day: Day::from_days(today + 1 - i64::from(days.max(1))),
        };
        if run.total_responses() < k.max(1) as u64 {
            return Err(format!(
                "at least {k} responses are needed in all (devices x responses) to verify them through \
                 the aggregates, where smaller groups are suppressed"
            ));
        }
        Ok(run)
    }

    pub fn total_responses(&self) -> u64 {
        u64::from(self.devices) * u64::from(self.responses)
    }

    /// Responses rotate over as many of the form's areas as keep every area's count at or
    /// above k, so the aggregates that verify the run suppress nothing.
    pub fn areas_used(&self) -> usize {
        let k = self.k.max(1) as u64;
        AREAS.len().min((self.total_responses() / k) as usize).max(1)
    }

    /// Device `device`'s offline work on day `day` (0-based): its share of its responses and
    /// bumps, spread evenly over the days.
    pub fn plan(&self, device: u32, day: u32) -> Plan {
        let share = |total: u32| {
            let of = |d: u32| u64::from(total) * u64::from(d) / u64::from(self.days);
            (of(day), of(day + 1))
        };
        let (first, end) = share(self.responses);
        let (bumps_before, bumps_end) = share(self.site_bumps);
        let device_seed = self.seed.wrapping_mul(1_000_003).wrapping_add(u64::from(device));
        Plan {
            seed: device_seed.wrapping_mul(0x9E37_79B9).wrapping_add(u64::from(day)),
            first_response: u64::from(device) * u64::from(self.responses) + first,
            responses: (end - first) as u32,
            site_bumps: (bumps_end - bumps_before) as u32,
            areas_used: self.areas_used(),
            collected_on: Day::from_days(self.first_day.to_days() + i64::from(day)),
        }
    }
}

/// One phone's offline work between two syncs.
pub struct Plan {
    pub seed: u64,
    /// Index of the day's first response among all responses, for the area rotation.
    pub first_response: u64,
    pub responses: u32,
    pub site_bumps: u32,
    /// Responses rotate over this many of the form's areas, so every aggregate cell stays at
    /// or above the dataset's k and nothing is suppressed.
    pub areas_used: usize,
    pub collected_on: Day,
}

/// What a phone added to each (site code, metric) tally.
pub type Bumps = BTreeMap<(String, String), i64>;

/// Collects the plan's responses and bumps site tallies offline, exactly as the CLI and the web
/// app do. The engine must already hold the form and the workload's sites.
pub fn work_offline(
    engine: &mut ClientEngine,
    form: &Form,
    sites: &BTreeMap<String, Uuid>,
    plan: &Plan,
) -> Result<Bumps, sync_core::Error> {
    let mut rng = Rng::new(plan.seed);
    let day = plan.collected_on.to_string();
    for j in 0..u64::from(plan.responses) {
        let area = AREAS[((plan.first_response + j) % plan.areas_used as u64) as usize];
        let json = answers_json(form, &mut rng, area, &day);
        let edit = ResponseEdit::from_json(form, &json)?;
        engine.create_response(&form.id, &edit)?;
    }
    let mut bumps = Bumps::new();
    for _ in 0..plan.site_bumps {
        let site = *rng.pick(SITES);
        let metric = *rng.pick(METRICS);
        let by = 1 + rng.below(3) as i64;
        engine.bump_tally(sites[site], metric, by)?;
        *bumps.entry((site.to_owned(), metric.to_owned())).or_insert(0) += by;
    }
    Ok(bumps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::ResponseEdit;

    #[test]
    fn the_form_has_the_promised_mix_of_thirty_questions() {
        let form = thirty_question_form();
        let count = |name: &str| {
            form.questions
                .iter()
                .filter(|q| q.kind.type_name() == name)
                .count()
        };
        assert_eq!(form.questions.len(), 30);
        assert_eq!(
            (
                count("likert"),
                count("single"),
                count("multi"),
                count("integer"),
                count("text")
            ),
            (20, 5, 3, 1, 1)
        );
    }

    #[test]
    fn days_share_every_response_and_bump_once() {
        let run = Run {
            devices: 3,
            responses: 20,
            site_bumps: 5,
            days: 30,
            seed: 1,
            k: 5,
            first_day: Day::from_days(20_000),
        };
        for device in 0..3 {
            let plans: Vec<Plan> = (0..30).map(|day| run.plan(device, day)).collect();
            assert_eq!(plans.iter().map(|p| p.responses).sum::<u32>(), 20);
            assert_eq!(plans.iter().map(|p| p.site_bumps).sum::<u32>(), 5);
            let firsts: Vec<u64> = plans.iter().map(|p| p.first_response).collect();
            assert!(firsts.windows(2).all(|w| w[0] <= w[1]));
            assert_eq!(firsts[0], u64::from(device) * 20);
            assert_eq!(plans[29].collected_on.to_days(), 20_029);
        }
    }

    #[test]
    fn generated_answers_fit_the_form() {
        let form = thirty_question_form();
        let mut rng = Rng::new(7);
        for _ in 0..200 {
            let json = answers_json(&form, &mut rng, "east", "2026-11-20");
            ResponseEdit::from_json(&form, &json).expect("generated answers fit");
        }
    }
}
