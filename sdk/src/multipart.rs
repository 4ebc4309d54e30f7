//! `multipart/form-data` bodies for file uploads (RFC 7578).
//!
//! ```
//! use switchboard_sdk::multipart::Form;
//! let form = Form::new("boundary-1").file("photo.jpg", "photo.jpg", "image/jpeg", b"...");
//! assert_eq!(form.content_type(), "multipart/form-data; boundary=boundary-1");
//! assert!(String::from_utf8_lossy(&form.finish()).contains("filename=\"photo.jpg\""));
//! ```

/// A form being built.
pub struct Form {
    boundary: String,
    body: Vec<u8>,
}

/// Quotes a header parameter value: no CR/LF, `"` and `\` escaped.
fn quoted(v: &str) -> String {
    v.chars()
        .filter(|c| *c != '\r' && *c != '\n')
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

impl Form {
    /// A form with this boundary (letters, digits, `-` and `_`; anything else is dropped).
    pub fn new(boundary: &str) -> Form {
        let boundary: String = boundary.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').take(70).collect();
        Form { boundary: if boundary.is_empty() { "switchboard-boundary".into() } else { boundary }, body: Vec::new() }
    }

    /// Add a file field.
    pub fn file(mut self, field: &str, file_name: &str, content_type: &str, data: &[u8]) -> Form {
        let ct: String = content_type.chars().filter(|c| !c.is_control()).collect();
        self.body.extend_from_slice(
            format!(
                "--{}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                self.boundary,
                quoted(field),
                quoted(file_name),
                if ct.is_empty() { "application/octet-stream" } else { &ct }
            )
            .as_bytes(),
        );
        self.body.extend_from_slice(data);
        self.body.extend_from_slice(b"\r\n");
        self
    }

    /// Add a text field.
    pub fn text(mut self, field: &str, value: &str) -> Form {
        self.body.extend_from_slice(
            format!("--{}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{}\r\n", self.boundary, quoted(field), value).as_bytes(),
        );
        self
    }

    /// The `Content-Type` header value.
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// Closes the form and returns the whole body, to send with
    /// [`content_type`](Self::content_type) as its `Content-Type`.
    pub fn finish(mut self) -> Vec<u8> {
        self.body.extend_from_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        self.body
    }
}
