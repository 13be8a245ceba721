//! Cron schedules from `schedules/*.toml`.
//!
//! Every `switchyard run` process evaluates every schedule, and a tick becomes a job whose
//! idempotency key is `schedule:NAME:TICK`: however many processes see the tick, the queue's
//! unique key lets exactly one job through. That is why apalis-cron's in-memory ticks (lost
//! on restart, fired once per process) are not used.

use crate::toml_source::TomlSource;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use switchyard_core::diag::Diagnostic;
use switchyard_core::ids::OrgId;
use switchyard_store::queue::{NewJob, Queue, RetrySpec};

/// What to do about ticks that passed while no process was running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MissedTicks {
    /// Run once at start for the latest missed tick.
    #[default]
    RunOnce,
    /// Forget them; wait for the next tick.
    Skip,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleFile {
    name: Option<String>,
    /// Cron with seconds: `sec min hour day-of-month month day-of-week [year]`.
    cron: String,
    #[serde(default = "default_tz")]
    timezone: String,
    job: String,
    partner: Option<String>,
    #[serde(default = "default_org")]
    org: String,
    #[serde(default)]
    params: toml::Table,
    #[serde(default)]
    missed: MissedTicks,
    #[serde(default = "yes")]
    enabled: bool,
}

fn default_tz() -> String {
    "UTC".into()
}
fn default_org() -> String {
    "default".into()
}
fn yes() -> bool {
    true
}

/// A validated schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub name: String,
    pub cron: cron::Schedule,
    pub timezone: Tz,
    pub job: String,
    pub partner: Option<String>,
    pub org: String,
    pub params: serde_json::Value,
    pub missed: MissedTicks,
    pub enabled: bool,
    /// The file it came from, to locate problems found later (`check` rules).
    pub source: Arc<TomlSource>,
}

impl Schedule {
    /// Ticks in `(after, until]`, oldest first.
    pub fn ticks_between(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        self.cron
            .after(&after.with_timezone(&self.timezone))
            .map(|t| t.with_timezone(&Utc))
            .take_while(|t| *t <= until)
            .take(10_000)
            .collect()
    }

    pub fn job_for_tick(&self, org: OrgId, tick: DateTime<Utc>, retry: RetrySpec) -> NewJob {
        let mut job = NewJob::new(org, self.job.clone(), self.params.clone())
            .key(format!("schedule:{}:{}", self.name, tick.to_rfc3339()))
            .retry(retry);
        job.partner = self.partner.clone().map(switchyard_core::ids::PartnerName);
        job.correlation_id = Some(format!("schedule:{}", self.name));
        job
    }
}

/// Parse one schedule file (`path`, whose contents are `text`); every problem found is
/// returned, located.
pub fn parse(path: &Path, text: &str) -> Result<Schedule, Vec<Diagnostic>> {
    let source = Arc::new(TomlSource::from_text(path, text));
    let file: ScheduleFile = toml::from_str(text).map_err(|e| {
        let at = e.span().map(|s| s.start);
        vec![Diagnostic::new(
            switchyard_core::diag::Loc {
                file: path.to_owned(),
                at: at.map(|o| switchyard_core::diag::LineCol::of(text, o)),
            },
            e.message().trim(),
        )]
    })?;
    let mut problems = Vec::new();
    let name = file.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let cron = crate::cron_expr::parse(&file.cron)
        .map_err(|e| {
            let at = source.locate_in_string(&["cron"], e.offset.unwrap_or(0));
            problems.push(Diagnostic::new(at, e.message))
        })
        .ok();
    let timezone = Tz::from_str(&file.timezone)
        .map_err(|_| {
            problems.push(source.problem(
                &["timezone"],
                format!(
                    "unknown time zone `{}` (use an IANA name such as `Europe/Warsaw`)",
                    file.timezone
                ),
            ))
        })
        .ok();
    if file.job.trim().is_empty() {
        problems.push(source.problem(&["job"], "`job` must name a job kind"));
    }
    if let (Some(cron), Some(tz)) = (&cron, timezone) {
        if !crate::cron_expr::fires(cron, tz) {
            problems.push(Diagnostic::new(
                source.locate_in_string(&["cron"], 0),
                format!(
                    "cron expression `{}` never fires: no date matches it from now until 2100",
                    file.cron
                ),
            ));
        }
    }
    match (cron, timezone) {
        (Some(cron), Some(timezone)) if problems.is_empty() => Ok(Schedule {
            name,
            cron,
            timezone,
            job: file.job,
            partner: file.partner,
            org: file.org,
            params: serde_json::to_value(file.params).unwrap_or_default(),
            missed: file.missed,
            enabled: file.enabled,
            source,
        }),
        _ => Err(problems),
    }
}

/// Load every `*.toml` under `dir` (sorted by name). Returns the schedules that parsed and the
/// problems of those that did not.
pub fn load_dir(dir: &Path) -> (Vec<Schedule>, Vec<Diagnostic>) {
    let mut schedules = Vec::new();
    let mut problems = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (schedules, problems);
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        match std::fs::read_to_string(&path) {
            Ok(text) => match parse(&path, &text) {
                Ok(s) => schedules.push(s),
                Err(mut d) => problems.append(&mut d),
            },
            Err(e) => problems.push(Diagnostic::in_file(&path, format!("cannot read: {e}"))),
        }
    }
    (schedules, problems)
}

