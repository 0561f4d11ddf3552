//! The field worker's app's engine in the browser: a thin `#[wasm_bindgen]` wrapper around
//! sync-core's [`ClientEngine`]. It does no I/O: the JavaScript side moves the bytes it builds
//! over `fetch` and keeps the state bytes in IndexedDB.
//!
//! Structured values cross the boundary as JSON text (one `JSON.parse` on the JS side), which
//! keeps the wasm small and the API obvious from the browser console.
#![forbid(unsafe_code)]

mod js_error;
mod relevance;
mod sent_responses;
mod views;

use sync_core::{
    ClientEngine, Form, MAX_SYNC_ROUNDS, REPLY_LIMITS, REQUEST_CHANGE_BYTES, ResponseEdit, decode_response,
    encode_request,
};
use uuid::Uuid;
use wasm_bindgen::prelude::*;

pub use js_error::{bad_input, to_js};

type JsResult<T> = Result<T, JsValue>;

/// Rounds of one sync before the app stops and says so (sync-core's client limit, the CLI's
/// too).
#[wasm_bindgen(js_name = maxSyncRounds)]
pub fn max_sync_rounds() -> u32 {
    u32::try_from(MAX_SYNC_ROUNDS).unwrap_or(u32::MAX)
}

/// One device's documents of one dataset, and what it still has to send.
#[wasm_bindgen]
pub struct SurveyClient {
    engine: ClientEngine,
}

#[wasm_bindgen]
impl SurveyClient {
    /// A fresh engine right after enrollment: `dataset` and `epoch` as the server returned them.
    #[wasm_bindgen(constructor)]
    pub fn new(dataset: &str, epoch: f64) -> JsResult<SurveyClient> {
        Ok(SurveyClient {
            engine: ClientEngine::new(parse_id(dataset)?, parse_whole("epoch", epoch)?),
        })
    }

    /// Restores an engine from bytes made by [`SurveyClient::save`].
    pub fn load(bytes: &[u8]) -> JsResult<SurveyClient> {
        Ok(SurveyClient {
            engine: ClientEngine::load(bytes).map_err(|e| to_js(&e))?,
        })
    }

    /// The whole state (documents, what the server confirmed, refusals) as bytes to keep.
    pub fn save(&mut self) -> Vec<u8> {
        self.engine.save()
    }

    #[wasm_bindgen(js_name = datasetId)]
    pub fn dataset_id(&self) -> String {
        self.engine.dataset().to_string()
    }

    pub fn epoch(&self) -> f64 {
        self.engine.epoch() as f64
    }

    // --- forms and responses -----------------------------------------------------------------

    /// The latest version of every form received, as a JSON array of form definitions.
    #[wasm_bindgen(js_name = formsJson)]
    pub fn forms_json(&self) -> String {
        json_text(&self.engine.forms())
    }

    /// Starts a response on the latest version of `formId`. `editJson` is
    /// `{ area, collected_on, answers: {question: value}, cleared: [], submit }`; area and day
    /// are required. Free text is scrubbed of contact details. Returns the new response's id.
    #[wasm_bindgen(js_name = createResponse)]
    pub fn create_response(&mut self, form_id: &str, edit_json: &str) -> JsResult<String> {
        let form = self.engine.form(form_id, None).map_err(|e| to_js(&e))?;
        let edit = parse_edit(&form, edit_json)?;
        let id = self
            .engine
            .create_response(form_id, &edit)
            .map_err(|e| to_js(&e))?;
        Ok(id.to_string())
    }

    /// Applies one batch of edits to a response, all or nothing. `submit: true` finishes it
    /// (every required question must then be answered).
    #[wasm_bindgen(js_name = editResponse)]
    pub fn edit_response(&mut self, id: &str, edit_json: &str) -> JsResult<()> {
        let id = parse_id(id)?;
        let form = self.response_form(id)?;
        let edit = parse_edit(&form, edit_json)?;
        self.engine.edit_response(id, &edit).map_err(|e| to_js(&e))
    }

