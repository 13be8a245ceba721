//! Both parsers (the reader picks X12 or EDIFACT from the first bytes), full validation and the
//! acknowledgement builders must never panic, whatever the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_edi::ack::{contrl, x12_ack, AckControls, AckOptions, FunctionalAck};
use switchyard_edi::validate::validate;
use switchyard_edi::{read_all, Standard, Unit};

fuzz_target!(|data: &[u8]| {
    let now = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).expect("date");
    let ctl = AckControls { interchange: 1, group: 1, first_set: 1 };
    for unit in read_all(data) {
        if let Unit::Interchange(ic) = unit {
            let v = validate(&ic);
            let _ = match ic.standard {
                Standard::X12 => x12_ack(&ic, &v, &ctl, &AckOptions { functional: FunctionalAck::F999, ta1_when_requested: true, ta1_on_envelope_error: true, now }),
                Standard::Edifact => contrl(&ic, &v, &ctl, now),
            };
        }
    }
});
