//! Writes that must happen once, whatever crashes and lost answers do.
//!
//! The host replays every effect a job already performed, so a plain retry
//! never writes twice. What it cannot know is whether a write whose answer
//! never came (the host crashed mid-request, the connection dropped) landed:
//! it then says [`CapabilityError::Ambiguous`]. [`write_once`] answers that the
//! only safe way: look for the record, and write again only if it is not
//! there. The look-up and a new write are new effects, so a crash during them
//! is met the same way on the next attempt; it gives up (retryable) after a
//! few rounds rather than loop.
//!
//! ```ignore
//! // `Ok(request?.send())`: building the request may fail (the outer error);
//! // `send` says what the host made of the write (the inner one).
//! if let Some(resp) = once::write_once(
//!     || Ok(http::post(&url).credential("api").json(&note)?.send()),
//!     || Ok(find_by_external_id(base, &note.external_id)?.is_some()),
//! )? {
//!     resp.error_for_status()?;
//! }
//! ```

use crate::{CapabilityError, PluginError};

/// Rounds of write → ambiguous → look-up before giving up for this attempt.
const ROUNDS: usize = 3;

/// Performs `write`; when it is ambiguous, `exists` decides whether it landed
/// (then `None`: done by an earlier attempt) or must be written again.
/// `write` fails outright (outer error) when it cannot even be sent.
pub fn write_once<T>(
    mut write: impl FnMut() -> Result<Result<T, CapabilityError>, PluginError>,
    mut exists: impl FnMut() -> Result<bool, PluginError>,
) -> Result<Option<T>, PluginError> {
    for _ in 0..ROUNDS {
        match write()? {
            Ok(v) => return Ok(Some(v)),
            Err(CapabilityError::Ambiguous(_)) => {
                if exists()? {
                    return Ok(None);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(PluginError::Retryable("a write stayed ambiguous after repeated look-ups; trying again later".into()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn an_ambiguous_write_that_landed_is_not_repeated() {
        let writes = RefCell::new(0);
        let out = write_once(
            || {
                *writes.borrow_mut() += 1;
                Ok(Err::<(), _>(CapabilityError::Ambiguous("lost".into())))
            },
            || Ok(true),
        )
        .unwrap();
        assert!(out.is_none());
        assert_eq!(*writes.borrow(), 1);
    }

    #[test]
    fn an_ambiguous_write_that_did_not_land_is_written_again_even_twice() {
        let answers =
            RefCell::new(vec![Ok(7), Err(CapabilityError::Ambiguous("again".into())), Err(CapabilityError::Ambiguous("lost".into()))]);
        let out = write_once(|| Ok(answers.borrow_mut().pop().unwrap()), || Ok(false)).unwrap();
        assert_eq!(out, Some(7));
        assert!(answers.borrow().is_empty(), "three writes: ambiguous, ambiguous, done");
    }

    #[test]
    fn other_errors_pass_through_and_endless_ambiguity_gives_up_retryable() {
        let e = write_once(|| Ok(Err::<(), _>(CapabilityError::Denied("no".into()))), || Ok(false)).unwrap_err();
        assert!(matches!(e, PluginError::Permanent(m) if m.contains("denied")));
        let e = write_once(|| Ok(Err::<(), _>(CapabilityError::Ambiguous("x".into()))), || Ok(false)).unwrap_err();
        assert!(matches!(e, PluginError::Retryable(_)));
    }
}
