//! A token bucket for outgoing Proxmox requests.

use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Allows `rate` requests a second on average, bursts of up to `burst`.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    pub fn new(rate: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        RateLimiter { rate, burst, state: Mutex::new((burst, Instant::now())) }
    }

    /// Wait until a request may go.
    pub async fn acquire(&self) {
        let wait = {
            let mut state = self.state.lock().await;
            let (tokens, last) = &mut *state;
            let now = Instant::now();
            *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(self.burst);
            *last = now;
            *tokens -= 1.0;
            // A rate so small that the wait overflows a Duration waits "forever", never panics.
            if *tokens >= 0.0 {
                Duration::ZERO
            } else {
                Duration::try_from_secs_f64(-*tokens / self.rate).unwrap_or(Duration::MAX)
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_tiny_rate_does_not_panic() {
        let limiter = RateLimiter::new(1e-300, 1);
        limiter.acquire().await;
        let second = tokio::time::timeout(Duration::from_secs(3600), limiter.acquire()).await;
        assert!(second.is_err(), "waits, without a panic");
    }

    #[tokio::test(start_paused = true)]
    async fn paces_after_the_burst() {
        let limiter = RateLimiter::new(10.0, 5);
        let start = Instant::now();
        for _ in 0..5 {
            limiter.acquire().await;
        }
        assert!(start.elapsed() < Duration::from_millis(1), "the burst goes at once");
        for _ in 0..10 {
            limiter.acquire().await;
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(990) && took <= Duration::from_millis(1100), "{took:?}");
    }
}
