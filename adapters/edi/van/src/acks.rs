//! The partner's acknowledgements of what we sent.
//!
//! * [`match_inbound_ack`]: called by the mailbox poll for an inbound 997 / 999 / TA1 / CONTRL
//!   instead of acknowledging it: finds the outbound messages it acknowledges (X12: AK1 group
//!   control number and functional id, TA1's ISA13; EDIFACT: UCI's interchange reference) for
//!   the same partner and marks them `acknowledged`, or `error` with the partner's rejection
//!   reasons (AK5/IK5/AK9 `R`, `M`, `W`, `X`; TA104 `R`; UCI or UCM action `4`).
//! * `edi.ack.overdue` ([`AckOverdue`]): one warning row in the integration logs per outbound
//!   message still `sent` after the partner's `acks.window_hours`, once per message (the
//!   `ack_overdue_at` column remembers it; the status stays `sent` so a late ack still lands).
//!   The API shows it on the message (`ack_overdue`, `ack_overdue_at`) and filters the
//!   listing with `?overdue=true`.
//!   Payload: `{"partner": NAME}` (an EDI partner in `switchyard.toml`), or the older inline
//!   `{"profile": {PartnerProfile}}`.

use crate::envelope::transient;
use crate::jobs::CheckOverdueAcks;
use crate::messages::{self as store, EdiMessage, EdiMessageId, EdiStandard, EdiStatus};
use crate::partners::EdiPartners;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::PgPool;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::{JobId, OrgId};
use switchyard_edi::partner::PartnerProfile;
use switchyard_edi::{Interchange, Segment, Standard};
use switchyard_runtime::context::JobContext;
use switchyard_runtime::job::Job;
use switchyard_store::logs::{self, Direction, IntegrationType, LogStatus, Masker, NewLogEntry};
use switchyard_store::queue::ClaimedJob;
use tracing::{info, warn};

pub const OVERDUE_KIND: &str = <CheckOverdueAcks as switchyard_core::JobPayload>::KIND;

/// Whether `ic` carries acknowledgements only (which are themselves never acknowledged): every
/// set is a 997 / 999 / CONTRL, and there is at least one such set or an X12 TA1.
pub fn is_ack_interchange(ic: &Interchange) -> bool {
    let mut sets = ic.groups.iter().flat_map(|g| &g.sets).peekable();
    let any_set = sets.peek().is_some();
    sets.all(|s| matches!(s.set_type.as_str(), "997" | "999" | "CONTRL"))
        && (any_set || has_ta1(ic))
}

/// Whether `ic` holds an interchange acknowledgement (TA1, between the ISA and the first GS).
pub fn has_ta1(ic: &Interchange) -> bool {
    ic.standard == Standard::X12 && (0..ic.len()).any(|i| ic.segment(i).id() == "TA1")
}

/// What one acknowledgement says about one thing we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Verdict {
    /// X12: (functional id, group control); EDIFACT: interchange reference.
    target: Target,
    rejected: bool,
    reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Group {
        functional_id: String,
        control: String,
    },
    /// An X12 interchange by ISA13 (TA101).
    X12Interchange(String),
    /// An EDIFACT interchange by UNB 0020 (UCI 0020).
    Interchange(String),
}

/// TA105: why the partner's translator rejected or flagged our interchange (X12 code I18).
fn ta1_note_text(code: &str) -> &'static str {
    match code {
        "000" => "no error",
        "001" => "the interchange control number in the header and trailer do not match",
        "005" => "invalid interchange id qualifier for sender",
        "006" => "invalid interchange sender id",
        "007" => "invalid interchange id qualifier for receiver",
        "008" => "invalid interchange receiver id",
        "014" => "invalid interchange date",
        "015" => "invalid interchange time",
        "017" => "invalid interchange control version number",
        "018" => "invalid interchange control number",
        "021" => "invalid number of included groups value",
        "022" => "invalid control structure",
        "023" => "improper (premature) end-of-file",
        "024" => "invalid interchange content",
        "025" => "duplicate interchange control number",
        _ => "see the partner's code list",
    }
}

/// The verdicts of the TA1 segments of `ic` (interchange acknowledgements, X12 only):
/// TA104 `A` accepted, `E` accepted with errors, `R` rejected.
fn ta1_verdicts(ic: &Interchange) -> Vec<Verdict> {
    if ic.standard != Standard::X12 {
        return Vec::new();
    }
    (0..ic.len())
        .map(|i| ic.segment(i))
        .filter(|seg| seg.id() == "TA1")
        .map(|seg| {
            let control = seg.get(1).into_owned();
            let code = seg.get(4).into_owned();
            let note = seg.get(5).into_owned();
            let why = |what: &str| {
                format!(
                    "partner {what} interchange {control} (TA1 {code}, note {note}: {})",
                    ta1_note_text(&note)
                )
            };
            let reasons = match code.as_str() {
                "R" => vec![why("rejected")],
                "E" => vec![why("accepted with errors")],
                _ => Vec::new(),
            };
            Verdict {
                target: Target::X12Interchange(control.clone()),
                rejected: code == "R",
                reasons,
            }
        })
        .collect()
}

