//! Turning AI payloads (JSON whose shape varies by kind) into readable HTML:
//! voice-agent intake answers, transcriptions, summaries, topics, sentiments,
//! action items. Unknown shapes fall back to escaped, indented JSON.

use serde_json::Value;
use switchboard_sdk::html::{escape, paragraphs};

/// A scalar as text.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The first present text field of an object.
fn field<'a>(o: &'a serde_json::Map<String, Value>, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| o.get(*n).and_then(Value::as_str)).map(str::trim).filter(|s| !s.is_empty())
}

/// Readable HTML for an AI payload.
pub fn render(json: &str) -> String {
    let v: Value = match serde_json::from_str(json) {
        Ok(v) => v,
        Err(_) => return paragraphs(json),
    };
    render_value(&v, 0)
}

fn render_value(v: &Value, depth: usize) -> String {
    if depth > 4 {
        return escape(&v.to_string());
    }
    if let Some(s) = scalar(v) {
        return paragraphs(&s);
    }
    match v {
        Value::Array(items) if items.is_empty() => String::new(),
        Value::Array(items) => {
            let lines: Vec<String> = items.iter().map(|i| format!("<li>{}</li>", render_item(i, depth))).collect();
            format!("<ul>{}</ul>", lines.concat())
        }
        Value::Object(o) => {
            // Wrappers: {"content": …}, {"utterances": […]}, {"text": "…"}.
            for key in ["utterances", "content", "items", "answers", "data"] {
                if let Some(inner) = o.get(key).filter(|x| !x.is_null())
                    && o.len() <= 3
                {
                    return render_value(inner, depth + 1);
                }
            }
            if let Some(t) = field(o, &["text", "summary", "value"])
                && o.len() <= 2
            {
                return paragraphs(t);
            }
            let lines: Vec<String> = o
                .iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| format!("<li><b>{}</b>: {}</li>", escape(&k.replace('_', " ")), render_item(x, depth)))
                .collect();
            format!("<ul>{}</ul>", lines.concat())
        }
        _ => String::new(),
    }
}

/// One list item: a speaker line, a question/answer pair, or a value.
fn render_item(v: &Value, depth: usize) -> String {
    if let Value::Object(o) = v {
        let speaker = field(o, &["speaker", "participant_type", "participant", "role", "name"]);
        let text = field(o, &["text", "sentence", "content", "value", "answer", "label", "topic"]);
        let question = field(o, &["question", "title", "key"]);
        match (question, speaker, text) {
            (Some(q), _, Some(a)) => return format!("<b>{}</b>: {}", escape(q), paragraphs(a)),
            (None, Some(s), Some(t)) => return format!("<b>{}</b>: {}", escape(s), paragraphs(t)),
            (None, None, Some(t)) if o.len() <= 2 => return paragraphs(t),
            _ => {}
        }
    }
    render_value(v, depth + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(render(r#""Hello <b>""#), "Hello &lt;b&gt;");
        assert_eq!(
            render(r#"{"order_number":"A12","reason":"refund"}"#),
            "<ul><li><b>order number</b>: A12</li><li><b>reason</b>: refund</li></ul>"
        );
        assert_eq!(
            render(r#"{"utterances":[{"speaker":"agent","text":"Hi"},{"speaker":"customer","text":"Hello"}]}"#),
            "<ul><li><b>agent</b>: Hi</li><li><b>customer</b>: Hello</li></ul>"
        );
        assert_eq!(render(r#"[{"question":"Name?","answer":"Chloé"}]"#), "<ul><li><b>Name?</b>: Chloé</li></ul>");
        assert_eq!(render("not json"), "not json");
    }
}
