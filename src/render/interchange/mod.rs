//! Timeline interchange (being built).