/// AK502–AK506 / IK502–IK506: why a set was rejected (X12 code 718, the common values).
fn set_note(code: &str) -> &'static str {
    match code {
        "1" => "transaction set not supported",
        "2" => "transaction set trailer missing",
        "3" => "transaction set control number in header and trailer do not match",
        "4" => "number of included segments does not match actual count",
        "5" => "one or more segments in error",
        "6" => "missing or invalid transaction set identifier",
        "7" => "missing or invalid transaction set control number",
        "23" => "transaction set control number not unique within the functional group",
        _ => "see the partner's code list",
    }
}

/// AK905–AK909: why a group was rejected (X12 code 716).
fn group_note(code: &str) -> &'static str {
    match code {
        "1" => "functional group not supported",
        "2" => "functional group version not supported",
        "3" => "functional group trailer missing",
        "4" => "group control number in the functional group header and trailer do not agree",
        "5" => "number of included transaction sets does not match actual count",
        "6" => "group control number violates syntax",
        "19" => "functional group control number not unique within interchange",
        _ => "see the partner's code list",
    }
}

/// X12 acknowledgement codes that mean rejected (AK5/IK5/AK9).
fn x12_rejects(code: &str) -> bool {
    matches!(code, "R" | "M" | "W" | "X")
}

fn codes(seg: &Segment<'_>, from: usize, to: usize) -> Vec<String> {
    (from..=to)
        .map(|n| seg.get(n).into_owned())
        .filter(|c| !c.is_empty())
        .collect()
}

/// The verdicts in one X12 997/999 set (segments `range` of `ic`).
fn x12_verdict(ic: &Interchange, range: std::ops::Range<usize>) -> Option<Verdict> {
    let mut target = None;
    let mut rejected = false;
    let mut reasons = Vec::new();
    let mut current_set = String::new();
    let mut segment_errors: Vec<String> = Vec::new();
    for i in range {
        let seg = ic.segment(i);
        match seg.id() {
            "AK1" => {
                target = Some(Target::Group {
                    functional_id: seg.get(1).into_owned(),
                    control: seg.get(2).into_owned(),
                })
            }
            "AK2" => {
                current_set = format!("{} {}", seg.get(1), seg.get(2));
                segment_errors.clear();
            }
            "AK3" | "IK3" => segment_errors.push(format!(
                "segment {} at position {} (error code {})",
                seg.get(1),
                seg.get(2),
                seg.get(4)
            )),
            "AK4" | "IK4" => segment_errors.push(format!(
                "element {} (error code {}, bad value {:?})",
                seg.get(1),
                seg.get(3),
                seg.get(4)
            )),
            "AK5" | "IK5" => {
                let code = seg.get(1);
                if x12_rejects(&code) {
                    rejected = true;
                    let notes: Vec<String> = codes(&seg, 2, 6)
                        .iter()
                        .map(|c| format!("{c} ({})", set_note(c)))
                        .collect();
                    let mut why =
                        format!("partner rejected set {current_set} ({} {code})", seg.id());
                    if !notes.is_empty() {
                        why.push_str(&format!(": {}", notes.join(", ")));
                    }
                    if !segment_errors.is_empty() {
                        why.push_str(&format!("; {}", segment_errors.join("; ")));
                    }
                    reasons.push(why);
                } else if code == "E" {
                    reasons.push(format!(
                        "partner accepted set {current_set} with errors: {}",
                        segment_errors.join("; ")
                    ));
                }
            }
            "AK9" => {
                let code = seg.get(1);
                if x12_rejects(&code) || code == "P" {
                    rejected |= x12_rejects(&code);
                    let notes: Vec<String> = codes(&seg, 5, 9)
                        .iter()
                        .map(|c| format!("{c} ({})", group_note(c)))
                        .collect();
                    reasons.push(format!(
                        "partner {} the functional group (AK9 {code}, {} of {} sets accepted){}",
                        if code == "P" {
                            "partially accepted"
                        } else {
                            "rejected"
                        },
                        seg.get(4),
                        seg.get(2),
                        if notes.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", notes.join(", "))
                        }
                    ));
                }
            }
            _ => {}
        }
    }
    target.map(|target| Verdict {
        target,
        rejected,
        reasons,
    })
}

