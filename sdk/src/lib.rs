//! SDK (scaffold)
