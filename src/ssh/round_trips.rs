//! Sequential network round trips of one host's run, by step: what sets its time across a WAN.
//!
//! Every request/answer pair is recorded when it is sent and when its answer arrives. A pair
//! sent after the answer of the k-th sequential round trip ends at depth k + 1; pairs in flight
//! together (a wave of concurrent calls) end at the same depth. The host's count is the deepest
//! answer, and each step is charged with the depth reached while it was the current one.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// One host's round trips, shared by its SSH session and the channels opened on it.
#[derive(Debug, Default)]
pub struct RoundTrips {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Round trips done one after another so far.
    depth: u32,
    /// Each step entered, with the round trips charged to it.
    steps: Vec<(String, u32)>,
}

/// A request on its way: the depth its answer will end at.
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct Sent(u32);

impl Sent {
    /// A request that waited only for the answer to this one.
    pub fn next(self) -> Sent {
        Sent(self.0 + 1)
    }
}

impl RoundTrips {
    /// Later round trips are charged to `step`.
    pub fn enter(&self, step: &str) {
        if let Ok(mut state) = self.state.lock() {
            state.steps.push((step.to_string(), 0));
        }
    }

    /// A request is sent now.
    pub fn sent(&self) -> Sent {
        Sent(self.state.lock().map(|state| state.depth).unwrap_or(0) + 1)
    }

    /// The answer to `sent` has arrived.
    pub fn answered(&self, sent: Sent) {
        if let Ok(mut state) = self.state.lock()
            && sent.0 > state.depth
        {
            let added = sent.0 - state.depth;
            state.depth = sent.0;
            match state.steps.last_mut() {
                Some((_, count)) => *count += added,
                None => state.steps.push((String::new(), added)),
            }
        }
    }

    /// `count` request/answer pairs made one after another, each waiting for the one before.
    pub fn sequential(&self, count: u32) {
        for _ in 0..count {
            let sent = self.sent();
            self.answered(sent);
        }
    }

    pub fn total(&self) -> u32 {
        self.state.lock().map(|state| state.depth).unwrap_or(0)
    }

    /// Each step that cost round trips, in the order they were entered (a step entered
    /// several times is summed under its first place).
    pub fn by_step(&self) -> Vec<(String, u32)> {
        let mut steps: Vec<(String, u32)> = Vec::new();
        let Ok(state) = self.state.lock() else {
            return steps;
        };
        for (step, count) in state.steps.iter().filter(|(_, count)| *count > 0) {
            match steps.iter_mut().find(|(seen, _)| seen == step) {
                Some((_, total)) => *total += count,
                None => steps.push((step.clone(), *count)),
            }
        }
        steps
    }
}

/// A stream that carries one request/answer exchange at a time (an SFTP session): the first
/// bytes read after bytes were written are the answer to them. Each exchange waits only for
/// the one before it on the stream (the first for the stream's opening), whatever other
/// exchanges of the host were answered meanwhile.
pub struct Counted<S> {
    inner: S,
    round_trips: Arc<RoundTrips>,
    /// The last exchange answered on the stream (at first, the stream's opening).
    last: Sent,
    waiting: Option<Sent>,
}

impl<S> Counted<S> {
    /// `inner`, opened by the exchange `opened`.
    pub fn new(inner: S, round_trips: Arc<RoundTrips>, opened: Sent) -> Counted<S> {
        Counted {
            inner,
            round_trips,
            last: opened,
            waiting: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(())))
            && buf.filled().len() > before
            && let Some(sent) = self.waiting.take()
        {
            self.round_trips.answered(sent);
            self.last = sent;
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) && self.waiting.is_none() {
            self.waiting = Some(self.last.next());
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_pairs_add_up_and_a_wave_counts_once() {
        let trips = RoundTrips::default();
        trips.enter("connecting");
        trips.sequential(2);
        trips.enter("docker");
        let (a, b, c) = (trips.sent(), trips.sent(), trips.sent());
        trips.answered(b);
        trips.answered(a);
        trips.answered(c);
        assert_eq!(trips.total(), 3);
        assert_eq!(
            trips.by_step(),
            vec![("connecting".to_string(), 2), ("docker".to_string(), 1)]
        );
    }

    #[test]
    fn a_pair_sent_before_an_answer_ends_at_the_earlier_depth() {
        let trips = RoundTrips::default();
        let early = trips.sent();
        let first = trips.sent();
        trips.answered(first);
        let second = trips.sent();
        trips.answered(early);
        trips.answered(second);
        assert_eq!(trips.total(), 2);
    }

    #[test]
    fn steps_entered_twice_are_summed_and_free_steps_left_out() {
        let trips = RoundTrips::default();
        trips.enter("removing");
        trips.sequential(1);
        trips.enter("closing");
        trips.enter("removing");
        trips.sequential(2);
        assert_eq!(trips.by_step(), vec![("removing".to_string(), 3)]);
    }

    #[tokio::test]
    async fn a_counted_stream_counts_one_round_trip_per_exchange() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let trips = Arc::new(RoundTrips::default());
        let (client, mut server) = tokio::io::duplex(64);
        let opened = trips.sent();
        trips.answered(opened);
        let mut client = Counted::new(client, Arc::clone(&trips), opened);
        for _ in 0..3 {
            client.write_all(b"GET").await.expect("write");
            client.write_all(b" /").await.expect("write");
            let mut request = [0u8; 5];
            server.read_exact(&mut request).await.expect("read");
            server.write_all(b"an").await.expect("write");
            server.write_all(b"swer").await.expect("write");
            let mut answer = [0u8; 6];
            client.read_exact(&mut answer).await.expect("read");
            // Another exchange of the host, answered meanwhile, is not one this stream waited for.
            let elsewhere = trips.sent();
            trips.answered(elsewhere);
        }
        assert_eq!(trips.total(), 5);
    }
}
