//! Loading and parsing the recorded transcripts, and replaying them through `SessionState`.

use super::*;

pub const PINNED_VERSION: &str = "0.169.0";
pub const WORKDIR: &str = "/home/dev/demo";

pub fn fixture_dir() -> PathBuf {
  Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/codex")
}

pub fn shared_dir() -> PathBuf {
  Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/codex")
}

pub fn read(path: &Path) -> String {
  std::fs::read_to_string(path).unwrap_or_else(|e| {
    panic!(
      "cannot read {}: {e} (record with `node scripts/record-codex-fixtures.mjs`)",
      path.display()
    )
  })
}

pub fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
  let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
    .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
    .map(|e| e.unwrap().path())
    .filter(|p| p.to_string_lossy().ends_with(suffix))
    .collect();
  v.sort();
  v
}

fn no_other(label: &str, no: usize, p: &EventPayload) {
  assert!(
    !matches!(p, EventPayload::Other { .. }),
    "{label}:{no}: the parser left a 0.169.0 message untyped: {p:?}"
  );
}

// ---- codex exec ---------------------------------------------------------------------------------

/// One exec stdout line: its JSON and what `ExecParser` made of it.
pub struct ExecLine {
  pub no: usize,
  pub raw: String,
  pub json: Value,
  pub payloads: Vec<EventPayload>,
}

/// Parses every stdout line of one exec process (one parser, as one process has) and
/// cross-checks each against its JSON; panics with the file and line on any failure.
pub fn parse_exec(label: &str, text: &str) -> Vec<ExecLine> {
  let mut parser = ExecParser::default();
  let mut check = ExecCheck::default();
  let mut out = Vec::new();
  for (i, raw) in text.lines().enumerate() {
    if raw.trim().is_empty() {
      continue;
    }
    let payloads = parser
      .parse_line(raw)
      .unwrap_or_else(|e| panic!("{label}:{}: parse_line failed: {e}\n  line: {raw}", i + 1));
    let json: Value = serde_json::from_str(raw).unwrap();
    if let Err(why) = check.check(&json, &payloads) {
      panic!(
        "{label}:{}: {why}\n  line: {raw}\n  payloads: {payloads:#?}",
        i + 1
      );
    }
    for p in &payloads {
      no_other(label, i + 1, p);
    }
    out.push(ExecLine {
      no: i + 1,
      raw: raw.to_owned(),
      json,
      payloads,
    });
  }
  out
}

pub struct ExecFixture {
  pub name: &'static str,
  pub lines: Vec<ExecLine>,
  pub meta: Value,
  pub stderr: String,
}

impl ExecFixture {
  pub fn load(name: &'static str) -> ExecFixture {
    let dir = fixture_dir();
    let lines = parse_exec(name, &read(&dir.join(format!("{name}.jsonl"))));
    let meta: Value = serde_json::from_str(&read(&dir.join(format!("{name}.meta.json")))).unwrap();
    assert_eq!(meta["cliVersion"], PINNED_VERSION, "{name}");
    assert_eq!(meta["command"][1], "exec", "{name}");
    let stderr = read(&dir.join(format!("{name}.stderr.txt")));
    ExecFixture {
      name,
      lines,
      meta,
      stderr,
    }
  }

  pub fn payloads(&self) -> Vec<EventPayload> {
    self
      .lines
      .iter()
      .flat_map(|l| l.payloads.iter().cloned())
      .collect()
  }

  pub fn exit_code(&self) -> i32 {
    self.meta["exitCode"].as_i64().expect("exitCode") as i32
  }

  /// The `thread_id` of the `thread.started` line (the first line).
  pub fn thread_id(&self) -> String {
    let first = &self.lines.first().expect("a line").json;
    assert_eq!(first["type"], "thread.started", "{}", self.name);
    first["thread_id"].as_str().unwrap().to_owned()
  }

  /// The thread total of the `turn.completed` line, read straight from its JSON.
  pub fn json_total(&self) -> Usage {
    let l = self
      .lines
      .iter()
      .find(|l| l.json["type"] == "turn.completed")
      .unwrap_or_else(|| panic!("{}: no turn.completed", self.name));
    exec_usage(&l.json["usage"]).unwrap()
  }
}

// ---- codex app-server -------------------------------------------------------------------------

/// One wire line. `out` is the CLI's side (`<`); only those are parsed.
pub struct WireLine {
  pub no: usize,
  pub out: bool,
  pub msg: Value,
  pub inbound: Vec<Inbound>,
}

impl WireLine {
  pub fn method(&self) -> Option<&str> {
    self.msg["method"].as_str()
  }

  pub fn events(&self) -> impl Iterator<Item = &EventPayload> {
    self.inbound.iter().filter_map(|i| match i {
      Inbound::Event(e) => Some(e),
      _ => None,
    })
  }
}

