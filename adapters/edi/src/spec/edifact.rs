//! EDIFACT D96A and D01B tables for ORDERS, ORDRSP, DESADV, INVOIC and CONTRL (syntax 3/4
//! service segments included).
//!
//! One dictionary serves both directories; where D01B changed an element (RFF 1154 an..70,
//! QTY 6060 an..35, NAD 3251 an..17, BGM C106 instead of the simple 1004) the D96A form is given
//! as a `@D:96A` override. Code lists are restricted only where the hub acts on the code
//! (message function, UNS section, CONTRL action codes).

use super::{parse_tables, SpecError, Tables};
use std::sync::LazyLock;

const SEGMENTS: &str = r#"
UNB = M C[M a4; M n1; C an..6; C an..3] | M C[M an..35; C an..4; C an..35; C an..35] | M C[M an..35; C an..4; C an..35; C an..35] | M C[M n6/8; M n4] | M an..14 | C C[M an..14; C an2] | C an..14 | C a1 | C n1 | C an..35 | C n1
UNZ = M n..6 | M an..14
UNG = M an..6 | M C[M an..35; C an..4] | M C[M an..35; C an..4] | M C[M n6/8; M n4] | M an..14 | M an..3 | M C[M an..3; M an..3; C an..6] | C an..14
UNE = M n..6 | M an..14
UNH = M an..14 | M C[M an..6; M an..3; M an..3; M an..2; C an..6; C an..6; C an..6] | C an..35 | C C[M an..35; C n..2; C a1]
UNT = M n..6 | M an..14
BGM = C C[C an..3; C an..17; C an..3; C an..35] | C C[C an..35; C an..9; C an..6] | C an..3:1,2,3,4,5,6,7,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99 | C an..3
DTM = M C[M an..3; C an..35; C an..3]
PAI = M C[C an..3; C an..3; C an..3; C an..3; C an..3]
ALI = C an..3 | C an..3 | C an..3 | C an..3 | C an..3 | C an..3 | C an..3
FTX = M an..3 | C an..3 | C C[M an..17; C an..3; C an..3] | C C[M an..512; C an..512; C an..512; C an..512; C an..512] | C an..3 | C an..3
RFF = M C[M an..3; C an..70; C an..6; C an..35; C an..6]
NAD = M an..3 | C C[M an..35; C an..3; C an..3] | C C[M an..35; C an..35; C an..35; C an..35; C an..35] | C C[M an..70; C an..70; C an..70; C an..70; C an..70; C an..3] | C C[M an..35; C an..35; C an..35; C an..35] | C an..35 | C C[C an..9; C an..3; C an..3; C an..70] | C an..17 | C an..3
LOC = M an..3 | C C[C an..35; C an..3; C an..3; C an..256] | C C[C an..25; C an..3; C an..3; C an..70] | C C[C an..25; C an..3; C an..3; C an..70] | C an..3
CTA = C an..3 | C C[C an..17; C an..256]
COM = M C[M an..512; M an..3] | C C[M an..512; M an..3] | C C[M an..512; M an..3]
CUX = C C[M an..3; C an..3; C an..3; C n..4] | C C[M an..3; C an..3; C an..3; C n..4] | C n..12 | C an..3
TAX = M an..3 | C C[C an..3; C an..3; C an..3; C an..35] | C C[M an..6; C an..3; C an..3] | C an..15 | C C[C an..7; C an..3; C an..3; C an..17; C an..3; C an..3; C an..3] | C an..3 | C an..35 | C an..3
MOA = M C[M an..3; C n..35; C an..3; C an..3; C an..3]
LIN = C an..6 | C an..3 | C C[C an..35; C an..3; C an..3; C an..3] | C C[M an..3; C an..6] | C n..2 | C an..3
PIA = M an..3 | M C[C an..35; C an..3; C an..3; C an..3] | C C[C an..35; C an..3; C an..3; C an..3] | C C[C an..35; C an..3; C an..3; C an..3] | C C[C an..35; C an..3; C an..3; C an..3] | C C[C an..35; C an..3; C an..3; C an..3]
IMD = C an..3 | C C[C an..3; C an..3; C an..3] | C C[C an..17; C an..3; C an..3; C an..256; C an..256; C an..3] | C an..3
QTY = M C[M an..3; M an..35; C an..8]
PRI = C C[M an..3; C n..15; C an..3; C an..3; C n..9; C an..8] | C an..3
UNS = M a1:D,S
CNT = M C[M an..3; M n..18; C an..8]
PCD = M C[M an..3; M n..10; C an..3; C an..3; C an..3] | C an..3
ALC = M an..3 | C C[C an..35; C an..3] | C an..3 | C an..3 | C C[M an..3; C an..3; C an..3; C an..35; C an..35]
TDT = M an..3 | C an..17 | C C[C an..3; C an..17] | C C[C an..8; C an..17] | C C[C an..17; C an..3; C an..3; C an..35; C an..3] | C an..3 | C C[C an..3; C an..3; C an..3; C an..17] | C C[C an..9; C an..3; C an..3; C an..35; C an..3] | C an..3 | C C[M an..3; C an..3; C an..3]
TOD = C an..3 | C an..3 | C C[C an..3; C an..3; C an..3; C an..70; C an..70]
CPS = M an..35 | C an..35 | C an..3
PAC = C n..8 | C C[C an..3; C an..3; C an..3] | C C[C an..17; C an..3; C an..3; C an..35; C an..17; C an..3; C an..3] | C C[C an..3; C an..3; C an..3; C an..3] | C C[C an..3; C an..3; C an..3]
PCI = C an..3 | C C[M an..35; C an..35; C an..35; C an..35; C an..35; C an..35; C an..35; C an..35; C an..35; C an..35] | C an..3 | C C[M an..3; C an..17; C an..3; C an..3]
GIN = M an..3 | M C[M an..35; C an..35] | C C[M an..35; C an..35] | C C[M an..35; C an..35] | C C[M an..35; C an..35] | C C[M an..35; C an..35]
MEA = M an..3 | C C[C an..3; C an..3; C an..17; C an..70] | C C[M an..8; C n..18; C n..18; C n..18; C n..2] | C an..3
PAT = M an..3 | C C[C an..17; C an..3; C an..3; C an..35; C an..35] | C C[M an..3; C an..3; C an..3; C n..3]
EQD = M an..3 | C C[C an..17; C an..3; C an..3; C an..3] | C C[C an..10; C an..3; C an..3; C an..35] | C an..3 | C an..3 | C an..3
SCC = M an..3 | C an..3 | C an..3 | C C[C an..3; C an..3; C an..3]
TSR = C C[C an..3; C an..3; C an..3] | C C[M an..3; C an..3; C an..3] | C C[C an..35; C an..3; C an..3; C an..35] | C an..3
UCI = M an..14 | M C[M an..35; C an..4; C an..35] | M C[M an..35; C an..4; C an..35] | M an..3:4,7,8 | C an..3 | C an..3 | C C[M an..3; C n..3] | C an..3
UCM = M an..14 | M C[M an..6; M an..3; M an..3; M an..2; C an..6; C an..6] | M an..3:4,7 | C an..3 | C an..3 | C C[M an..3; C n..3] | C an..3
UCF = M an..14 | C C[M an..35; C an..4] | C C[M an..35; C an..4] | M an..3:4,7 | C an..3 | C an..3 | C C[M an..3; C n..3] | C an..3
UCS = M n..6 | C an..3
UCD = M an..3 | M C[M n..3; C n..3; C n..3]
# D96A forms of the elements D01B widened.
QTY@D:96A = M C[M an..3; M n..15; C an..3]
RFF@D:96A = M C[M an..3; C an..35; C an..6; C an..35]
BGM@D:96A = C C[C an..3; C an..3; C an..3; C an..35] | C an..35 | C an..3 | C an..3
NAD@D:96A = M an..3 | C C[M an..35; C an..3; C an..3] | C C[M an..35; C an..35; C an..35; C an..35; C an..35] | C C[M an..35; C an..35; C an..35; C an..35; C an..35; C an..3] | C C[M an..35; C an..35; C an..35; C an..35] | C an..35 | C an..9 | C an..9 | C an..3
"#;

