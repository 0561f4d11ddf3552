use serde_json::json;
use sync_core::{Day, DocKind};

use crate::Result;
use crate::state::StateFile;

pub fn run(file: &StateFile, as_json: bool) -> Result<()> {
    let mut state = file.load()?;
    let engine = &mut state.engine;
    let device = &state.device;
    let pending = engine.pending_count();
    let responses = engine.document_ids(DocKind::Response).len();
    let sites = engine.document_ids(DocKind::Site).len();
    let forms = engine.forms().len();
    if as_json {
        let status = json!({
            "server": device.server,
            "device": device.device_id.to_string(),
            "dataset": engine.dataset().to_string(),
            "epoch": engine.epoch(),
            "pending": pending,
            "responses": responses,
            "sent_and_deleted": engine.sent_count(),
            "delete_after_send": engine.delete_after_send(),
            "sites": sites,
            "forms": forms,
            "last_sync": device.last_sync,
            "last_sync_error": device.last_sync_error,
            "rejections": engine.rejections(),
        });
        println!("{status}");
        return Ok(());
    }
    println!("server:     {}", device.server);
    println!("device:     {}", device.device_id);
    println!("dataset:    {} (epoch {})", engine.dataset(), engine.epoch());
    println!("on device:  {responses} responses, {sites} sites, {forms} forms");
    println!("to sync:    {pending} document{}", super::plural(pending));
    let sent = engine.sent_count();
    match engine.delete_after_send() {
        Some(true) => println!("sent:       {sent} deleted from this device after sending"),
        Some(false) => println!("sent:       kept on this device ({sent} deleted before)"),
        None => println!("sent:       kept on this device (`survey delete-after-send on` deletes them)"),
    }
    println!(
        "last sync:  {}",
        device.last_sync.map_or_else(|| "never".to_owned(), utc)
    );
    if let Some(error) = &device.last_sync_error {
        println!("last error: {error}");
    }
    for rejection in engine.rejections() {
        println!(
            "refused:    {} ({}): {}",
            rejection.id, rejection.code, rejection.message
        );
    }
    Ok(())
}

fn utc(secs: u64) -> String {
    let day = Day::from_days((secs / 86_400) as i64);
    let in_day = secs % 86_400;
    format!("{day} {:02}:{:02} UTC", in_day / 3600, in_day % 3600 / 60)
}
