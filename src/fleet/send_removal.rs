//! Sends one planned removal to the engine as the plan's dispatch says: as given, name by name
//! without force or as plain untags (an engine whose force would remove containers), or not at
//! all (refused).

use crate::engine::{Engine, EngineError};
use crate::plan::{DeleteRecord, Dispatch, RemovalAnswer};

/// One removal to send: the argument, how the plan says to send it, and what the plan expects.
pub(super) struct Removal<'p> {
    pub image: &'p str,
    pub dispatch: &'p Dispatch,
    pub force: bool,
    pub no_prune: bool,
    /// The plan's answer; `None` for an argument the plan has no answer for.
    pub expected: Option<RemovalAnswer>,
}

/// `Err` only when an answer was lost (whether the removal happened is unknown).
pub(super) async fn send_removal(
    engine: &Engine,
    removal: &Removal<'_>,
) -> Result<RemovalAnswer, EngineError> {
    let (names, untag): (&[String], bool) = match removal.dispatch {
        Dispatch::AsGiven => {
            let answer = engine
                .remove_image(removal.image, removal.force, removal.no_prune)
                .await;
            return answer_of(answer);
        }
        Dispatch::Unforced(names) => (names, false),
        Dispatch::Untag(tags) => (tags, true),
        Dispatch::Refused => {
            let refusal = removal
                .expected
                .as_ref()
                .and_then(|answer| answer.error.clone());
            return Ok(RemovalAnswer {
                records: Vec::new(),
                error: refusal,
            });
        }
    };
    let mut records = Vec::new();
    for name in names {
        let answer = if untag {
            engine.untag_image(name).await
        } else {
            engine.remove_image(name, false, removal.no_prune).await
        };
        let mut answer = answer_of(answer)?;
        records.append(&mut answer.records);
        if answer.error.is_some() {
            return Ok(RemovalAnswer {
                records,
                error: answer.error,
            });
        }
    }
    Ok(RemovalAnswer {
        records,
        error: None,
    })
}

fn answer_of(answer: Result<Vec<DeleteRecord>, EngineError>) -> Result<RemovalAnswer, EngineError> {
    match answer {
        Ok(records) => Ok(RemovalAnswer {
            records,
            error: None,
        }),
        Err(EngineError::Api { status, message }) => Ok(RemovalAnswer {
            records: Vec::new(),
            error: Some((status, message)),
        }),
        Err(lost) => Err(lost),
    }
}
