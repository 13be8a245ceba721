//! Trading partner profile: who we are to them, who they are, which standard, version,
//! delimiters and acknowledgements. Deserialized from the `[partners.NAME.edi]` config section
//! by the daemon; pure data here.

use crate::ack::{AckOptions, EnvelopeIds, FunctionalAck};
use crate::syntax::{Delimiters, Standard};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyId {
    /// ISA05/07 qualifier (`ZZ`, `01`, `12`) or UNB partner code qualifier (`14`, `ZZZ`).
    pub qualifier: String,
    pub id: String,
    /// GS02/GS03 application code (X12), defaults to `id`.
    #[serde(default)]
    pub application: Option<String>,
}

impl PartyId {
    pub fn application(&self) -> &str {
        self.application.as_deref().unwrap_or(&self.id)
    }
}

/// Delimiters as configured (single characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelimiterConfig {
    pub element: char,
    pub component: char,
    #[serde(default)]
    pub repetition: Option<char>,
    pub segment: char,
    #[serde(default)]
    pub release: Option<char>,
}

impl DelimiterConfig {
    pub fn to_delimiters(self) -> Delimiters {
        Delimiters {
            element: self.element as u8,
            component: self.component as u8,
            repetition: self.repetition.map(|c| c as u8),
            segment: self.segment as u8,
            release: self.release.map(|c| c as u8),
            decimal: b'.',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckProfile {
    #[serde(default)]
    pub functional: FunctionalAck,
    #[serde(default)]
    pub ta1_when_requested: bool,
    #[serde(default)]
    pub ta1_on_envelope_error: bool,
    /// EDIFACT partners: send a CONTRL for every interchange.
    #[serde(default)]
    pub contrl: bool,
    /// Hours within which the partner must acknowledge what we send.
    #[serde(default = "default_window")]
    pub window_hours: u32,
}

fn default_window() -> u32 {
    24
}

impl Default for AckProfile {
    fn default() -> Self {
        AckProfile {
            functional: FunctionalAck::F997,
            ta1_when_requested: true,
            ta1_on_envelope_error: true,
            contrl: true,
            window_hours: 24,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerProfile {
    pub name: String,
    pub standard: Standard,
    pub us: PartyId,
    pub them: PartyId,
    /// X12: `004010` / `005010`; EDIFACT: `D96A` / `D01B`.
    pub version: String,
    /// EDIFACT syntax identifier (`UNOC`) and version (`3`); X12 ignores it.
    #[serde(default = "default_syntax")]
    pub syntax: String,
    #[serde(default = "default_syntax_version")]
    pub syntax_version: String,
    /// EDIFACT association assigned code (`EAN008`).
    #[serde(default)]
    pub association: Option<String>,
    #[serde(default)]
    pub delimiters: Option<DelimiterConfig>,
    /// ISA15 `T` / UNB test indicator.
    #[serde(default)]
    pub test: bool,
    #[serde(default)]
    pub acks: AckProfile,
    /// GS1 company prefix used to mint SSCC-18s for packages that have none.
    #[serde(default)]
    pub gs1_company_prefix: Option<String>,
}

fn default_syntax() -> String {
    "UNOC".into()
}
fn default_syntax_version() -> String {
    "3".into()
}

impl PartnerProfile {
    pub fn delimiters(&self) -> Delimiters {
        match (self.delimiters, self.standard) {
            (Some(d), _) => d.to_delimiters(),
            (None, Standard::X12) => {
                let mut d = Delimiters::X12_DEFAULT;
                if self.version.as_str() < "004020" {
                    d.repetition = None;
                }
                d
            }
            (None, Standard::Edifact) => Delimiters::EDIFACT_DEFAULT,
        }
    }

    /// ISA12 for our version.
    pub fn isa_version(&self) -> &'static str {
        if self.version.starts_with("005") {
            "00501"
        } else {
            "00401"
        }
    }

    /// Us as a party of a business document (X12 N1 N103/N104 for SE/SU, EDIFACT NAD C082
    /// 3039/3055): the interchange id the partner knows us by, its qualifier translated from
    /// the envelope's code list (X12 I05, EDIFACT 0007) to the party one (X12 66, EDIFACT
    /// 3055), and "mutually defined" where the lists have no common code.
    pub fn our_party(&self) -> (&'static str, &str) {
        let q = match (self.standard, self.us.qualifier.trim()) {
            // I05 01 D-U-N-S → 66 1; I05 14 D-U-N-S plus suffix → 66 9.
            (Standard::X12, "01") => "1",
            (Standard::X12, "14") => "9",
            (Standard::X12, _) => "ZZ",
            // 0007 14 GS1 (EAN International) → 3055 9 GS1; 0007 1 / 16 D-U-N-S → 3055 16.
            (Standard::Edifact, "14") => "9",
            (Standard::Edifact, "1" | "16") => "16",
            (Standard::Edifact, _) => "ZZZ",
        };
        (q, self.us.id.trim())
    }

    pub fn ack_options(&self, now: chrono::NaiveDateTime) -> AckOptions {
        AckOptions {
            functional: self.acks.functional,
            ta1_when_requested: self.acks.ta1_when_requested,
            ta1_on_envelope_error: self.acks.ta1_on_envelope_error,
            now,
            envelope: Some(EnvelopeIds {
                us: self.us.clone(),
                them: self.them.clone(),
                isa_version: self.isa_version().to_string(),
                syntax: self.syntax.clone(),
                syntax_version: self.syntax_version.clone(),
            }),
        }
    }
}
