//! A curious analyst against the demo dataset (`serve --demo`: seed 1, 2,000 responses,
//! k = 11), as in issue 17. Each attack is first run against a server that only suppresses
//! small cells, where it must recover them, then against the real one, where it must not.
//! The true counts come from the demo generator itself, which the seeded reset wrote.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};
use survey_server::demo::generator::{BUILT_IN_FORMS, Generator};
use survey_server::storage::Materialized;
use sync_core::{Day, Form};
use uuid::Uuid;

use crate::support::{Api, Backend, TestServer};

const SEED: u64 = 1;
const RESPONSES: u64 = 2_000;
const K: u64 = 11;
const FORM: &str = "outreach-contact";

/// One submitted outreach-contact response as the generator made it.
struct Respondent {
    area: String,
    month: String,
    answers: HashMap<String, String>,
}

impl Respondent {
    /// The respondent's value of a single-choice question, area or month (`None`: skipped).
    fn level(&self, dimension: &str) -> Option<&str> {
        match dimension {
            "area" => Some(&self.area),
            "month" => Some(&self.month),
            question => self.answers.get(question).map(String::as_str),
        }
    }
}

fn demo_respondents() -> Vec<Respondent> {
    let forms: Vec<Form> = BUILT_IN_FORMS
        .iter()
        .map(|json| Form::from_json(json).expect("built-in form"))
        .collect();
    // The reset publishes the forms and lists them by id; the generator draws from that list.
    let mut forms = forms;
    forms.sort_by(|a, b| a.id.cmp(&b.id));
    let generator = Generator::new(Uuid::nil(), SEED, &forms);
    (0..RESPONSES)
        .filter_map(|i| {
            let Materialized::Response(row) = generator.response(i).expect("response").rows else {
                return None;
            };
            (row.form == FORM && row.status == "submitted").then(|| Respondent {
                area: row.area.clone(),
                month: Day::parse(&row.collected_on).expect("day").month_key(),
                answers: row
                    .answers
                    .iter()
                    .filter_map(|a| Some((a.question.clone(), a.value.clone()?)))
                    .collect(),
            })
        })
        .collect()
}

/// The questions of the form every submitted response answers.
fn required_questions() -> BTreeSet<String> {
    let form = BUILT_IN_FORMS
        .iter()
        .map(|json| Form::from_json(json).expect("built-in form"))
        .find(|f| f.id == FORM)
        .expect("the outreach form");
    form.questions
        .iter()
        .filter(|q| q.required)
        .map(|q| q.id.clone())
        .collect()
}