/// The verdict in one CONTRL message (segments `range` of `ic`).
fn contrl_verdict(ic: &Interchange, range: std::ops::Range<usize>) -> Option<Verdict> {
    let mut target = None;
    let mut rejected = false;
    let mut reasons = Vec::new();
    for i in range {
        let seg = ic.segment(i);
        match seg.id() {
            "UCI" => {
                target = Some(Target::Interchange(seg.get(1).into_owned()));
                // 0083: 4 rejected, 7 accepted (this level and below), 8 received.
                if seg.get(4) == "4" {
                    rejected = true;
                    reasons.push(format!(
                        "partner rejected interchange {} (UCI action 4, syntax error {})",
                        seg.get(1),
                        seg.get(5)
                    ));
                }
            }
            "UCM" if seg.get(3) == "4" => {
                rejected = true;
                reasons.push(format!(
                    "partner rejected message {} {} (UCM action 4, syntax error {})",
                    seg.component(2, 1),
                    seg.get(1),
                    seg.get(4)
                ));
            }
            "UCS" => reasons.push(format!(
                "segment at position {} in error (code {})",
                seg.get(1),
                seg.get(2)
            )),
            _ => {}
        }
    }
    target.map(|target| Verdict {
        target,
        rejected,
        reasons,
    })
}

/// Match an inbound acknowledgement (stored as `ack_id`) to what we sent `partner` and record
/// the verdicts. Returns the outbound messages it acknowledged; an ack naming nothing we sent
/// is logged and left alone.
pub async fn match_inbound_ack(
    pool: &PgPool,
    org: OrgId,
    partner: &str,
    ic: &Interchange,
    ack_id: EdiMessageId,
) -> Result<Vec<(EdiMessageId, EdiStatus)>, AdapterError> {
    let mut verdicts = ta1_verdicts(ic);
    for g in &ic.groups {
        for s in &g.sets {
            let range = s.range(ic.len());
            let v = match ic.standard {
                Standard::X12 => x12_verdict(ic, range),
                Standard::Edifact => contrl_verdict(ic, range),
            };
            verdicts.extend(v);
        }
    }
    let mut done = Vec::new();
    for v in verdicts {
        let targets: Vec<EdiMessage> = match &v.target {
            Target::Group {
                functional_id,
                control,
            } => store::outbound_by_group(pool, org, partner, functional_id, control).await,
            Target::X12Interchange(control) => {
                store::outbound_by_interchange(pool, org, partner, EdiStandard::X12, control).await
            }
            Target::Interchange(control) => {
                store::outbound_by_interchange(pool, org, partner, EdiStandard::Edifact, control)
                    .await
            }
        }
        .map_err(transient("finding the messages an acknowledgement names"))?;
        if targets.is_empty() {
            warn!(target = ?v.target, "acknowledgement for nothing we sent this partner");
        }
        let status = if v.rejected {
            EdiStatus::Error
        } else {
            EdiStatus::Acknowledged
        };
        for t in targets {
            let mut conn = pool
                .acquire()
                .await
                .map_err(|e| AdapterError::transient(format!("connecting: {e}")))?;
            store::record_ack(&mut conn, org, t.id, status, &v.reasons, ack_id)
                .await
                .map_err(transient("recording an acknowledgement"))?;
            info!(message = %t.id, %status, "outbound message acknowledged by the partner");
            done.push((t.id, status));
        }
    }
    Ok(done)
}

/// `edi.ack.overdue`: the partner's name, or the older inline profile (no mailbox: nothing is
/// read or written).
pub struct AckOverdue {
    pub partners: std::sync::Arc<EdiPartners>,
}

#[async_trait]
impl Job for AckOverdue {
    type Payload = CheckOverdueAcks;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        payload: CheckOverdueAcks,
    ) -> Result<(), AdapterError> {
        let partner = payload.0.resolve(&self.partners, OVERDUE_KIND)?;
        let n = warn_overdue(
            ctx.pool(),
            job.org_id,
            Some(job.id),
            &partner.profile,
            ctx.now(),
        )
        .await?;
        info!(partner = %partner.profile.name, overdue = n.len(), "edi acknowledgements checked");
        Ok(())
    }
}

