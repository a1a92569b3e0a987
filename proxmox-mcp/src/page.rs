//! Paging for list tools: the `limit` and `offset` arguments, the page they cut from a list,
//! and what a result says about it.
//!
//! A list tool takes `#[flatten] page: Page` (or `#[serde(flatten)]` inside its own flattened
//! struct), cuts its full, sorted list with [`Page::cut`], and builds its result from the
//! [`Paged`] it gets back. The text says which part is shown and how to get the next one
//! ([`Paged::lines`]). The data holds the items plus `total`, `offset` and `next_offset`
//! ([`Paged::data`]), so an agent never has to guess whether it has seen everything.
//!
//! ```
//! use proxmox_mcp::page::Page;
//! let page: Page = serde_json::from_value(serde_json::json!({ "limit": 2, "offset": 1 })).unwrap();
//! let paged = page.cut(vec!["a", "b", "c", "d"]);
//! assert_eq!((paged.items.as_slice(), paged.total, paged.next_offset), (&["b", "c"][..], 4, Some(3)));
//! let text = paged.lines(|s| format!("• {s}"));
//! assert!(text.contains("Showing 2 to 3 of 4.") && text.contains("1 more: call again with offset 3."));
//! ```

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// How many items a list tool shows when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 100;

/// The paging arguments of a list tool.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// How many items to show (default 100). The result's `total` counts them all.
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<u32>,
    /// Skip this many items first: the `next_offset` of the page before (default 0).
    pub offset: Option<u32>,
}

/// One page of a list: its items and where they are in the whole.
#[derive(Clone, Debug, PartialEq)]
pub struct Paged<T> {
    /// The items shown.
    pub items: Vec<T>,
    /// How many items the list had in all.
    pub total: usize,
    /// How many were skipped before the first shown.
    pub offset: usize,
    /// The `offset` that shows the next page, if anything is left.
    pub next_offset: Option<usize>,
}

impl Page {
    /// The page of `items` (already filtered and sorted) these arguments ask for.
    pub fn cut<T>(&self, items: Vec<T>) -> Paged<T> {
        let total = items.len();
        let offset = self.offset.map_or(0, |o| o as usize);
        let limit = self.limit.map_or(DEFAULT_LIMIT, |l| l as usize);
        let items: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
        let end = offset.saturating_add(items.len());
        Paged { next_offset: (end < total).then_some(end), items, total, offset }
    }
}

impl<T> Paged<T> {
    /// Whether the page holds the whole list.
    pub fn is_whole(&self) -> bool {
        self.offset == 0 && self.items.len() == self.total
    }

    /// The items as text, one `line` each (each starts on a new line), preceded by which part
    /// of the list they are when not all of it, and followed by how to get the rest.
    pub fn lines(&self, line: impl Fn(&T) -> String) -> String {
        let mut text = String::new();
        if self.items.is_empty() && self.total > 0 {
            text.push_str(&format!("\nNothing from offset {}: the list has {}.", self.offset, self.total));
        } else if !self.is_whole() {
            text.push_str(&format!(
                "\nShowing {} to {} of {}.",
                self.offset + 1,
                self.offset + self.items.len(),
                self.total
            ));
        }
        for item in &self.items {
            text.push('\n');
            text.push_str(&line(item));
        }
        if let Some(next) = self.next_offset {
            text.push_str(&format!("\n\n▶️ {} more: call again with offset {next}.", self.total - next));
        }
        text
    }
}

impl<T: Serialize> Paged<T> {
    /// The data of the page: the items under `key`, and `total`, `offset`, `next_offset`.
    /// A tool adds its own fields to the map.
    pub fn data(&self, key: &str) -> Map<String, Value> {
        let mut data = Map::new();
        data.insert(key.into(), serde_json::to_value(&self.items).unwrap_or(Value::Null));
        data.insert("total".into(), self.total.into());
        data.insert("offset".into(), self.offset.into());
        data.insert("next_offset".into(), json!(self.next_offset));
        data
    }
}

/// Counts of `items` by the string value of each of `keys` (a missing value counts as
/// `unknown`): `{"by_<key>": {"value": count}}`, what a long list leads with.
pub fn counts(items: &[Value], keys: &[&str]) -> Map<String, Value> {
    keys.iter()
        .map(|key| {
            let mut by = BTreeMap::<&str, u64>::new();
            for item in items {
                *by.entry(item.get(*key).and_then(Value::as_str).unwrap_or("unknown")).or_default() += 1;
            }
            (format!("by_{key}"), json!(by))
        })
        .collect()
}

/// The counts of [`counts`] for `keys`, in that order, as one line:
/// `By status: running 4, stopped 2. By node: …`.
pub fn counts_line(counts: &Map<String, Value>, keys: &[&str]) -> String {
    keys.iter()
        .map(|key| {
            let by = counts.get(&format!("by_{key}")).and_then(Value::as_object);
            let values = by.map(|m| m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>());
            format!("By {key}: {}.", values.unwrap_or_default().join(", "))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(limit: Option<u32>, offset: Option<u32>) -> Page {
        Page { limit, offset }
    }

    #[test]
    fn the_default_page_is_the_first_hundred() {
        let paged = Page::default().cut((0..250).collect());
        assert_eq!((paged.items.len(), paged.items[0], paged.total, paged.next_offset), (100, 0, 250, Some(100)));
        let last = page(None, Some(200)).cut((0..250).collect::<Vec<_>>());
        assert_eq!((last.items.len(), last.next_offset), (50, None));
    }

    #[test]
    fn a_whole_list_says_nothing_of_paging() {
        let paged = page(Some(10), None).cut(vec![1, 2]);
        assert!(paged.is_whole());
        assert_eq!(paged.lines(|i| format!("• {i}")), "\n• 1\n• 2");
        let data = paged.data("items");
        assert_eq!((data["total"].clone(), data["next_offset"].clone()), (json!(2), Value::Null));
    }

    #[test]
    fn an_offset_past_the_end_says_how_long_the_list_is() {
        let paged = page(None, Some(u32::MAX)).cut(vec![1, 2, 3]);
        assert!(paged.items.is_empty() && paged.next_offset.is_none());
        assert_eq!(paged.lines(|i| i.to_string()), format!("\nNothing from offset {}: the list has 3.", u32::MAX));
    }

    #[test]
    fn counts_group_by_each_key() {
        let items =
            [json!({"status": "running", "node": "a"}), json!({"status": "stopped"}), json!({"status": "running"})];
        let c = counts(&items, &["status", "node"]);
        assert_eq!(c["by_status"], json!({"running": 2, "stopped": 1}));
        assert_eq!(c["by_node"], json!({"a": 1, "unknown": 2}));
        assert_eq!(counts_line(&c, &["status", "node"]), "By status: running 2, stopped 1. By node: a 1, unknown 2.");
    }
}
