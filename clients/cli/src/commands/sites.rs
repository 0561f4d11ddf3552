use uuid::Uuid;

use crate::state::{State, StateFile};
use crate::{Error, Result};

pub fn add(file: &StateFile, code: &str, name: &str) -> Result<()> {
    let mut state = file.load()?;
    if find(&state, code).is_some() {
        return Err(Error::SiteExists(code.to_owned()));
    }
    state.engine.create_site(code, name).map_err(Error::Refused)?;
    file.save(&mut state)?;
    println!("Added site {code} ({name}). Run `survey sync` to share it.");
    Ok(())
}

pub fn list(file: &StateFile) -> Result<()> {
    let state = file.load()?;
    let sites = state.engine.sites();
    if sites.is_empty() {
        println!(
            "No sites on this device yet. `survey site add CODE --name NAME` adds one; `survey sync` fetches others'."
        );
    }
    for (_, view) in sites {
        let tallies: Vec<String> = view.tallies.iter().map(|(m, n)| format!("{m} {n}")).collect();
        println!("{}  {}  ({})", view.site, view.name, tallies.join(", "));
    }
    Ok(())
}

pub fn tally(file: &StateFile, code: &str, metric: &str, by: i64) -> Result<()> {
    let mut state = file.load()?;
    let (id, tallies) = find(&state, code).ok_or_else(|| Error::UnknownSite(code.to_owned()))?;
    if !tallies.contains_key(metric) {
        return Err(Error::UnknownMetric {
            site: code.to_owned(),
            metric: metric.to_owned(),
            known: tallies.keys().cloned().collect::<Vec<_>>().join(", "),
        });
    }
    state.engine.bump_tally(id, metric, by).map_err(Error::Refused)?;
    file.save(&mut state)?;
    let now = find(&state, code)
        .and_then(|(_, t)| t.get(metric).copied())
        .unwrap_or_default();
    println!("Site {code}: {metric} is now {now} on this device (others' counts arrive with `survey sync`).");
    Ok(())
}

/// The site document with this code. Two phones that added the same site offline make two
/// documents; the one with the lowest id is used, so every phone picks the same one.
fn find(state: &State, code: &str) -> Option<(Uuid, std::collections::BTreeMap<String, i64>)> {
    state
        .engine
        .sites()
        .into_iter()
        .filter(|(_, view)| view.site == code)
        .min_by_key(|(id, _)| *id)
        .map(|(id, view)| (id, view.tallies))
}