/// Write one warning per outbound message to `profile`'s partner still unacknowledged after
/// its window, once per message. Returns the messages warned about now.
pub async fn warn_overdue(
    pool: &PgPool,
    org: OrgId,
    job: Option<JobId>,
    profile: &PartnerProfile,
    now: DateTime<Utc>,
) -> Result<Vec<EdiMessageId>, AdapterError> {
    let window = Duration::hours(i64::from(profile.acks.window_hours));
    let overdue = store::claim_overdue(pool, org, &profile.name, now - window, now)
        .await
        .map_err(transient("finding unacknowledged messages"))?;
    let entries: Vec<NewLogEntry> = overdue
        .iter()
        .map(|m| {
            let mut e = NewLogEntry::new(
                Some(org),
                IntegrationType::Edi,
                "edi.ack.overdue",
                Direction::Outbound,
                LogStatus::Warning,
            );
            e.at = now;
            e.partner = Some(profile.name.clone());
            e.job_id = job;
            e.error_message = Some(format!(
                "{} interchange {} sent {} has not been acknowledged by {} within {} hours",
                m.message_types.join("+"),
                m.interchange_control,
                m.created_at.format("%Y-%m-%d %H:%M UTC"),
                profile.name,
                profile.acks.window_hours
            ));
            e.request_body = Some(json!({
                "message_id": m.id.to_string(),
                "interchange_control": m.interchange_control,
                "group_controls": m.group_controls,
                "file": m.file_name,
            }));
            e
        })
        .collect();
    let ids: Vec<EdiMessageId> = overdue.iter().map(|m| m.id).collect();
    if let Err(e) = logs::insert_batch(pool, &Masker::default(), &entries).await {
        // Give the claims back so the next run writes the warnings instead of losing them.
        let _ = store::unclaim_overdue(pool, org, &ids).await;
        return Err(AdapterError::transient(format!(
            "writing overdue acknowledgement warnings: {e}"
        )));
    }
    for m in &overdue {
        warn!(message = %m.id, control = %m.interchange_control, "partner has not acknowledged");
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn overdue_payload_comes_from_a_schedule_file() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../schedules");
        let (list, problems) = switchyard_runtime::schedules::load_dir(&dir);
        assert!(problems.is_empty(), "{problems:?}");
        let s = list
            .iter()
            .find(|s| s.name == "edi-ack-overdue")
            .expect("schedules/edi-ack-overdue.toml");
        assert_eq!(s.job, OVERDUE_KIND);
        let p: CheckOverdueAcks =
            switchyard_runtime::job::parse_payload(&s.params).expect("payload deserializes");
        assert_eq!(p.0, crate::partners::PartnerRef::named("acme"));
    }

    fn parse(text: &[u8]) -> Box<Interchange> {
        let Some(switchyard_edi::Unit::Interchange(ic)) =
            switchyard_edi::read_all(text).into_iter().next()
        else {
            panic!("parses")
        };
        ic
    }

    #[test]
    fn a_ta1_names_our_interchange_and_says_accepted_or_rejected() {
        let isa = "ISA*00*          *00*          *12*5551234567     *ZZ*SWITCHYARD     *260302*0915*U*00401*000000103*0*P*>~";
        let ta1_only = format!("{isa}TA1*000000017*260304*0915*R*022~IEA*0*000000103~");
        let ic = parse(ta1_only.as_bytes());
        assert!(is_ack_interchange(&ic), "a lone TA1 is an ack");
        let v = ta1_verdicts(&ic);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].target, Target::X12Interchange("000000017".into()));
        assert!(v[0].rejected);
        assert!(
            v[0].reasons[0].contains("invalid control structure"),
            "{:?}",
            v[0].reasons
        );
        let accepted = format!("{isa}TA1*000000018*260304*0915*A*000~IEA*0*000000103~");
        let v = ta1_verdicts(&parse(accepted.as_bytes()));
        assert!(!v[0].rejected && v[0].reasons.is_empty(), "{v:?}");
        // A TA1 in front of an 850 does not make the 850 an ack.
        let with_order = format!("{isa}TA1*000000018*260304*0915*A*000~GS*PO*5551234567*SWITCHYARD*20260302*0915*103*X*004010~ST*850*0001~BEG*00*SA*PO-1**20260301~PO1*1*1*EA*1**VP*X~CTT*1~SE*5*0001~GE*1*103~IEA*1*000000103~");
        assert!(!is_ack_interchange(&parse(with_order.as_bytes())));
    }

    #[test]
    fn only_interchanges_made_of_acks_are_acks() {
        let ack = b"ISA*00*          *00*          *12*5551234567     *ZZ*SWITCHYARD     *260302*0915*U*00401*000000102*0*P*>~GS*FA*5551234567*SWITCHYARD*20260302*0915*102*X*004010~ST*997*0001~AK1*PR*201~AK2*855*0001~AK5*R*5~AK9*R*1*1*0~SE*6*0001~GE*1*102~IEA*1*000000102~";
        let Some(switchyard_edi::Unit::Interchange(ic)) =
            switchyard_edi::read_all(ack).into_iter().next()
        else {
            panic!("the 997 parses")
        };
        assert!(is_ack_interchange(&ic));
        let g = &ic.groups[0];
        let v = x12_verdict(&ic, g.sets[0].range(ic.len())).expect("names a group");
        assert_eq!(
            v.target,
            Target::Group {
                functional_id: "PR".into(),
                control: "201".into()
            }
        );
        assert!(v.rejected);
        assert!(
            v.reasons[0].contains("5 (one or more segments in error)"),
            "{:?}",
            v.reasons
        );
    }
}