const STRUCTURES: &str = r#"
ORDERS/D:96A,D:01B = UNH M1; BGM M1; DTM M35; PAI O1; ALI O5; IMD O1; FTX O99;
    [SG1 O10: RFF M1; DTM O5];
    [SG2 O99: NAD M1; LOC O99; FII O5; [SG3 O10: RFF M1; DTM O5]; [SG4 O5: DOC M1; DTM O5]; [SG5 O5: CTA M1; COM O5]];
    [SG6 O5: TAX M1; MOA O1; LOC O5];
    [SG7 O5: CUX M1; PCD O5; DTM O5];
    [SG8 O10: PAT M1; DTM O5; PCD O1; MOA O1];
    [SG10 O10: TDT M1; [SG11 O10: LOC M1; DTM O5]];
    [SG12 O5: TOD M1; LOC O2];
    [SG13 O1000: PAC M1; MEA O5; [SG14 O5: PCI M1; RFF O1; DTM O5; GIN O10]];
    [SG15 O10: EQD M1; HAN O5; MEA O5; FTX O5];
    [SG18 O15: ALC M1; ALI O5; DTM O5; [SG19 O5: QTY M1; RNG O1]; [SG20 O5: PCD M1; RNG O1]; [SG21 O5: MOA M1; RNG O1]; [SG22 O5: RTE M1; RNG O1]; [SG23 O10: TAX M1; MOA O1]];
    [SG24 O10: RCS M1; RFF O5; DTM O5; FTX O5];
    [SG25 O200000: LIN M1; PIA O25; IMD O99; MEA O99; QTY O99; PCD O5; ALI O5; DTM O35; MOA O10; GIN O127; GIR O1000; QVR O1; DOC O5; PAI O1; FTX O99;
        [SG26 O999: PAT M1; DTM O5; PCD O1; MOA O1];
        [SG28 O25: PRI M1; CUX O1; APR O1; RNG O1; DTM O5];
        [SG29 O10: RFF M1; DTM O5];
        [SG30 O10: PAC M1; MEA O5; QTY O5; DTM O5; [SG31 O10: RFF M1; DTM O5]; [SG32 O10: PCI M1; RFF O1; DTM O5; GIN O10]];
        [SG33 O9999: LOC M1; QTY O1; DTM O5];
        [SG34 O10: TAX M1; MOA O1; LOC O5];
        [SG35 O999: NAD M1; LOC O5; [SG36 O5: RFF M1; DTM O5]; [SG37 O5: DOC M1; DTM O5]; [SG38 O5: CTA M1; COM O5]];
        [SG39 O99: ALC M1; ALI O5; DTM O5; [SG40 O1: QTY M1; RNG O1]; [SG41 O1: PCD M1; RNG O1]; [SG42 O2: MOA M1; RNG O1]; [SG43 O1: RTE M1; RNG O1]; [SG44 O5: TAX M1; MOA O1]];
        [SG45 O10: TDT M1; [SG46 O10: LOC M1; DTM O5]];
        [SG47 O5: TOD M1; LOC O2];
        [SG48 O10: EQD M1; HAN O5; MEA O5; FTX O5];
        [SG49 O100: SCC M1; FTX O5; RFF O5; [SG50 O10: QTY M1; DTM O5]];
        [SG51 O100: RCS M1; RFF O5; DTM O5; FTX O5]];
    UNS M1; MOA O12; CNT O10; [SG53 O10: ALC M1; ALI O1; MOA O2]; UNT M1

