//! Phone engine (scaffold)
