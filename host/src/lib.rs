//! switchboard host (scaffold)