ORDRSP/D:96A,D:01B = UNH M1; BGM M1; DTM M35; PAI O1; ALI O5; IMD O1; FTX O99;
    [SG1 O10: RFF M1; DTM O5];
    [SG3 O99: NAD M1; LOC O25; FII O5; [SG4 O10: RFF M1; DTM O5]; [SG6 O5: CTA M1; COM O5]];
    [SG7 O5: TAX M1; MOA O1; LOC O5];
    [SG8 O5: CUX M1; PCD O5; DTM O5];
    [SG9 O10: PAT M1; DTM O5; PCD O1; MOA O1];
    [SG10 O10: TDT M1; [SG11 O10: LOC M1; DTM O5]];
    [SG12 O5: TOD M1; LOC O2];
    [SG13 O1000: PAC M1; MEA O5; [SG14 O5: PCI M1; RFF O1; DTM O5; GIN O10]];
    [SG19 O15: ALC M1; ALI O5; DTM O5; [SG20 O1: QTY M1; RNG O1]; [SG21 O1: PCD M1; RNG O1]; [SG22 O2: MOA M1; RNG O1]; [SG23 O1: RTE M1; RNG O1]; [SG24 O5: TAX M1; MOA O1]];
    [SG26 O200000: LIN M1; PIA O25; IMD O99; MEA O99; QTY O99; PCD O5; ALI O5; DTM O35; MOA O10; GIN O127; QVR O1; FTX O99;
        [SG27 O999: PAT M1; DTM O5; PCD O1; MOA O1];
        [SG30 O25: PRI M1; CUX O1; APR O1; RNG O1; DTM O5];
        [SG31 O10: RFF M1; DTM O5];
        [SG32 O10: PAC M1; MEA O5; QTY O5; DTM O5; [SG34 O10: PCI M1; RFF O1; DTM O5; GIN O10]];
        [SG35 O9999: LOC M1; QTY O1; DTM O5];
        [SG36 O10: TAX M1; MOA O1; LOC O5];
        [SG37 O999: NAD M1; LOC O5; [SG38 O5: RFF M1; DTM O5]; [SG40 O5: CTA M1; COM O5]];
        [SG41 O99: ALC M1; ALI O5; DTM O5; [SG42 O1: QTY M1; RNG O1]; [SG43 O1: PCD M1; RNG O1]; [SG44 O2: MOA M1; RNG O1]; [SG45 O1: RTE M1; RNG O1]; [SG46 O5: TAX M1; MOA O1]];
        [SG47 O10: TDT M1; [SG48 O10: LOC M1; DTM O5]];
        [SG49 O100: SCC M1; FTX O5; RFF O5; [SG50 O10: QTY M1; DTM O5]]];
    UNS M1; MOA O12; CNT O10; [SG53 O10: ALC M1; ALI O1; MOA O2]; UNT M1