/// The CLI's line as it wrote it: the recorder embeds it verbatim after `"msg":`, so duplicate
/// keys survive. Other layouts (the reference transcripts) fall back to the re-serialized msg.
fn raw_msg(line: &str, msg: &Value) -> String {
  let raw = line
    .strip_prefix(r#"{"dir":"<","msg":"#)
    .and_then(|r| r.strip_suffix('}'));
  match raw {
    Some(r) if serde_json::from_str::<Value>(r).ok().as_ref() == Some(msg) => r.to_owned(),
    _ => msg.to_string(),
  }
}

/// Parses the `<` lines of one app-server process with one parser and cross-checks each.
pub fn parse_wire(label: &str, text: &str) -> Vec<WireLine> {
  let mut parser = AppServerParser::default();
  let mut check = AppCheck::default();
  let mut out = Vec::new();
  for (i, line) in text.lines().enumerate() {
    if line.trim().is_empty() {
      continue;
    }
    let v: Value = serde_json::from_str(line)
      .unwrap_or_else(|e| panic!("{label}:{}: wire line is not JSON: {e}", i + 1));
    let dir = v["dir"].as_str().unwrap_or("");
    assert!(dir == "<" || dir == ">", "{label}:{}: dir {dir:?}", i + 1);
    let msg = v["msg"].clone();
    let mut inbound = Vec::new();
    if dir == "<" {
      let raw = raw_msg(line, &msg);
      inbound = parser
        .parse_line(&raw)
        .unwrap_or_else(|e| panic!("{label}:{}: parse_line failed: {e}\n  line: {raw}", i + 1));
      if let Err(why) = check.check(&msg, &inbound) {
        panic!(
          "{label}:{}: {why}\n  line: {raw}\n  parsed: {inbound:#?}",
          i + 1
        );
      }
      for e in inbound.iter().filter_map(|i| match i {
        Inbound::Event(e) => Some(e),
        _ => None,
      }) {
        no_other(label, i + 1, e);
      }
    }
    out.push(WireLine {
      no: i + 1,
      out: dir == "<",
      msg,
      inbound,
    });
  }
  out
}

pub struct WireFixture {
  pub name: &'static str,
  pub lines: Vec<WireLine>,
  pub meta: Value,
}

impl WireFixture {
  pub fn load(name: &'static str) -> WireFixture {
    let dir = fixture_dir();
    let lines = parse_wire(name, &read(&dir.join(format!("{name}.wire.jsonl"))));
    let base = name.split('.').next().unwrap();
    let meta: Value = serde_json::from_str(&read(&dir.join(format!("{base}.meta.json")))).unwrap();
    assert_eq!(meta["cliVersion"], PINNED_VERSION, "{name}");
    WireFixture { name, lines, meta }
  }

  pub fn events(&self) -> Vec<EventPayload> {
    self
      .lines
      .iter()
      .flat_map(|l| l.events().cloned())
      .collect()
  }

  /// The parsed response to our request `id`.
  pub fn response(&self, id: u64) -> &Result<Value, RpcError> {
    let found: Vec<_> = self
      .lines
      .iter()
      .flat_map(|l| &l.inbound)
      .filter_map(|i| match i {
        Inbound::Response { id: got, result } if *got == id => Some(result),
        _ => None,
      })
      .collect();
    assert_eq!(found.len(), 1, "{}: responses to request {id}", self.name);
    found[0]
  }

  /// Our requests (`>` lines with a method and an id): (id, method, params).
  pub fn sent_requests(&self) -> Vec<(u64, &str, &Value)> {
    self
      .lines
      .iter()
      .filter(|l| !l.out && l.msg.get("id").is_some())
      .filter_map(|l| Some((l.msg["id"].as_u64()?, l.method()?, &l.msg["params"])))
      .collect()
  }

  pub fn turn_completions(&self) -> Vec<EventPayload> {
    self
      .events()
      .into_iter()
      .filter(|e| matches!(e, EventPayload::TurnCompleted { .. }))
      .collect()
  }
}

/// Every request id we sent gets exactly one response, no response answers an id we did not
/// send, and every reply of ours answers one request of the CLI.
pub fn check_request_matching(label: &str, lines: &[WireLine]) -> usize {
  let mut sent = BTreeMap::new();
  let mut answered: BTreeMap<u64, usize> = BTreeMap::new();
  let mut server_requests = Vec::new();
  let mut our_replies = Vec::new();
  for l in lines {
    if l.out {
      for i in &l.inbound {
        match i {
          Inbound::Response { id, .. } => *answered.entry(*id).or_default() += 1,
          Inbound::Request { id, .. } => server_requests.push(id.clone()),
          Inbound::Event(_) => {}
        }
      }
    } else if let Some(id) = l.msg.get("id") {
      match l.method() {
        Some(m) => assert!(
          sent.insert(id.as_u64().unwrap(), m).is_none(),
          "{label}:{}: request id {id} reused",
          l.no
        ),
        None => our_replies.push(id.clone()),
      }
    }
  }
  let sent_ids: Vec<u64> = sent.keys().copied().collect();
  let answered_ids: Vec<u64> = answered.keys().copied().collect();
  assert_eq!(sent_ids, answered_ids, "{label}: requests vs responses");
  assert!(
    answered.values().all(|n| *n == 1),
    "{label}: a request answered twice: {answered:?}"
  );
  assert_eq!(
    our_replies, server_requests,
    "{label}: our replies vs the CLI's requests"
  );
  sent.len()
}