    /// The ids of the questions and notes of version `version` of form `formId` asked given
    /// `answersJson` (question id to value, as `editResponse` takes them), as a JSON array in
    /// form order. The app shows exactly these; values that are not valid answers yet count as
    /// unanswered.
    #[wasm_bindgen(js_name = relevantQuestions)]
    pub fn relevant_questions(&self, form_id: &str, version: f64, answers_json: &str) -> JsResult<String> {
        let form = self
            .engine
            .form(form_id, Some(parse_whole("form version", version)? as i64))
            .map_err(|e| to_js(&e))?;
        let asked = relevance::relevant_questions(&form, answers_json).map_err(bad_input)?;
        let in_order: Vec<&str> = form
            .questions
            .iter()
            .map(|q| q.id.as_str())
            .filter(|id| asked.contains(*id))
            .collect();
        Ok(json_text(&in_order))
    }

    /// Finishes a response without changing its answers.
    #[wasm_bindgen(js_name = submitResponse)]
    pub fn submit_response(&mut self, id: &str) -> JsResult<()> {
        self.edit_response(id, r#"{"submit":true}"#)
    }

    /// One response as JSON: `{ id, dataset, form, form_version, status, collected_on, area,
    /// answers, review, waiting, refused }`.
    #[wasm_bindgen(js_name = responseJson)]
    pub fn response_json(&mut self, id: &str) -> JsResult<String> {
        let id = parse_id(id)?;
        let waiting = views::waiting_ids(&mut self.engine);
        let view = views::response(&mut self.engine, id, &waiting).map_err(|e| to_js(&e))?;
        Ok(view.to_string())
    }

    /// Every response on this device as a JSON array (see [`SurveyClient::response_json`]).
    /// A response that cannot be read (its form is missing) is listed with an `error`.
    #[wasm_bindgen(js_name = responsesJson)]
    pub fn responses_json(&mut self) -> String {
        views::responses(&mut self.engine).to_string()
    }

    // --- sites -------------------------------------------------------------------------------

    /// Adds an outreach site with the usual tallies at zero. Returns its id.
    #[wasm_bindgen(js_name = createSite)]
    pub fn create_site(&mut self, code: &str, name: &str) -> JsResult<String> {
        let id = self.engine.create_site(code, name).map_err(|e| to_js(&e))?;
        Ok(id.to_string())
    }

    /// Adds `by` (negative to correct a miscount) to one tally of a site.
    #[wasm_bindgen(js_name = bumpTally)]
    pub fn bump_tally(&mut self, site_id: &str, metric: &str, by: i32) -> JsResult<()> {
        let id = parse_id(site_id)?;
        self.engine
            .bump_tally(id, metric, i64::from(by))
            .map_err(|e| to_js(&e))
    }

    /// Every site as a JSON array of `{ id, site, name, tallies: {metric: total}, waiting }`.
    #[wasm_bindgen(js_name = sitesJson)]
    pub fn sites_json(&mut self) -> String {
        views::sites(&mut self.engine).to_string()
    }

    // --- sync --------------------------------------------------------------------------------

    /// How many documents have edits the server has not confirmed yet.
    #[wasm_bindgen(js_name = pendingCount)]
    pub fn pending_count(&mut self) -> u32 {
        u32::try_from(self.engine.pending_count()).unwrap_or(u32::MAX)
    }

    /// Whether another sync round is needed to be up to date both ways.
    #[wasm_bindgen(js_name = needsSync)]
    pub fn needs_sync(&mut self) -> bool {
        self.engine.needs_sync()
    }

    /// Documents the server refused, as a JSON array of `{ id, code, message }`.
    #[wasm_bindgen(js_name = rejectionsJson)]
    pub fn rejections_json(&self) -> String {
        json_text(&self.engine.rejections())
    }

    /// Where to post [`SurveyClient::build_sync_request`]'s body: `/v3/sync`, or an older
    /// version's after [`SurveyClient::use_older_protocol`].
    #[wasm_bindgen(js_name = syncPath)]
    pub fn sync_path(&self) -> String {
        format!("/v{}/sync", self.engine.protocol())
    }

    /// Steps down one protocol version, for a server that answered [`SurveyClient::sync_path`] with
    /// 404; false when there is no older one left to try.
    #[wasm_bindgen(js_name = useOlderProtocol)]
    pub fn use_older_protocol(&mut self) -> bool {
        self.engine.use_older_protocol()
    }

    /// The next sync request body (CBOR), carrying about `maxChangeBytes` of changes at most
    /// (always at least one document's worth, so every round makes progress); without it,
    /// sync-core's client limit, as the CLI sends.
    #[wasm_bindgen(js_name = buildSyncRequest)]
    pub fn build_sync_request(&mut self, max_change_bytes: Option<u32>) -> Vec<u8> {
        let max_change_bytes = max_change_bytes.map_or(REQUEST_CHANGE_BYTES, |bytes| bytes as usize);
        encode_request(&self.engine.build_request(max_change_bytes))
    }

    /// Takes in the server's reply (CBOR). Returns JSON `{ applied, reset, epoch, more,
    /// refused, received }`. A reply that says `reset` (a trainer reset a demo dataset) drops
    /// every local document, so it is applied only when `allowReset` is true; otherwise nothing
    /// changes and `applied` is false, so the app can first offer to save unsent work.
    #[wasm_bindgen(js_name = applySyncResponse)]
    pub fn apply_sync_response(&mut self, bytes: &[u8], allow_reset: bool) -> JsResult<String> {
        let answer = decode_response(bytes, &REPLY_LIMITS).map_err(|e| to_js(&e))?;
        let applied = !answer.reset || allow_reset;
        if applied {
            self.engine.apply_response(&answer).map_err(|e| to_js(&e))?;
        }
        Ok(serde_json::json!({
            "applied": applied,
            "reset": answer.reset,
            "epoch": answer.epoch,
            "more": answer.more,
            "refused": answer.rejected.len(),
            "received": answer.docs.iter().filter(|d| !d.changes.is_empty()).count(),
        })
        .to_string())
    }

    // --- files -------------------------------------------------------------------------------

    /// Adds every document of another saved state (an exported file) of the same dataset and
    /// epoch to this one (`ClientEngine::merge_engine`): what it had not sent goes with the next
    /// sync, and nothing made here since is lost. Returns how many documents were new here.
    #[wasm_bindgen(js_name = importState)]
    pub fn import_state(&mut self, bytes: &[u8]) -> JsResult<u32> {
        let other = ClientEngine::load(bytes).map_err(|e| to_js(&e))?;
        let added = self.engine.merge_engine(other).map_err(|e| to_js(&e))?;
        Ok(u32::try_from(added).unwrap_or(u32::MAX))
    }
}

impl SurveyClient {
    fn response_form(&mut self, id: Uuid) -> JsResult<Form> {
        let view = self.engine.response(id).map_err(|e| to_js(&e))?;
        self.engine
            .form(&view.form, Some(view.form_version))
            .map_err(|e| to_js(&e))
    }

    /// The engine itself, for native tests of this wrapper.
    pub fn engine_mut(&mut self) -> &mut ClientEngine {
        &mut self.engine
    }
}

fn parse_edit(form: &Form, edit_json: &str) -> JsResult<ResponseEdit> {
    let value: serde_json::Value =
        serde_json::from_str(edit_json).map_err(|e| bad_input(format!("edit is not JSON: {e}")))?;
    ResponseEdit::from_json(form, &value).map_err(|e| to_js(&e))
}

fn parse_id(text: &str) -> JsResult<Uuid> {
    Uuid::parse_str(text).map_err(|_| bad_input(format!("{:?} is not a document id", truncate(text))))
}

/// A JS number that must be a whole number JS represents exactly.
fn parse_whole(what: &str, number: f64) -> JsResult<u64> {
    if number.fract() == 0.0 && (0.0..=9.007_199_254_740_991e15).contains(&number) {
        Ok(number as u64)
    } else {
        Err(bad_input(format!("{what} must be a whole number")))
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

#[cfg(test)]
mod tests;
