//! Small HTML helpers for CRM notes and threads that accept HTML: escaping
//! untrusted text (names, comments, message bodies) and links.
//!
//! ```
//! use switchboard_sdk::html;
//! assert_eq!(html::escape("<b>Tom & \"Jerry\"</b>"), "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;");
//! assert_eq!(html::link("https://x.test/?a=1&b=2", "rec"), "<a href=\"https://x.test/?a=1&amp;b=2\">rec</a>");
//! assert_eq!(html::link("javascript:alert(1)", "x"), "x");
//! ```

/// Escape text for an HTML body or attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text as HTML with line breaks kept.
pub fn paragraphs(text: &str) -> String {
    escape(text.trim()).replace("\r\n", "\n").replace('\n', "<br>")
}

/// `<a href="url">label</a>` for `http(s)` URLs; other schemes give the escaped label only.
pub fn link(url: &str, label: &str) -> String {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        format!("<a href=\"{}\">{}</a>", escape(url), escape(label))
    } else {
        escape(label)
    }
}
