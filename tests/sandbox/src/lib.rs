//! sandbox (scaffold)