DESADV/D:96A,D:01B = UNH M1; BGM M1; DTM M10; ALI O5; MEA O5; MOA O5; FTX O5;
    [SG1 O10: RFF M1; DTM O1];
    [SG2 O99: NAD M1; LOC O10; [SG3 O10: RFF M1; DTM O1]; [SG4 O10: CTA M1; COM O5]];
    [SG5 O10: TOD M1; LOC O5; FTX O5];
    [SG6 O10: TDT M1; PCD O1; [SG7 O10: LOC M1; DTM O5]];
    [SG8 O99: EQD M1; MEA O5; SEL O25; EQA O5; HAN O5; FTX O5];
    [SG10 O9999: CPS M1; FTX O5;
        [SG11 O9999: PAC M1; MEA O10; QTY O10; [SG12 O10: HAN M1; FTX O5]; [SG13 O1000: PCI M1; RFF O1; DTM O5; GIN O10]];
        [SG15 O9999: LIN M1; PIA O10; IMD O25; MEA O10; QTY O10; ALI O10; GIN O100; GIR O100; DLM O100; DTM O5; FTX O5; MOA O5;
            [SG16 O10: RFF M1; DTM O1];
            [SG17 O100: DGS M1; QTY O1; FTX O5];
            [SG18 O100: LOC M1; NAD O1; DTM O1; QTY O10];
            [SG20 O1000: PCI M1; DTM O5; MEA O10; QTY O1; [SG21 O99: GIN M1; DLM O100]];
            [SG22 O10: QVR M1; DTM O5]]];
    CNT O5; UNT M1

