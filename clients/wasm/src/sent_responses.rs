//! What happens to responses once they are sent: withdrawing one (the respondent took their
//! answers back) and deleting them after send. Both live in sync-core's engine; this is their
//! JS face.

use wasm_bindgen::prelude::*;

use crate::{JsResult, SurveyClient, json_text, parse_id, to_js};

#[wasm_bindgen]
impl SurveyClient {
    /// Withdraws a response: deleted here at once; its id is kept until the app has told the
    /// server (`DELETE /v1/datasets/{dataset}/responses/{id}`) and calls
    /// [`SurveyClient::withdrawal_sent`].
    #[wasm_bindgen(js_name = withdrawResponse)]
    pub fn withdraw_response(&mut self, id: &str) -> JsResult<()> {
        self.engine.withdraw(parse_id(id)?).map_err(|e| to_js(&e))
    }

    /// Ids of withdrawn responses the server has yet to be told of, as a JSON array.
    #[wasm_bindgen(js_name = withdrawalsJson)]
    pub fn withdrawals_json(&self) -> String {
        json_text(self.engine.withdrawals())
    }

    /// The server answered a withdrawal with 200 (done) or 404 (it holds nothing of it).
    #[wasm_bindgen(js_name = withdrawalSent)]
    pub fn withdrawal_sent(&mut self, id: &str) -> JsResult<()> {
        self.engine.withdrawal_sent(parse_id(id)?);
        Ok(())
    }

    /// Whether finished responses are deleted once the server confirmed them: `undefined`
    /// until the app chose (from the dataset's mode, at enrollment).
    #[wasm_bindgen(js_name = deleteAfterSend)]
    pub fn delete_after_send(&self) -> Option<bool> {
        self.engine.delete_after_send()
    }

    /// Turning it on deletes at once every finished response the server already holds.
    #[wasm_bindgen(js_name = setDeleteAfterSend)]
    pub fn set_delete_after_send(&mut self, on: bool) {
        self.engine.set_delete_after_send(on);
    }

    /// How many responses were deleted after they were sent (since the last reset).
    #[wasm_bindgen(js_name = sentCount)]
    pub fn sent_count(&self) -> u32 {
        u32::try_from(self.engine.sent_count()).unwrap_or(u32::MAX)
    }
}
