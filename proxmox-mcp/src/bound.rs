//! Every result stays small, whatever the cluster's size: its text and its `structuredContent`
//! are each held to a byte budget (32 KiB by default, `PROXMOX_MAX_RESULT_KB`), at every depth.
//!
//! A text past it is cut at a line; data past it loses the tail of its longest lists (wherever
//! they are nested) and then of its longest strings, until it fits. What was cut is said in
//! both: in the text, and in the data's `cut` (each list or string, with how much is shown of
//! how much), with the way to get the rest: the tool's `limit`/`offset` or filters.

use serde_json::{Map, Value};

/// The default budget of a result's text and of its data, each.
pub const DEFAULT_MAX_RESULT: usize = 32 * 1024;
/// The smallest budget that can be set: room for a headline, the summary and the cut notes.
pub const MIN_MAX_RESULT: usize = 4 * 1024;

/// What is said after a cut.
const HOW_TO_GET_MORE: &str = "narrow the call (its filters, `limit`/`offset`, a smaller range) to see the rest";

/// Hold `text` and `data` to `max` bytes each (see the module documentation).
pub fn bound(text: &mut String, data: &mut Value, max: usize) {
    let max = max.max(MIN_MAX_RESULT);
    let mut cuts: Vec<Value> = Vec::new();
    let mut size = serialized_len(data);
    // Once anything is cut, room is kept for saying what was.
    let budget = if size > max { max.saturating_sub(1024) } else { max };
    // Each round shortens the longest list (or, with no list left to cut, the longest string).
    let mut rounds = 0;
    while size > budget && rounds < 200 {
        rounds += 1;
        let Some((path, _)) = longest(data, "", true).or_else(|| longest(data, "", false)) else { break };
        let Some(target) = data.pointer_mut(&path) else { break };
        let cut = match target {
            Value::Array(items) => {
                let total = items.len();
                let keep = if size / 2 > budget { total / 4 } else { total * budget / size.max(1) }
                    .min(total.saturating_sub(1));
                items.truncate(keep);
                (total, keep, "items")
            }
            Value::String(s) => {
                let total = s.len();
                let keep = crate::format::cut(s, (total * budget / size.max(1)).min(total / 2)).len();
                s.truncate(keep);
                (total, keep, "bytes")
            }
            _ => break,
        };
        record(&mut cuts, &path, cut);
        size = serialized_len(data);
    }
    if size > budget {
        // Nothing left that can be shortened: the data goes, its size is said.
        *data = serde_json::json!({ "cut": { "all": format!("the data was {size} bytes") } });
    }
    let mut notes = String::new();
    if !cuts.is_empty() {
        let said: Vec<String> = cuts
            .iter()
            .map(|c| {
                format!(
                    "{} ({} of {} {})",
                    c["at"].as_str().unwrap_or("?"),
                    c["shown"],
                    c["total"],
                    c["unit"].as_str().unwrap_or("")
                )
            })
            .collect();
        if let Value::Object(map) = data {
            map.insert("cut".into(), Value::Array(cuts));
            map.insert("cut_note".into(), Value::String(format!("Cut to fit {max} bytes: {HOW_TO_GET_MORE}.")));
        }
        notes = format!("\n\n✂️ Data cut to fit {} KiB: {}; {HOW_TO_GET_MORE}.", max / 1024, said.join(", "));
    }
    // The text keeps room for the notes, which come last.
    let room = max.saturating_sub(notes.len() + 200).max(max / 2);
    if text.len() > room {
        let total = text.len();
        let mut cut = crate::format::cut(text, room).len();
        // At a line, so no line is shown half.
        if let Some(nl) = text[..cut].rfind('\n') {
            cut = nl;
        }
        text.truncate(cut);
        text.push_str(&format!("\n\n✂️ Text cut at {cut} of {total} bytes: {HOW_TO_GET_MORE}."));
    }
    text.push_str(&notes);
}

/// One cut, merged with an earlier one of the same place.
fn record(cuts: &mut Vec<Value>, path: &str, (total, shown, unit): (usize, usize, &str)) {
    let at = if path.is_empty() { "(all)".to_string() } else { path.trim_start_matches('/').replace('/', ".") };
    if let Some(c) = cuts.iter_mut().find(|c| c["at"] == at.as_str()) {
        c["shown"] = shown.into();
        return;
    }
    let mut c = Map::new();
    c.insert("at".into(), at.into());
    c.insert("shown".into(), shown.into());
    c.insert("total".into(), total.into());
    c.insert("unit".into(), unit.into());
    cuts.push(Value::Object(c));
}

/// The JSON pointer and serialized size of the largest list (`lists`) or string in `v` that
/// can still be shortened.
fn longest(v: &Value, path: &str, lists: bool) -> Option<(String, usize)> {
    let mut best: Option<(String, usize)> = None;
    let mut consider = |p: String, n: usize| {
        if best.as_ref().is_none_or(|(_, b)| n > *b) {
            best = Some((p, n));
        }
    };
    match v {
        Value::Array(items) => {
            if lists && !items.is_empty() {
                consider(path.to_string(), serialized_len(v));
            }
            for (i, item) in items.iter().enumerate() {
                if let Some((p, n)) = longest(item, &format!("{path}/{i}"), lists) {
                    consider(p, n);
                }
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                // Our own notes are not cut.
                if path.is_empty() && (k == "message" || k == "cut" || k == "cut_note") {
                    continue;
                }
                let key = k.replace('~', "~0").replace('/', "~1");
                if let Some((p, n)) = longest(item, &format!("{path}/{key}"), lists) {
                    consider(p, n);
                }
            }
        }
        Value::String(s) if !lists && s.len() > 64 => consider(path.to_string(), s.len()),
        _ => {}
    }
    best
}

fn serialized_len(v: &Value) -> usize {
    serde_json::to_vec(v).map_or(0, |b| b.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_long_nested_list_is_cut_and_said() {
        let items: Vec<Value> = (0..5000).map(|i| json!({ "vmid": i, "name": format!("guest-{i}") })).collect();
        let mut data = json!({ "summary": { "total": 5000 }, "page": { "guests": items } });
        let mut text = "headline".to_string();
        bound(&mut text, &mut data, 8 * 1024);
        assert!(serialized_len(&data) <= 8 * 1024, "{}", serialized_len(&data));
        assert_eq!(data["summary"]["total"], 5000);
        assert_eq!(data["cut"][0]["at"], "page.guests");
        assert_eq!(data["cut"][0]["total"], 5000);
        let shown = data["page"]["guests"].as_array().unwrap().len();
        assert_eq!(data["cut"][0]["shown"], shown);
        assert!(shown > 10, "{shown}");
        assert!(text.contains("page.guests"), "{text}");
    }

    #[test]
    fn a_long_string_and_a_long_text_are_cut() {
        let mut data = json!({ "log": "x".repeat(100_000) });
        let mut text = "line\n".repeat(20_000);
        bound(&mut text, &mut data, 4096);
        assert!(serialized_len(&data) <= 4096);
        assert!(text.len() <= 4096, "{}", text.len());
        assert!(text.ends_with("to see the rest."), "{text}");
        assert_eq!(data["cut"][0]["unit"], "bytes");
    }

    #[test]
    fn small_results_are_left_alone() {
        let mut data = json!({ "a": [1, 2, 3] });
        let mut text = "ok".to_string();
        bound(&mut text, &mut data, DEFAULT_MAX_RESULT);
        assert_eq!(data, json!({ "a": [1, 2, 3] }));
        assert_eq!(text, "ok");
    }
}