INVOIC/D:96A,D:01B = UNH M1; BGM M1; DTM M35; PAI O1; ALI O5; IMD O1; FTX O99; LOC O10; GIS O10; DGS O1;
    [SG1 O99: RFF M1; DTM O5];
    [SG2 O99: NAD M1; LOC O25; FII O5; [SG3 O9999: RFF M1; DTM O5]; [SG4 O5: DOC M1; DTM O5]; [SG5 O5: CTA M1; COM O5]];
    [SG6 O5: TAX M1; MOA O1; LOC O5];
    [SG7 O99: CUX M1; DTM O5];
    [SG8 O10: PAT M1; DTM O5; PCD O1; MOA O1; PAI O1; FII O1];
    [SG9 O10: TDT M1; [SG10 O10: LOC M1; DTM O5]];
    [SG11 O5: TOD M1; LOC O2];
    [SG12 O1000: PAC M1; MEA O5; [SG13 O5: PCI M1; RFF O1; DTM O5; GIN O10]];
    [SG15 O15: ALC M1; ALI O5; FTX O1; [SG16 O5: RFF M1; DTM O5]; [SG17 O1: QTY M1; RNG O1]; [SG18 O1: PCD M1; RNG O1]; [SG19 O2: MOA M1; RNG O1; CUX O1; DTM O1]; [SG20 O1: RTE M1; RNG O1]; [SG21 O5: TAX M1; MOA O2]];
    [SG22 O100: RCS M1; RFF O5; DTM O5; FTX O5];
    [SG25 O9999999: LIN M1; PIA O25; IMD O10; MEA O5; QTY O5; PCD O1; ALI O5; DTM O35; GIN O1000; GIR O1000; QVR O1; EQD O1; FTX O5;
        [SG26 O99: MOA M1; CUX O1];
        [SG27 O10: PAT M1; DTM O5; PCD O1; MOA O1];
        [SG28 O25: PRI M1; CUX O1; APR O1; RNG O1; DTM O5];
        [SG29 O10: RFF M1; DTM O5];
        [SG30 O10: PAC M1; MEA O10; [SG31 O10: PCI M1; RFF O1; DTM O5; GIN O10]];
        [SG32 O9999: LOC M1; QTY O100; DTM O1];
        [SG33 O99: TAX M1; MOA O1; LOC O5];
        [SG34 O99: NAD M1; LOC O5; [SG35 O5: RFF M1; DTM O5]; [SG36 O5: DOC M1; DTM O5]; [SG37 O5: CTA M1; COM O5]];
        [SG38 O30: ALC M1; ALI O5; DTM O5; [SG39 O1: QTY M1; RNG O1]; [SG40 O1: PCD M1; RNG O1]; [SG41 O2: MOA M1; RNG O1; CUX O1; DTM O1]; [SG42 O1: RTE M1; RNG O1]; [SG43 O5: TAX M1; MOA O2]];
        [SG44 O10: TDT M1; [SG45 O10: LOC M1; DTM O5]];
        [SG46 O5: TOD M1; LOC O2]];
    UNS M1; CNT O10; [SG48 O100: MOA M1; [SG49 O1: RFF M1; DTM O5]]; [SG50 O10: TAX M1; MOA O2]; [SG51 O15: ALC M1; ALI O1; MOA O2]; UNT M1

CONTRL/2:,4:,D:96A,D:01B,D:3,D:4 = UNH M1; UCI M1; [SG1 O999999: UCM M1; [SG2 O999: UCS M1; UCD O99]]; [SG3 O999999: UCF M1; [SG4 O999999: UCM M1; [SG5 O999: UCS M1; UCD O99]]]; UNT M1
"#;

static TABLES: LazyLock<Result<Tables, SpecError>> =
    LazyLock::new(|| parse_tables(SEGMENTS, STRUCTURES));

pub fn tables() -> Result<&'static Tables, &'static SpecError> {
    TABLES.as_ref()
}

#[cfg(test)]
mod tests {
    #[test]
    fn edifact_tables_parse_and_cover_every_supported_message() {
        let t = super::tables().expect("edifact tables");
        for m in ["ORDERS", "ORDRSP", "DESADV", "INVOIC"] {
            for v in ["D:96A:UN", "D:01B:UN"] {
                assert!(t.set(m, v).is_some(), "{m}/{v} missing");
            }
        }
        assert!(t.set("CONTRL", "D:3:UN").is_some());
        assert!(t.set("ORDERS", "D:97A:UN").is_none());
    }
}
