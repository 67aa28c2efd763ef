//! Claude Code: one live `claude -p` process per session; the first prompt is a stdin message.

use super::Launch;
use crate::model::error::{Error, Result};
use crate::protocol::{claude, Parser};
use crate::session::live::LiveSession;
use std::sync::Arc;

impl Launch {
  /// Starts the CLI (the system prompt through a private file) and writes the first prompt.
  pub(super) async fn start_claude(
    &self,
    s: &Arc<LiveSession>,
    prompt: Option<&str>,
  ) -> Result<()> {
    let mut a = self.claude.clone();
    if let Some(text) = &a.append_system_prompt {
      // Not on argv, where every local user reads it (/proc/<pid>/cmdline).
      let file = s
        .contained()
        .private_file("append-system-prompt.txt", text)
        .map_err(|e| Error::Spawn(format!("cannot write the system prompt file: {e}")))?;
      a.append_system_prompt_file = Some(file);
    }
    self.spawn(s, claude::args(&a), Parser::Claude).await?;
    if let Some(prompt) = prompt {
      // A failed write means the CLI already died; its exit sets the status and context.
      let _ = s.write(&claude::user_message(prompt)).await;
    }
    Ok(())
  }
}
