//! Redis-backed rate limiting shared by every component (owned by H5; stub until filled).
