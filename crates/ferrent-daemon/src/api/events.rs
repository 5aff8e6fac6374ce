//! `GET /api/v1/events`: the daemon's updates as server-sent events. Each event's name is
//! its `type` and its data the JSON of [`DaemonEvent`]. A listener that falls behind gets
//! a `lagged` event and should fetch the list again. Streams end when the server stops.

use super::AppState;
use crate::model::DaemonEvent;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;

pub(crate) async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let events = state.daemon.subscribe();
    let closing = state.closing.clone();
    let stream =
        futures_util::stream::unfold((events, closing), |(mut events, mut closing)| async move {
            let event = loop {
                if *closing.borrow() {
                    return None;
                }
                tokio::select! {
                    received = events.recv() => match received {
                        Ok(event) => break event,
                        Err(RecvError::Lagged(missed)) => break DaemonEvent::Lagged { missed },
                        Err(RecvError::Closed) => return None,
                    },
                    changed = closing.changed() => if changed.is_err() { return None },
                }
            };
            let sse = Event::default()
                .event(event.kind())
                .json_data(&event)
                .unwrap_or_else(|_| Event::default().comment("unserializable event"));
            Some((Ok(sse), (events, closing)))
        });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
