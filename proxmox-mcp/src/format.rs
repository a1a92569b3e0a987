//! Text rendering shared by the tools: sizes, percentages, durations, status dots, fields.

use serde_json::Value;
use std::fmt::Write;

/// `1.5 GiB`
pub fn bytes(n: impl Into<f64>) -> String {
    let mut v: f64 = n.into();
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{v:.0} B") } else { format!("{v:.2} {}", UNITS[unit]) }
}

/// `12.5%` of a fraction (Proxmox reports CPU as 0.125).
pub fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// `used / total (p%)`
pub fn usage(used: Option<u64>, total: Option<u64>) -> String {
    match (used, total) {
        (Some(u), Some(t)) if t > 0 => {
            format!("{} / {} ({})", bytes(u as f64), bytes(t as f64), percent(u as f64 / t as f64))
        }
        (Some(u), _) => bytes(u as f64),
        _ => "N/A".to_string(),
    }
}

/// `3d 4h 5m`
pub fn uptime(seconds: u64) -> String {
    let (d, h, m) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h {m}m"),
    }
}

/// 🟢 for running/online/active, 🔴 for stopped/offline, 🟡 otherwise.
pub fn dot(status: &str) -> &'static str {
    match status {
        "running" | "online" | "active" | "ok" | "OK" => "🟢",
        "stopped" | "offline" | "inactive" | "error" | "dead" => "🔴",
        _ => "🟡",
    }
}

/// A JSON value shown inline: strings bare, numbers and booleans as written, `N/A` for null.
pub fn value(v: &Value) -> String {
    match v {
        Value::Null => "N/A".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        other => other.to_string(),
    }
}

/// A Proxmox boolean: `true`/`false`, `1`/`0` or `"1"`/`"0"` (the API sends integers).
pub fn flag(obj: &Value, key: &str) -> Option<bool> {
    match obj.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => Some(n.as_f64() != Some(0.0)),
        Value::String(s) => Some(!matches!(s.as_str(), "" | "0" | "false")),
        _ => None,
    }
}

/// A Proxmox boolean, whichever way it came (`true`, `1`, `"1"`, `"true"`); `None` when absent
/// or anything else. Stricter than [`flag`]: other strings are not true.
pub fn truthy(v: Option<&Value>) -> Option<bool> {
    let v = v?;
    v.as_bool().or_else(|| v.as_u64().map(|n| n != 0)).or_else(|| v.as_str().map(|s| s == "1" || s == "true"))
}

pub fn u64_field(obj: &Value, key: &str) -> Option<u64> {
    obj.get(key).and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f as u64)).or_else(|| v.as_str()?.parse().ok()))
}

pub fn f64_field(obj: &Value, key: &str) -> Option<f64> {
    obj.get(key).and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
}

pub fn str_field<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

/// A titled block of `• key: value` lines; absent values are left out.
#[derive(Default)]
pub struct Block {
    text: String,
}

impl Block {
    pub fn new(title: impl std::fmt::Display) -> Self {
        Block { text: format!("{title}\n") }
    }
    /// `• label: value`
    pub fn line(mut self, label: &str, value: impl std::fmt::Display) -> Self {
        let _ = writeln!(self.text, "• {label}: {value}");
        self
    }
    /// `• label: value`, only if there is a value.
    pub fn opt(self, label: &str, value: Option<impl std::fmt::Display>) -> Self {
        match value {
            Some(v) => self.line(label, v),
            None => self,
        }
    }
    /// A free line.
    pub fn raw(mut self, line: impl std::fmt::Display) -> Self {
        let _ = writeln!(self.text, "{line}");
        self
    }
    pub fn finish(self) -> String {
        self.text.trim_end().to_string()
    }
}

/// `2024-01-31 12:00:00 UTC` for a Unix time in seconds (Proxmox's `ctime`, `snaptime`, `starttime`).
pub fn timestamp(secs: u64) -> String {
    utc(i64::try_from(secs).unwrap_or(i64::MAX / 2))
}

/// `2026-01-02 03:04:05 UTC` from seconds since the Unix epoch.
pub fn utc(epoch_secs: i64) -> String {
    let (date, secs) = civil(epoch_secs);
    format!("{date} {:02}:{:02}:{:02} UTC", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// `2026-01-02 03:04 UTC` from seconds since the Unix epoch (for schedules: no seconds).
pub fn utc_minutes(epoch_secs: i64) -> String {
    let (date, secs) = civil(epoch_secs);
    format!("{date} {:02}:{:02} UTC", secs / 3600, secs % 3600 / 60)
}

/// `2026-01-02T03:04:05.678Z` from seconds since the Unix epoch and milliseconds.
pub fn rfc3339(epoch_secs: i64, millis: u32) -> String {
    let (date, secs) = civil(epoch_secs);
    format!("{date}T{:02}:{:02}:{:02}.{millis:03}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// The date (`2026-01-02`) and the seconds into that day of a Unix time.
fn civil(epoch_secs: i64) -> (String, i64) {
    let (days, secs) = (epoch_secs.div_euclid(86_400), epoch_secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (format!("{year:04}-{month:02}-{day:02}"), secs)
}

/// Standard base64 (RFC 4648, with padding).
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders() {
        assert_eq!(bytes(512u32), "512 B");
        assert_eq!(bytes(1536u32), "1.50 KiB");
        assert_eq!(percent(0.125), "12.5%");
        assert_eq!(uptime(90_061), "1d 1h 1m");
        assert_eq!(uptime(59), "0m");
        assert_eq!(usage(Some(1), Some(4)), "1 B / 4 B (25.0%)");
        assert_eq!(usage(None, Some(4)), "N/A");
        let v = serde_json::json!({ "a": 1, "b": false, "c": "0", "d": true });
        assert_eq!(
            (flag(&v, "a"), flag(&v, "b"), flag(&v, "c"), flag(&v, "d"), flag(&v, "e")),
            (Some(true), Some(false), Some(false), Some(true), None)
        );
        assert_eq!(Block::new("T").line("a", 1).opt("b", None::<u8>).finish(), "T\n• a: 1");
    }

    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(super::utc(1_767_225_599), "2025-12-31 23:59:59 UTC");
        assert_eq!(super::utc(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn utc_minute_dates() {
        assert_eq!(super::utc_minutes(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::utc_minutes(1_764_057_600), "2025-11-25 08:00 UTC");
        assert_eq!(super::utc_minutes(951_782_400), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn timestamps_and_base64() {
        assert_eq!(timestamp(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(timestamp(1_710_238_272), "2024-03-12 10:11:12 UTC");
        assert_eq!(timestamp(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"/etc/hostname"), "L2V0Yy9ob3N0bmFtZQ==");
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }
}

/// Whether `text` matches `pattern`: exactly, or as a glob where `*` is any run of characters
/// and `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Iterative matching with one backtrack point (the last `*`): linear in practice.
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod glob_tests {
    #[test]
    fn globs() {
        use super::glob_match as m;
        assert!(m("web", "web") && !m("web", "web-1"));
        assert!(m("web-*", "web-1") && m("web-*", "web-") && !m("web-*", "db-1"));
        assert!(m("*-?", "db-1") && !m("*-?", "db-12"));
        assert!(m("*", "") && m("a*b*c", "aXbYc") && !m("a*b*c", "aXbY"));
    }
}

/// The first `max` bytes of a text, on a character boundary.
pub fn cut(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` cut to at most `max` bytes at a character boundary, with `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    format!("{}…", cut(text, max.saturating_sub('…'.len_utf8())))
}