/// Enqueue the job for every tick of `schedule` in `(after, until]`; with several processes
/// the idempotency key makes each tick one job. Returns how many jobs this call created.
pub async fn fire_ticks(
    queue: &Queue,
    schedule: &Schedule,
    org: OrgId,
    retry: RetrySpec,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<usize, switchyard_store::StoreError> {
    let mut created = 0;
    let ticks = schedule.ticks_between(after, until);
    for tick in &ticks {
        if queue
            .enqueue(schedule.job_for_tick(org, *tick, retry))
            .await?
            .created
        {
            created += 1;
        }
    }
    if let Some(last) = ticks.last() {
        switchyard_store::schedules::record_tick(queue.pool(), &schedule.name, *last).await?;
    }
    Ok(created)
}

/// The last tick any process fired for this schedule.
pub async fn last_tick(
    queue: &Queue,
    name: &str,
) -> Result<Option<DateTime<Utc>>, switchyard_store::StoreError> {
    switchyard_store::schedules::last_tick(queue.pool(), name).await
}

/// At start: apply the missed-tick policy. Returns the time from which to fire normally.
pub async fn catch_up(
    queue: &Queue,
    schedule: &Schedule,
    org: OrgId,
    retry: RetrySpec,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, switchyard_store::StoreError> {
    let Some(last) = last_tick(queue, &schedule.name).await? else {
        return Ok(now);
    };
    if schedule.missed == MissedTicks::RunOnce {
        if let Some(latest) = schedule.ticks_between(last, now).last() {
            fire_ticks(
                queue,
                schedule,
                org,
                retry,
                *latest - chrono::Duration::milliseconds(1),
                *latest,
            )
            .await?;
        }
    }
    Ok(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn src(text: &str) -> (std::path::PathBuf, String) {
        ("schedules/inventory.toml".into(), text.to_owned())
    }

    fn parse_src((path, text): (std::path::PathBuf, String)) -> Result<Schedule, Vec<Diagnostic>> {
        parse(&path, &text)
    }

    #[test]
    fn parses_a_schedule_and_names_it_after_the_file() {
        let s = parse_src(src("cron = \"0 */15 * * * *\"\njob = \"inventory.sync\"\npartner = \"shop\"\ntimezone = \"Europe/Warsaw\"\n"))
            .unwrap();
        assert_eq!(s.name, "inventory");
        assert_eq!(s.timezone, chrono_tz::Europe::Warsaw);
        let from = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let ticks = s.ticks_between(from, from + chrono::Duration::hours(1));
        assert_eq!(ticks.len(), 4);
    }

    #[test]
    fn time_zone_decides_when_a_daily_tick_fires() {
        let s = parse_src(src(
            "cron = \"0 0 3 * * *\"\njob = \"prices.sync\"\ntimezone = \"America/Chicago\"\n",
        ))
        .unwrap();
        let from = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let ticks = s.ticks_between(from, from + chrono::Duration::days(1));
        // 03:00 in Chicago (UTC-6 in January) is 09:00 UTC.
        assert_eq!(
            ticks,
            vec![Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap()]
        );
    }

    #[test]
    fn bad_files_report_every_problem_located() {
        let errs = parse_src(src(
            "job = \"x\"\ncron = \"every tuesday\"\ntimezone = \"Mars/Olympus\"\n",
        ))
        .unwrap_err();
        let text: Vec<String> = errs.iter().map(|d| d.to_string()).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(
            text[0].starts_with("schedules/inventory.toml:2:9: invalid cron expression"),
            "{text:?}"
        );
        assert!(
            text[1].starts_with("schedules/inventory.toml:3:1: unknown time zone"),
            "{text:?}"
        );
    }

    #[test]
    fn a_bad_cron_field_is_located_at_the_field() {
        let errs = parse_src(src("job = \"x\"\ncron = \"0 */5 * 32 * *\"\n")).unwrap_err();
        let text = errs[0].to_string();
        // Line 2, the `32` (column 17), not the expression again at column 1.
        assert!(
            text.starts_with("schedules/inventory.toml:2:17: invalid cron expression `0 */5 * 32 * *`: the day of month field `32`"),
            "{text}"
        );
        assert!(!text.contains('\n'), "one line: {text}");
    }

    #[test]
    fn a_cron_that_never_fires_is_refused() {
        let errs = parse_src(src("job = \"x\"\ncron = \"0 0 0 31 2 *\"\n")).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(
            errs[0].to_string(),
            "schedules/inventory.toml:2:9: cron expression `0 0 0 31 2 *` never fires: no date matches it from now until 2100"
        );
    }

    #[test]
    fn unknown_keys_and_syntax_errors_are_located() {
        let errs = parse_src(src(
            "cron = \"* * * * * *\"\njob = \"x\"\nmised = \"skip\"\n",
        ))
        .unwrap_err();
        assert!(
            errs[0]
                .to_string()
                .starts_with("schedules/inventory.toml:3:1: unknown field `mised`"),
            "{}",
            errs[0]
        );
        let errs = parse_src(src("cron = \"* * * * * *\n")).unwrap_err();
        assert!(
            errs[0]
                .to_string()
                .starts_with("schedules/inventory.toml:1:"),
            "{}",
            errs[0]
        );
    }
}
