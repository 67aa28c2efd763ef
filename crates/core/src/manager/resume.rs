//! The manager's persisted side: sessions read back from the store (`get`, `list`),
//! `resume` / fork with the resume chain, recovery after a restart, and retention (`gc`).

use crate::manager::start::Plan;
use crate::manager::{ListFilter, Manager};
use crate::model::error::{Error, Result};
use crate::model::options::{ResumeOptions, SpawnOptions};
use crate::session::SessionInfo;
use crate::store::{GcReport, Query, StoredSession};
use nix::sys::signal::Signal;
use std::collections::HashSet;

impl Manager {
  /// A session by ref: the live snapshot if this manager runs it, else the stored one (read
  /// on this thread: for the synchronous calls, `get` and `resumeChain`).
  pub(crate) fn lookup(&self, r: &str) -> Result<Option<StoredSession>> {
    if let Ok(s) = self.live_snapshot(r) {
      return Ok(Some(s));
    }
    self.store.find(r)
  }

  /// `lookup` for the async calls: the store is read off the runtime's threads.
  pub(crate) async fn lookup_async(&self, r: &str) -> Result<Option<StoredSession>> {
    if let Ok(s) = self.live_snapshot(r) {
      return Ok(Some(s));
    }
    self.store.find_async(r).await
  }

  /// Marks sessions a dead manager left live as `interrupted` (`manager-restart`), tells whoever
  /// launched them (one `interrupted` notification each, through the ledger), and kills what
  /// they left: the CLI's process group, only where the pid still belongs to the recorded
  /// process (same start time), and every other process of the session (its cgroup, its
  /// inherited marker; `process::containment`), and removes the private files that kept its
  /// secrets off argv.
  pub(crate) fn recover(&self) -> Result<()> {
    for s in self.store.recover()? {
      if let (Some(pid), Some(start)) = (s.info.pid, s.pid_start) {
        if crate::process::start_time(pid) == Some(start) {
          crate::process::signal_group(pid, Signal::SIGKILL);
        }
      }
      let killed = crate::process::containment::kill_session(&s.info.id, None, None);
      crate::process::containment::remove_private_files(&s.info.id);
      tracing::info!(session = %s.info.id, killed, "recovered a session left live by a dead manager");
      if let Some((router, _)) = &self.notifications {
        router.send(crate::notify::router::Input::Recovered(Box::new(s.info)));
      }
    }
    Ok(())
  }

  /// Applies retention: at most `maxPersistedSessions`, none finished longer ago than
  /// `maxPersistedAgeMs`. Linked ancestors stay as tombstones.
  pub fn gc(&self) -> Result<GcReport> {
    self.store.gc(
      self.opts.max_persisted_sessions as u64,
      self.opts.max_persisted_age_ms,
    )
  }

  /// One session: live or stored. `E_NOT_FOUND` when neither knows it.
  pub fn get(&self, r: &str) -> Result<SessionInfo> {
    match self.lookup(r)? {
      Some(s) => Ok(s.info),
      None => Err(not_found(r)),
    }
  }

  /// Live and stored sessions, oldest first, filtered; with `limit`, the newest `limit` of
  /// them. The stored part is one SQL query (statuses, backends, live-only and the limit in its
  /// `WHERE` / `LIMIT`, only each row's `SessionInfo` decoded) run on tokio's blocking pool;
  /// the sessions this manager holds are merged in from memory (their live state wins).
  pub async fn list(&self, f: &ListFilter) -> Result<Vec<SessionInfo>> {
    let live = self.live_infos();
    let live_ids: HashSet<String> = live.iter().map(|i| i.id.clone()).collect();
    let mut all: Vec<SessionInfo> = match f.stored_statuses() {
      None => Vec::new(), // live-only with terminal statuses: nothing stored can match
      Some(statuses) => {
        let q = Query {
          statuses,
          backends: f.backend.iter().map(|b| b.as_str().to_owned()).collect(),
          // Stored rows of live sessions are replaced below: ask for enough. Owner and
          // metadata are matched here, after the query: then the limit is applied after too.
          limit: f
            .limit
            .filter(|_| !f.post_filters())
            .map(|n| n.saturating_add(live.len() as u32)),
        };
        let stored = self.store.list_async(&q).await?;
        stored
          .into_iter()
          .filter(|i| !live_ids.contains(&i.id) && f.matches(i))
          .collect()
      }
    };
    all.extend(live.into_iter().filter(|i| f.matches(i)));
    all.sort_by(|a, b| {
      a.created_at
        .cmp(&b.created_at)
        .then_with(|| a.id.cmp(&b.id))
    });
    if let Some(n) = f.limit {
      all.drain(..all.len().saturating_sub(n as usize));
    }
    Ok(all)
  }

  /// The session and its ancestors back to the root (what it resumed or forked from), newest
  /// first. Evicted ancestors appear as tombstones (`evicted: true`).
  pub fn resume_chain(&self, r: &str) -> Result<Vec<SessionInfo>> {
    let first = self.lookup(r)?.ok_or_else(|| not_found(r))?;
    let mut chain = vec![first.info];
    while let Some(parent) = {
      let last = chain.last().unwrap_or_else(|| unreachable!());
      last
        .resumed_from_id
        .clone()
        .or_else(|| last.forked_from_id.clone())
    } {
      if chain.iter().any(|i| i.id == parent) {
        break;
      }
      match self.lookup(&parent)? {
        Some(s) => chain.push(s.info),
        None => break,
      }
    }
    Ok(chain)
  }

