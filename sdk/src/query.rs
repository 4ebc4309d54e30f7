//! URL query strings: encode a value for a request, read a parameter of a
//! request the host routed to the plugin (`handle-request`).

/// Percent-encodes a query value (RFC 3986 unreserved characters pass as they are).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space;
/// a malformed `%` escape is kept as it is).
pub fn decode(component: &str) -> String {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 2;
            }
            (other, _) => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first value of parameter `name` in `query` (without the `?`), decoded.
pub fn param(query: &str, name: &str) -> Option<String> {
    query.split('&').map(|pair| pair.split_once('=').unwrap_or((pair, ""))).find(|(k, _)| decode(k) == name).map(|(_, v)| decode(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let raw = "a+b@x.io/é 1&2=3";
        assert_eq!(encode("a+b@x.io"), "a%2Bb%40x.io");
        assert_eq!(decode(&encode(raw)), raw);
        assert_eq!(decode("+33%206"), " 33 6", "`+` is a space in a form component");
        assert_eq!(decode("100%"), "100%", "a broken escape is kept");
    }

    #[test]
    fn parameters_are_found_and_decoded() {
        let q = "to=tel%3A06%2012%2034&agent=ada%40example.com&empty=&flag";
        assert_eq!(param(q, "to").as_deref(), Some("tel:06 12 34"));
        assert_eq!(param(q, "agent").as_deref(), Some("ada@example.com"));
        assert_eq!(param(q, "empty").as_deref(), Some(""));
        assert_eq!(param(q, "flag").as_deref(), Some(""));
        assert_eq!(param(q, "missing"), None);
    }
}
