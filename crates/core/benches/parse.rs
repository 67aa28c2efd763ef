//! `cargo bench -p openclaw-sessions-core --bench parse -- <file.jsonl> [claude|codex-exec]`:
//! the raw parse rates of one stream-json file, for `npm run bench`'s ingest tables: serde_json
//! checking the syntax only (`IgnoredAny`: every byte read, nothing built; no JSON reader can
//! do less), serde_json into `Value`, and the project's parser (JSON plus mapping to events).

use openclaw_sessions_core::protocol::claude;
use openclaw_sessions_core::protocol::codex::exec::ExecParser;
use std::time::Instant;

fn main() {
  let args: Vec<String> = std::env::args()
    .skip(1)
    .filter(|a| !a.starts_with("--"))
    .collect();
  let Some(path) = args.first() else {
    println!("usage: cargo bench --bench parse -- <file.jsonl> [claude|codex-exec]");
    return;
  };
  let backend = args.get(1).map(String::as_str).unwrap_or("claude");
  let data = std::fs::read_to_string(path).expect("readable input");
  let mb = data.len() as f64 / (1024.0 * 1024.0);
  let best = |f: &mut dyn FnMut() -> usize| {
    (0..3)
      .map(|_| {
        let t = Instant::now();
        let n = f();
        assert!(n > 0);
        t.elapsed().as_secs_f64()
      })
      .fold(f64::MAX, f64::min)
  };
  let syntax = best(&mut || {
    data
      .lines()
      .filter(|l| serde_json::from_str::<serde::de::IgnoredAny>(l).is_ok())
      .count()
  });
  let serde = best(&mut || {
    data
      .lines()
      .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
      .count()
  });
  let ours = best(&mut || match backend {
    "codex-exec" => {
      let mut p = ExecParser::default();
      data
        .lines()
        .map(|l| p.parse_line(l).map(|v| v.len()).unwrap_or(0))
        .sum()
    }
    _ => data
      .lines()
      .map(|l| claude::parse_line(l).map(|v| v.len()).unwrap_or(0))
      .sum(),
  });
  println!(
    "{{\"mb\":{mb:.2},\"syntaxMBps\":{:.1},\"serdeJsonMBps\":{:.1},\"parserMBps\":{:.1}}}",
    mb / syntax,
    mb / serde,
    mb / ours
  );
}
