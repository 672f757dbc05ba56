//! Per-caller rate limits: how many requests one caller may make in a
//! period, as a token bucket (a burst of `count`, then one more every
//! `period / count`).
//!
//! Declared per tool with `#[mcp_tool(rate = "10/min")]` (or
//! [`Tool::rate`](crate::Tool::rate)) and for every request with
//! [`McpServerBuilder::rate_limit`](crate::McpServerBuilder::rate_limit) or
//! `MCP_RATE_LIMIT=600/min`. A caller is its subject when it signed in,
//! else its address (through trusted proxies, an IPv6 /64 as one). The
//! buckets live in the shared state: one budget across every replica on
//! Redis.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Most requests a limit may allow per period.
const MOST: u32 = 1_000_000;

/// `count` requests per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    count: u32,
    period: Duration,
}

impl RateLimit {
    /// `count` requests per `period` (`count` at least 1, `period` at
    /// least a second); `None` otherwise.
    pub fn new(count: u32, period: Duration) -> Option<Self> {
        ((1..=MOST).contains(&count) && period >= Duration::from_secs(1))
            .then_some(Self { count, period })
    }

    /// A limit the macros checked when they read it.
    #[doc(hidden)]
    pub const fn __checked(count: u32, seconds: u64) -> Self {
        Self {
            count,
            period: Duration::from_secs(seconds),
        }
    }

    /// `count` requests per second.
    pub fn per_second(count: u32) -> Option<Self> {
        Self::new(count, Duration::from_secs(1))
    }

    /// `count` requests per minute.
    pub fn per_minute(count: u32) -> Option<Self> {
        Self::new(count, Duration::from_secs(60))
    }

    /// `count` requests per hour.
    pub fn per_hour(count: u32) -> Option<Self> {
        Self::new(count, Duration::from_secs(3600))
    }

    /// Requests allowed per period (and in one burst).
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

/// Why a rate limit could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a rate limit: write a count and a period such as `10/s`, `600/min`, `1000/hour` \
     or `5000/day` (count 1 to 1000000)"
)]
pub struct RateLimitError(String);

impl FromStr for RateLimit {
    type Err = RateLimitError;

    /// `COUNT/UNIT`: `s`, `sec`, `second`; `m`, `min`, `minute`; `h`,
    /// `hour`; `d`, `day` (white space around either part is ignored).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refuse = || RateLimitError(text.to_owned());
        let (count, unit) = text.split_once('/').ok_or_else(refuse)?;
        let count: u32 = count.trim().parse().map_err(|_| refuse())?;
        let seconds = match unit.trim() {
            "s" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            "h" | "hour" => 3600,
            "d" | "day" => 86_400,
            _ => return Err(refuse()),
        };
        Self::new(count, Duration::from_secs(seconds)).ok_or_else(refuse)
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.period.as_secs() {
            1 => "s".to_owned(),
            60 => "min".to_owned(),
            3600 => "hour".to_owned(),
            86_400 => "day".to_owned(),
            other => format!("{other}s"),
        };
        write!(f, "{}/{unit}", self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_and_print_alike() {
        for (text, count, secs, shown) in [
            ("10/min", 10, 60, "10/min"),
            (" 600 / minute ", 600, 60, "600/min"),
            ("5/s", 5, 1, "5/s"),
            ("1000/hour", 1000, 3600, "1000/hour"),
            ("2/d", 2, 86_400, "2/day"),
        ] {
            let limit: RateLimit = text.parse().unwrap();
            assert_eq!((limit.count(), limit.period().as_secs()), (count, secs));
            assert_eq!(limit.to_string(), shown);
        }
        for bad in [
            "",
            "10",
            "0/min",
            "-1/min",
            "10/week",
            "ten/min",
            "2000000/s",
            "10/min/s",
        ] {
            let error = bad.parse::<RateLimit>().unwrap_err();
            assert!(error.to_string().contains("600/min"), "{error}");
        }
    }
}
