//! Sends one planned `rmi` argument to the engine as the plan's dispatch says: as given, name by
//! name without force or as plain untags (an engine whose force would remove containers), or not
//! at all (refused).

use crate::engine::{Engine, EngineError};
use crate::plan::{DeleteRecord, Dispatch, PlannedRemoval};

/// The engine's answer to one argument: its records, and the error it ended with, if any.
pub(super) type Answer = (Vec<DeleteRecord>, Option<(u16, String)>);

/// `Err` only when an answer was lost (whether the removal happened is unknown).
pub(super) async fn send_removal(
    engine: &Engine,
    image: &str,
    planned: Option<&PlannedRemoval>,
    force: bool,
    no_prune: bool,
) -> Result<Answer, EngineError> {
    let dispatch = planned.map_or(&Dispatch::AsGiven, |planned| &planned.dispatch);
    let (names, untag): (Vec<&str>, bool) = match dispatch {
        Dispatch::AsGiven => return answer_of(engine.remove_image(image, force, no_prune).await),
        Dispatch::Unforced(names) => (names.iter().map(String::as_str).collect(), false),
        Dispatch::Untag(tags) => (tags.iter().map(String::as_str).collect(), true),
        Dispatch::Refused => {
            let error = planned.and_then(|planned| planned.error.clone());
            return Ok((Vec::new(), error.map(|error| (error.status, error.message))));
        }
    };
    let mut records = Vec::new();
    for name in names {
        let answer = if untag {
            engine.untag_image(name).await
        } else {
            engine.remove_image(name, false, no_prune).await
        };
        let (mut more, error) = answer_of(answer)?;
        records.append(&mut more);
        if error.is_some() {
            return Ok((records, error));
        }
    }
    Ok((records, None))
}

fn answer_of(answer: Result<Vec<DeleteRecord>, EngineError>) -> Result<Answer, EngineError> {
    match answer {
        Ok(records) => Ok((records, None)),
        Err(EngineError::Api { status, message }) => Ok((Vec::new(), Some((status, message)))),
        Err(lost) => Err(lost),
    }
}