  /// Continues a finished session's conversation in a new live session (`fork`: a copy
  /// under a new backend id), from its original workdir and options. The verdict of
  /// `can_resume` decides first (`manager::resumability`): a reason other than `ok` fails with
  /// its error, or — when the conversation is gone (`transcript-missing`, `rollout-missing`,
  /// `too-old`) and `onMissing: 'fresh'` — a new conversation starts whose first message
  /// carries the stored summary. Without `prompt` the new session waits for `send`. The new
  /// session records `resumedFromId` / `forkedFromId` and carries the metadata over.
  pub async fn resume(
    &self,
    r: &str,
    prompt: Option<String>,
    o: ResumeOptions,
    keepalive: Option<crate::session::live::KeepAlive>,
  ) -> Result<SessionInfo> {
    if let Some(p) = prompt.as_deref() {
      crate::model::options::check_message("prompt (omit it to resume without one)", p)?;
    }
    let src = self.lookup_async(r).await?.ok_or_else(|| not_found(r))?;
    let verdict = self.verdict(&src, o.fork);
    if let Some(e) = verdict.error() {
      if verdict.reason.fresh_start_helps() && o.fresh_on_missing() {
        let opts = self.resumed_options(r, &src, prompt.as_deref(), &o)?;
        return self.start_fresh(&src, opts, prompt.as_deref(), e).await;
      }
      return Err(e);
    }
    let opts = self.resumed_options(r, &src, prompt.as_deref(), &o)?;
    let mut plan = Plan {
      thread_usage: Some(src.thread_usage),
      summary: src.summary.clone(),
      prompt: prompt.clone(),
      ..Plan::default()
    };
    if o.fork {
      plan.forked_from_id = Some(src.info.id.clone());
    } else {
      plan.resumed_from_id = Some(src.info.id.clone());
    }
    match self.start(opts.clone(), plan, keepalive).await {
      // The CLI's record went between the verdict and the start.
      Err(e @ Error::ResumeNotFound(_)) if o.fresh_on_missing() => {
        self.start_fresh(&src, opts, prompt.as_deref(), e).await
      }
      other => other,
    }
  }

  /// The CLI lost the conversation (`why`): start a new one that carries what we kept of it.
  async fn start_fresh(
    &self,
    src: &StoredSession,
    mut opts: SpawnOptions,
    prompt: Option<&str>,
    why: Error,
  ) -> Result<SessionInfo> {
    let seeded = seed_prompt(src, prompt);
    opts.resume = None;
    opts.fork = false;
    opts.prompt = seeded.clone();
    let plan = Plan {
      resumed_from_id: Some(src.info.id.clone()),
      summary: src.summary.clone(),
      prompt: Some(seeded),
      ..Plan::default()
    };
    let info = self.start(opts, plan, None).await?;
    tracing::info!(session = %info.id, from = %src.info.id, %why, "resumed fresh from the stored summary");
    Ok(info)
  }

  /// The spawn options of the new session: the stored ones, with the prompt, the conversation
  /// to continue and the name (the given one, else the old one unless a live session of the
  /// same owner has it or this is a fork).
  fn resumed_options(
    &self,
    r: &str,
    src: &StoredSession,
    prompt: Option<&str>,
    o: &ResumeOptions,
  ) -> Result<SpawnOptions> {
    let mut v = src.options.clone();
    if let Some(map) = v.as_object_mut() {
      map.insert("prompt".into(), prompt.unwrap_or("(resumed)").into());
      map.insert("resume".into(), src.info.backend_session_id.clone().into());
      map.insert("fork".into(), o.fork.into());
    }
    let mut opts: SpawnOptions = serde_json::from_value(v).map_err(|e| {
      Error::Store(format!(
        "the stored options of session `{r}` cannot be read: {e}"
      ))
    })?;
    let name_taken = |n: &str| {
      self.live_infos().iter().any(|i| {
        !i.status.is_terminal()
          && i.name.as_deref() == Some(n)
          && i.owner_id() == src.info.owner_id()
      })
    };
    opts.name = o
      .name
      .clone()
      .or_else(|| src.info.name.clone().filter(|n| !o.fork && !name_taken(n)));
    // The metadata as it is now (`setMetadata` since the spawn included).
    opts.metadata = Some(src.info.metadata.clone()).filter(|m| !m.is_empty());
    Ok(opts)
  }
}

/// The first message of a fresh start: the stored summary, then the new prompt.
fn seed_prompt(src: &StoredSession, prompt: Option<&str>) -> String {
  let mut s = String::from(
    "This continues an earlier conversation whose history is no longer available. \
     A summary of its last turns:\n",
  );
  if !src.info.first_prompt.is_empty() {
    s.push_str(&format!("\n(first request) {}\n", src.info.first_prompt));
  }
  for t in &src.summary {
    s.push_str(&format!("\nUser: {}\nAssistant: {}\n", t.prompt, t.reply));
  }
  match prompt {
    Some(p) => s.push_str(&format!("\nNow: {p}")),
    None => s.push_str("\nPlease continue from there."),
  }
  s
}

pub(super) fn not_found(r: &str) -> Error {
  Error::NotFound(format!(
    "no session with id, name or backend session id `{r}`, live or stored; list() shows the known ones"
  ))
}
