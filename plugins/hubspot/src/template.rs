//! Record tokens in the message: `{{contact.firstname}}`, `{{ Deal.DealName }}`
//! (seed: "HubSpot-Datensatz-Token, z. B. {{Contact.FirstName}}"). Object and
//! property names are case-insensitive (HubSpot's internal names are lower
//! case); an unset property renders as nothing.
//!
//! [U] reference §3.16: whether HubSpot itself expands inline tokens in
//! custom-action text inputs is not confirmed, so the connector expands them
//! from the record's properties.

use std::collections::BTreeMap;

/// One `{{object.property}}`, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Token {
    /// `contact`, `deal`, …
    pub object: String,
    /// Internal property name.
    pub property: String,
}

/// A piece of a parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Token(Token),
}

/// A message with its tokens found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Template {
    /// Parse a message. `{{` without `}}` is plain text; `{{…}}` that is not
    /// `object.property` is an error naming it.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            let Some(close) = rest[open + 2..].find("}}") else {
                break;
            };
            let inner = &rest[open + 2..open + 2 + close];
            let token = inner.trim().split_once('.').filter(|(o, p)| is_name(o.trim()) && is_name(p.trim()));
            let Some((object, property)) = token else {
                return Err(format!("{{{{{inner}}}}} is not a record token such as {{{{contact.firstname}}}}"));
            };
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            parts.push(Part::Token(Token { object: object.trim().to_ascii_lowercase(), property: property.trim().to_ascii_lowercase() }));
            rest = &rest[open + 2 + close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// The distinct tokens, in order of first use.
    pub fn tokens(&self) -> Vec<&Token> {
        let mut out: Vec<&Token> = Vec::new();
        for p in &self.parts {
            if let Part::Token(t) = p
                && !out.contains(&t)
            {
                out.push(t);
            }
        }
        out
    }

    /// The properties used of one object type.
    pub fn properties_of(&self, object: &str) -> Vec<String> {
        self.tokens().into_iter().filter(|t| t.object == object).map(|t| t.property.clone()).collect()
    }

    /// The text with every token replaced by `values[object][property]` (or nothing).
    pub fn render(&self, values: &BTreeMap<String, BTreeMap<String, String>>) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.as_str(),
                Part::Token(t) => values.get(&t.object).and_then(|o| o.get(&t.property)).map(String::as_str).unwrap_or(""),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders() {
        let t = Template::parse("Hi {{Contact.FirstName}}, deal {{ deal.dealname }} {{contact.firstname}}! {{ no end")
            .unwrap_or(Template { parts: vec![] });
        assert_eq!(t.tokens().len(), 2);
        assert_eq!(t.properties_of("contact"), vec!["firstname".to_string()]);
        let mut values = BTreeMap::new();
        values.insert("contact".to_string(), BTreeMap::from([("firstname".to_string(), "Chloé".to_string())]));
        assert_eq!(t.render(&values), "Hi Chloé, deal  Chloé! {{ no end");
    }

    #[test]
    fn bad_tokens_are_named() {
        let err = Template::parse("Hi {{firstname}}").err().unwrap_or_default();
        assert!(err.contains("{{firstname}}"), "{err}");
        assert!(Template::parse("{{contact.first name}}").is_err());
    }
}