/// A server with the demo dataset reset as `serve --demo` seeds it, and an analyst token.
async fn demo(server: &TestServer) -> (Uuid, String) {
    let api = &server.api;
    let admin = server.admin_token().await;
    let dataset = api.create_dataset(&admin, "Demo", "demo").await;
    let reply = api
        .post_json(
            &format!("/v1/datasets/{dataset}/reset"),
            Some(&admin),
            &json!({ "seed": SEED, "responses": RESPONSES }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    (dataset, api.token(&admin, "analyst", Some(dataset)).await)
}

/// The cells of a query: key (dimension -> value, `*` for a total) -> shown count, `None`
/// when suppressed.
type Cells = HashMap<Vec<(String, String)>, Option<u64>>;

async fn cells(api: &Api, analyst: &str, dataset: Uuid, query: &str) -> Cells {
    let reply = api
        .get(
            &format!("/v1/datasets/{dataset}/aggregates?form={FORM}&{query}"),
            Some(analyst),
        )
        .await;
    assert_eq!(reply.status, 200, "{query}: {}", reply.text());
    reply.json()["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .map(|cell| {
            let key = cell["key"]
                .as_object()
                .expect("key")
                .iter()
                .map(|(d, v)| (d.clone(), v.as_str().expect("value").to_owned()))
                .collect();
            (key, cell["n"].as_u64())
        })
        .collect()
}

fn key(parts: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut key: Vec<(String, String)> = parts
        .iter()
        .map(|(d, v)| (d.to_string(), v.to_string()))
        .collect();
    key.sort();
    key
}

/// Issue 17's three queries: the sector's total, its row by contact type, and the other
/// cells of the row (from the row, or a query filtered the other way: the same respondents);
/// contact type is required, so the total minus the visible cells is the hidden one. Returns,
/// for a row with one hidden cell, that cell and what the subtraction gives.
async fn subtract_from_totals(
    api: &Api,
    analyst: &str,
    dataset: Uuid,
    sector: &str,
) -> Option<(String, i64)> {
    let totals = cells(api, analyst, dataset, "by=work_sector").await;
    let row = cells(
        api,
        analyst,
        dataset,
        &format!("by=contact_type&where=work_sector={sector}"),
    )
    .await;
    let total = totals[&key(&[("work_sector", sector)])]? as i64;
    let hidden: Vec<String> = row
        .iter()
        .filter(|(k, n)| n.is_none() && k[0].1 != "*")
        .map(|(k, _)| k[0].1.clone())
        .collect();
    let [target] = hidden.as_slice() else { return None };
    let visible: i64 = row
        .iter()
        .filter(|(k, _)| k[0].1 != "*")
        .map(|(_, n)| n.unwrap_or(0) as i64)
        .sum();
    Some((target.clone(), total - visible))
}

const SECTORS: [&str; 8] = [
    "entertainment",
    "domestic",
    "construction",
    "fishing",
    "agriculture",
    "factory",
    "other",
    "none",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_ordinary_queries_no_longer_recover_a_hidden_cell() {
    let respondents = demo_respondents();
    let truth = |sector: &str, contact: &str| {
        respondents
            .iter()
            .filter(|r| r.level("work_sector") == Some(sector) && r.level("contact_type") == Some(contact))
            .count() as i64
    };

    let plain = TestServer::start_suppressing_only(&Backend::Sqlite).await;
    let (dataset, analyst) = demo(&plain).await;
    let mut recovered = Vec::new();
    for sector in SECTORS {
        if let Some((contact, derived)) = subtract_from_totals(&plain.api, &analyst, dataset, sector).await {
            let real = truth(sector, &contact);
            assert!(real < K as i64, "{sector}/{contact} is hidden");
            assert_eq!(
                derived, real,
                "{sector}/{contact}: plain suppression gives it away"
            );
            recovered.push(format!("{sector}/{contact} = {real}"));
        }
    }
    assert!(
        recovered.contains(&"entertainment/online = 7".to_string()),
        "the issue's example, 76 - 20 - 18 - 17 - 14 = 7: {recovered:?}"
    );
    plain.stop().await;

    let server = TestServer::start(&Backend::Sqlite).await;
    let (dataset, analyst) = demo(&server).await;
    let (mut tried, mut right) = (0, 0);
    for sector in SECTORS {
        if let Some((contact, derived)) = subtract_from_totals(&server.api, &analyst, dataset, sector).await {
            let real = truth(sector, &contact);
            if sector == "entertainment" && contact == "online" {
                assert_ne!(derived, 7, "the issue's subtraction no longer gives the hidden 7");
            }
            tried += 1;
            right += usize::from(derived == real);
        }
    }
    eprintln!(
        "plain suppression: {} hidden cells recovered ({recovered:?}); cell keys: {right} of {tried} subtractions right by chance",
        recovered.len()
    );
    // Each subtraction is off by the noise of five or six cells; the attacker cannot tell the
    // lucky ones, and most are wrong.
    assert!(
        right * 2 < tried.max(1),
        "{right} of {tried} subtractions give the true count"
    );
    server.stop().await;
}

/// A dense linear least-squares attacker: unknowns are the counts of every combination of
/// (work sector, contact type, a third dimension), each a value or unanswered; every visible
/// cell of every query over those three is an equation.
struct LinearAttack {
    /// The atoms: one value (or `None`) per dimension.
    atoms: Vec<[Option<String>; 3]>,
    /// Visible equations: which atoms a cell sums, and its shown count.
    equations: Vec<(Vec<usize>, f64)>,
}

impl LinearAttack {
    /// `answered[d]`: dimension `d` always has a value (an area, a month, a required
    /// question), which the attacker knows from the form, so it has no "unanswered" atoms.
    fn new(levels: &[Vec<String>; 3], answered: [bool; 3], cube: &Cells, dims: &[&str; 3]) -> LinearAttack {
        let options = |i: usize| -> Vec<Option<String>> {
            let unanswered = (!answered[i]).then_some(None);
            levels[i].iter().cloned().map(Some).chain(unanswered).collect()
        };
        let mut atoms = Vec::new();
        for a in options(0) {
            for b in options(1) {
                for c in options(2) {
                    atoms.push([a.clone(), b.clone(), c.clone()]);
                }
            }
        }
        let equations = cube
            .iter()
            .filter_map(|(key, n)| {
                let n = (*n)? as f64;
                let wanted: Vec<&str> = dims
                    .iter()
                    .map(|d| key.iter().find(|(k, _)| k == d).expect("dimension").1.as_str())
                    .collect();
                let members = (0..atoms.len())
                    .filter(|&i| {
                        (0..3).all(|d| wanted[d] == "*" || atoms[i][d].as_deref() == Some(wanted[d]))
                    })
                    .collect();
                Some((members, n))
            })
            .collect();
        LinearAttack { atoms, equations }
    }

    /// For each target (a set of atoms), the least-squares estimate of its count, or `None`
    /// when the visible cells do not determine it; and the largest residual, how far the
    /// least-squares counts are from some visible cell (0 when the cells are consistent).
    fn estimates(&self, targets: &[Vec<usize>]) -> (Vec<Option<f64>>, f64) {
        let m = self.atoms.len();
        // Normal equations with a tiny ridge, so that a rank-deficient system still solves;
        // a target in the row space of the equations is unaffected by the ridge (to 1e-6).
        let mut gram = vec![vec![0.0; m]; m];
        let mut rhs = vec![0.0; m];
        for (members, n) in &self.equations {
            for &i in members {
                rhs[i] += n;
                for &j in members {
                    gram[i][j] += 1.0;
                }
            }
        }
        let plain_gram = gram.clone();
        for (i, row) in gram.iter_mut().enumerate() {
            row[i] += 1e-7;
        }
        let lu = Lu::new(gram);
        let x = lu.solve(&rhs);
        let residual = self
            .equations
            .iter()
            .map(|(members, n)| (members.iter().map(|&i| x[i]).sum::<f64>() - n).abs())
            .fold(0.0, f64::max);
        let estimates = targets
            .iter()
            .map(|target| {
                let mut t = vec![0.0; m];
                for &i in target {
                    t[i] = 1.0;
                }
                // (G + eps I)^-1 G t is t itself exactly when t lies in the row space.
                let gt: Vec<f64> = plain_gram
                    .iter()
                    .map(|row| row.iter().zip(&t).map(|(a, b)| a * b).sum())
                    .collect();
                let back = lu.solve(&gt);
                let determined = back.iter().zip(&t).all(|(a, b)| (a - b).abs() < 1e-4);
                determined.then(|| target.iter().map(|&i| x[i]).sum())
            })
            .collect();
        (estimates, residual)
    }
}

/// LU decomposition with partial pivoting of a dense square matrix.
struct Lu {
    a: Vec<Vec<f64>>,
    pivots: Vec<usize>,
}

impl Lu {
    fn new(mut a: Vec<Vec<f64>>) -> Lu {
        let n = a.len();
        let mut pivots = Vec::with_capacity(n);
        for col in 0..n {
            let pivot = (col..n)
                .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
                .expect("a row");
            a.swap(col, pivot);
            pivots.push(pivot);
            let (done, rest) = a.split_at_mut(col + 1);
            let pivot_row = &done[col];
            for row in rest {
                let factor = row[col] / pivot_row[col];
                row[col] = factor;
                if factor != 0.0 {
                    for (x, p) in row[col + 1..].iter_mut().zip(&pivot_row[col + 1..]) {
                        *x -= factor * p;
                    }
                }
            }
        }
        Lu { a, pivots }
    }

    fn solve(&self, b: &[f64]) -> Vec<f64> {
        let n = self.a.len();
        let mut x = b.to_vec();
        for (col, &pivot) in self.pivots.iter().enumerate() {
            x.swap(col, pivot);
        }
        for row in 0..n {
            for k in 0..row {
                x[row] -= self.a[row][k] * x[k];
            }
        }
        for row in (0..n).rev() {
            for k in row + 1..n {
                x[row] -= self.a[row][k] * x[k];
            }
            x[row] /= self.a[row][row];
        }
        x
    }
}

/// What the attack found: per target cell (work sector x contact type, or a cell of a
/// three-way table) that is hidden or small and that the visible cells determine, its true
/// count and the estimate from each third dimension; and the least consistent system's
/// largest residual.
struct Attacked {
    targets: Vec<(String, i64, Vec<f64>)>,
    residual: f64,
}

async fn linear_attack(server: &TestServer, respondents: &[Respondent]) -> Attacked {
    let (dataset, analyst) = demo(server).await;
    let api = &server.api;
    let two_way = cells(api, &analyst, dataset, "by=work_sector,contact_type").await;
    // Every query over at most three dimensions with equality filters returns cells of the
    // unfiltered three-way query over its dimensions, totals included (`*`): the same
    // respondents, so the same values. A few checked here; the attack then reads the cubes.
    let cube = cells(api, &analyst, dataset, "by=work_sector,contact_type,gender").await;
    let filtered = cells(
        api,
        &analyst,
        dataset,
        "by=contact_type&where=work_sector=entertainment&where=gender=f",
    )
    .await;
    for (k, n) in &filtered {
        let full = key(&[
            ("work_sector", "entertainment"),
            ("gender", "f"),
            ("contact_type", k[0].1.as_str()),
        ]);
        assert_eq!(cube[&full], *n, "{k:?}");
    }
    let single = cells(api, &analyst, dataset, "by=work_sector").await;
    for (k, n) in &single {
        assert_eq!(
            two_way[&key(&[("work_sector", k[0].1.as_str()), ("contact_type", "*")])],
            *n,
            "{k:?}"
        );
    }

    let required = required_questions();
    let mut found: HashMap<String, (i64, Vec<f64>)> = HashMap::new();
    let mut largest_residual: f64 = 0.0;
    for third in ["area", "gender", "age_group", "follow_up", "month"] {
        let dims = ["work_sector", "contact_type", third];
        let cube = cells(api, &analyst, dataset, &format!("by={}", dims.join(","))).await;
        let levels: [Vec<String>; 3] = std::array::from_fn(|d| {
            cube.keys()
                .map(|k| {
                    k.iter()
                        .find(|(name, _)| name == dims[d])
                        .expect("dimension")
                        .1
                        .clone()
                })
                .filter(|v| v != "*")
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        });
        let answered = dims.map(|d| ["area", "month"].contains(&d) || required.contains(d));
        let attack = LinearAttack::new(&levels, answered, &cube, &dims);
        let count = |cell: &[Option<&str>; 3]| -> (Vec<usize>, i64) {
            let atoms = (0..attack.atoms.len())
                .filter(|&i| (0..3).all(|d| cell[d].is_none() || attack.atoms[i][d].as_deref() == cell[d]))
                .collect();
            let real = respondents
                .iter()
                .filter(|r| (0..3).all(|d| cell[d].is_none() || r.level(dims[d]) == cell[d]))
                .count() as i64;
            (atoms, real)
        };
        let mut targets = Vec::new();
        for w in levels[0].iter().map(String::as_str) {
            for c in levels[1].iter().map(String::as_str) {
                let shown = two_way[&key(&[("work_sector", w), ("contact_type", c)])];
                let (atoms, real) = count(&[Some(w), Some(c), None]);
                if shown.is_none() || (real > 0 && real < K as i64) {
                    targets.push((format!("{w}/{c}"), atoms, real));
                }
                for z in levels[2].iter().map(String::as_str) {
                    let (atoms, real) = count(&[Some(w), Some(c), Some(z)]);
                    if real > 0 && real < K as i64 {
                        targets.push((format!("{w}/{c}/{third}={z}"), atoms, real));
                    }
                }
            }
        }
        let sets: Vec<Vec<usize>> = targets.iter().map(|(_, atoms, _)| atoms.clone()).collect();
        let (estimates, residual) = attack.estimates(&sets);
        largest_residual = largest_residual.max(residual);
        for ((name, _, real), estimate) in targets.into_iter().zip(estimates) {
            if let Some(estimate) = estimate {
                found.entry(name).or_insert((real, Vec::new())).1.push(estimate);
            }
        }
    }
    let mut targets: Vec<(String, i64, Vec<f64>)> = found.into_iter().map(|(n, (r, e))| (n, r, e)).collect();
    targets.sort_by(|a, b| a.0.cmp(&b.0));
    Attacked {
        targets,
        residual: largest_residual,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linear_algebra_attack_over_all_small_queries_recovers_no_small_cell() {
    let respondents = demo_respondents();

    let plain = TestServer::start_suppressing_only(&Backend::Sqlite).await;
    let recovered = linear_attack(&plain, &respondents).await;
    plain.stop().await;
    let exact = recovered
        .targets
        .iter()
        .filter(|(_, real, estimates)| estimates.iter().all(|e| (e - *real as f64).abs() < 1e-3))
        .count();
    assert!(
        recovered.residual < 1e-3,
        "exact counts are consistent: {}",
        recovered.residual
    );
    assert_eq!(
        exact,
        recovered.targets.len(),
        "against plain suppression every determined small cell comes out exact: {:?}",
        recovered.targets
    );
    assert!(
        recovered.targets.len() >= 3
            && recovered
                .targets
                .iter()
                .any(|(name, real, _)| name == "entertainment/online" && *real == 7),
        "it recovers small cells, the issue's hidden 7 among them: {:?}",
        recovered.targets
    );

    let server = TestServer::start(&Backend::Sqlite).await;
    let attacked = linear_attack(&server, &respondents).await;
    server.stop().await;
    // The visible cells contradict each other, so no solution fits them all: the attacker
    // has estimates, never a count it can confirm.
    assert!(
        attacked.residual > 0.5,
        "perturbed counts are inconsistent: {}",
        attacked.residual
    );
    let mut rounded_right = 0;
    for (_, real, estimates) in &attacked.targets {
        // The attacker's best guess: the mean of its estimates over every third dimension.
        let guess = estimates.iter().sum::<f64>() / estimates.len() as f64;
        rounded_right += usize::from(guess.round() as i64 == *real);
    }
    eprintln!(
        "plain suppression: {exact} of {} determined small cells recovered exactly; cell keys: {} determined, {rounded_right} rounded to the truth by chance, residual {:.2}",
        recovered.targets.len(),
        attacked.targets.len(),
        attacked.residual
    );
    assert!(
        rounded_right * 2 < attacked.targets.len().max(1),
        "rounding the attack's estimates must not find most small cells: {rounded_right} of {}",
        attacked.targets.len()
    );
}

/// Issue 17's other findings: zero and small cells look alike in JSON and in CSV, every
/// combination is listed, and the same respondents give the same count in every query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_and_small_cells_look_alike_and_every_query_agrees() {
    let respondents = demo_respondents();
    let server = TestServer::start(&Backend::Sqlite).await;
    let (dataset, analyst) = demo(&server).await;
    let api = &server.api;
    // Among the under-18s, some combinations are empty and others small.
    let query = "by=work_sector,contact_type&where=age_group=under18";
    let path = format!("/v1/datasets/{dataset}/aggregates?form={FORM}&{query}");
    let reply = api.get(&path, Some(&analyst)).await;
    let table = reply.json();
    let all = table["cells"].as_array().expect("cells");
    assert_eq!(
        all.len(),
        9 * 6,
        "8 sectors and 5 contact types, each with a total"
    );
    let truth = |cell: &Value| {
        respondents
            .iter()
            .filter(|r| {
                r.level("age_group") == Some("under18")
                    && ["work_sector", "contact_type"]
                        .iter()
                        .all(|d| cell["key"][d] == "*" || r.level(d) == cell["key"][d].as_str())
            })
            .count()
    };
    let (mut empty, mut small) = (0, 0);
    let csv = api.get_as(&path, Some(&analyst), "text/csv").await.text();
    for cell in all {
        let real = truth(cell);
        if real < (K - 2) as usize {
            // Nothing but the key and the flag, whatever the count.
            let mut without_key = cell.as_object().expect("cell").clone();
            without_key.remove("key");
            assert_eq!(
                Value::Object(without_key),
                json!({ "suppressed": true }),
                "{cell}"
            );
            let line = format!(
                "{},{},suppressed,suppressed",
                cell["key"]["work_sector"].as_str().expect("sector"),
                cell["key"]["contact_type"].as_str().expect("type")
            );
            assert!(csv.contains(&format!("{line}\r\n")), "{line} in {csv}");
            if real == 0 {
                empty += 1;
            } else {
                small += 1;
            }
        }
    }
    assert!(
        empty > 0 && small > 0,
        "the demo data has both: {empty} empty, {small} small"
    );

    // The same cell by two queries, and the same query twice.
    let a = cells(api, &analyst, dataset, "by=work_sector,contact_type").await;
    let b = cells(
        api,
        &analyst,
        dataset,
        "by=contact_type&where=work_sector=construction",
    )
    .await;
    let c = cells(api, &analyst, dataset, "by=work_sector&where=contact_type=street").await;
    let street = a[&key(&[("work_sector", "construction"), ("contact_type", "street")])];
    assert!(street.is_some(), "a shown cell to compare");
    assert_eq!(b[&key(&[("contact_type", "street")])], street);
    assert_eq!(c[&key(&[("work_sector", "construction")])], street);
    assert_eq!(
        api.get(&path, Some(&analyst)).await.text(),
        reply.text(),
        "asked twice, byte-equal"
    );
    server.stop().await;
}
