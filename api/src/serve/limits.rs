//! The limits a server sets against slow or idle clients (see [`super`]).

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// Longest a client may take to send a request's head, counted from when the server
    /// starts waiting for it (so also how long an idle connection is kept).
    pub header_read_timeout: Duration,
    /// Longest pause between two pieces of a request body.
    pub body_read_timeout: Duration,
    /// Longest a whole request body may take, from when the app starts reading it.
    pub body_deadline: Duration,
    /// Bytes per second a body must average once [`Self::min_body_rate_grace`] has
    /// passed (0: no minimum).
    pub min_body_rate: u64,
    /// How long a body may take before the minimum rate applies (a small body is
    /// whole long before).
    pub min_body_rate_grace: Duration,
    /// Requests served at once; more are answered `503 overloaded` with `Retry-After`
    /// at once instead of queueing without bound.
    pub max_in_flight: usize,
    /// Of those, how many one client address may have (0: no cap); more are answered
    /// `429 too_many_in_flight`. An IPv6 client is its /64.
    pub max_in_flight_per_address: usize,
    /// When a connection is closed with request body still unread (an upload refused
    /// before or while it is read), at most this many more bytes of it are read and
    /// discarded first, so the client finishes sending and reads the answer instead of
    /// a reset.
    pub linger_bytes: u64,
    /// And for at most this long after the answer.
    pub linger_time: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(30),
            body_deadline: Duration::from_secs(120),
            min_body_rate: 1024,
            min_body_rate_grace: Duration::from_secs(10),
            max_in_flight: 512,
            max_in_flight_per_address: 64,
            linger_bytes: 64 * 1024 * 1024,
            linger_time: Duration::from_secs(10),
        }
    }
}
