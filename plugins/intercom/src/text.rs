//! The words that land in Intercom: the contact's first message of a call or
//! SMS (plain text, Intercom rejects HTML there) and the internal notes (a
//! little HTML). Everything that comes from outside is escaped.

/// Escapes text for an HTML note.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

/// A link, only for `http(s)` URLs (anything else is shown as text).
pub fn link(url: &str, text: &str) -> String {
    let url = url.trim();
    if url.starts_with("https://") || url.starts_with("http://") {
        format!("<a href=\"{}\">{}</a>", esc(url), esc(text))
    } else {
        esc(text)
    }
}

/// `3 min 05 s`, `12 s`, `1 h 02 min`.
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec} s"),
        (0, min, sec) => format!("{min} min {sec:02} s"),
        (h, min, _) => format!("{h} h {min:02} min"),
    }
}

/// A note: a bold heading, then `label: value` lines (values already HTML).
pub fn note(heading: &str, lines: &[(&str, String)]) -> String {
    let mut html = format!("<p><b>{}</b></p><p>", esc(heading));
    let body: Vec<String> = lines.iter().map(|(label, value)| format!("{}: {value}", esc(label))).collect();
    html.push_str(&body.join("<br>"));
    html.push_str("</p>");
    html
}

/// A bulleted list note (the call's comments).
pub fn list_note(heading: &str, items: &[String]) -> String {
    let lis: String = items.iter().map(|i| format!("<li>{}</li>", esc(i))).collect();
    format!("<p><b>{}</b></p><ul>{lis}</ul>", esc(heading))
}

/// An Aircall line as people read it: `Support FR (+33 1 23 45 67 89)`.
pub fn line(name: Option<&str>, digits: Option<&str>) -> String {
    match (name.map(str::trim).filter(|n| !n.is_empty()), digits.map(str::trim).filter(|d| !d.is_empty())) {
        (Some(n), Some(d)) => format!("{n} ({d})"),
        (Some(n), None) => n.to_string(),
        (None, Some(d)) => d.to_string(),
        (None, None) => "unknown line".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_escaped_and_only_web_links_are_linked() {
        assert_eq!(esc("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;");
        assert_eq!(link("javascript:alert(1)", "x"), "x");
        assert_eq!(link("https://a.example/?q=\"x\"", "rec"), "<a href=\"https://a.example/?q=&quot;x&quot;\">rec</a>");
    }

    #[test]
    fn durations_read_like_a_person_wrote_them() {
        assert_eq!(duration(12), "12 s");
        assert_eq!(duration(185), "3 min 05 s");
        assert_eq!(duration(3720), "1 h 02 min");
        assert_eq!(duration(-5), "0 s");
    }
}
